package runbook

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/incident-cli/incident/pagers"
)

// Paging staff as timed actions. What is due comes from the fold, the
// config and the clock (and, for polls, when this machine last polled):
//
//   - level N of the incident's policy, at its `after` (counting only time
//     outside quiet hours for incidents that are not critical), while the
//     incident is open, came from an alert, and nobody acknowledged; the
//     last level again every `repeat` (only its newest round: rounds a
//     stopped daemon missed are not made up). Each (level, round, pager,
//     person) is one action with its own key, "page/2/0/phones/alice", done
//     once across restarts and machines (the log and the claims);
//   - once acknowledged (or closed), a stand-down page to everyone already
//     paged ("ack/phones/alice"), and the cancelling of the emergencies
//     still repeating ("cancel/phones");
//   - while unacknowledged, a poll of the emergencies' receipts every
//     PollEvery: an acknowledgement read back is an ack event;
//   - a page that failed, again after a backoff from its last failure
//     (pageBackoff), or after the time the service asked for; a page whose
//     process died mid-attempt, PageStale after it began.
//
// Incidents a person opened never page by themselves: the person who opens
// one has acknowledged it by publishing its first update, and calls
// colleagues in with `incident page` (the open checklist's page step).

// The kinds of paging action.
const (
	// ActionPage pages one target: a level's, a stand-down, or a retry.
	ActionPage = "page"
	// ActionPoll reads back whether an emergency was acknowledged.
	ActionPoll = "poll"
	// ActionCancel stops the outstanding emergencies on one pager.
	ActionCancel = "cancel"
)

// Page kinds in the record.
const (
	PageAlert  = "alert"
	PageAck    = "ack"
	PageManual = "manual"
	PageCancel = "cancel"
)

// Page states in the record.
const (
	PageSending = "sending"
	PageSent    = "sent"
	PageFailed  = "failed"
)

// Timing of pages.
const (
	// PollEvery is how often an unacknowledged emergency's receipt is read
	// (Pushover allows once every 5 s).
	PollEvery = 15 * time.Second
	// PageStale is when a page whose attempt began but has no result (its
	// process died) is tried again; an attempt (PageTimeout) ends well
	// within it.
	PageStale = time.Minute
	// PageTimeout bounds one attempt of a timed page.
	PageTimeout = 30 * time.Second
	// MaxPageFailures is how often a page is tried before it is given up.
	MaxPageFailures = 10
	// EmergencyLife bounds how long an emergency can still be repeating
	// (Pushover's longest `expire`): after it, nothing is polled or
	// cancelled.
	EmergencyLife = 3 * time.Hour
	// StandDownWithin is how long after an acknowledgement (or the close)
	// stand-down pages are still sent.
	StandDownWithin = 24 * time.Hour
)

// pageKey is a level's page key: "page/LEVEL/ROUND/PAGER[/PERSON]".
func pageKey(level, round int, pager, person string) string {
	k := fmt.Sprintf("page/%d/%d/%s", level, round, pager)
	if person != "" {
		k += "/" + person
	}
	return k
}

// standDownKey is a stand-down page's key: "ack/PAGER[/PERSON]".
func standDownKey(pager, person string) string {
	if person == "" {
		return "ack/" + pager
	}
	return "ack/" + pager + "/" + person
}

// pageBackoff is the wait before the next try of a page that failed n
// times: 15 s, 30 s, 1 min, 2, 4, then every 5 minutes.
func pageBackoff(n int) time.Duration {
	return min(15*time.Second<<min(max(n-1, 0), 6), 5*time.Minute)
}

// pageDue says since when an action whose page is st (nil: none yet) is
// due, given that it first comes due at at; ok is false when nothing is
// left to do (sent, given up, refused for good).
func pageDue(st *PageState, at time.Time) (time.Time, bool) {
	switch {
	case st == nil:
		return at, true
	case st.State == PageSent:
		return time.Time{}, false
	case st.State == PageSending:
		return whole(st.At).Add(PageStale), true
	case st.Permanent || st.Failures >= MaxPageFailures:
		return time.Time{}, false
	}
	next := whole(st.At).Add(pageBackoff(st.Failures))
	if st.RetryAt.After(next) {
		next = st.RetryAt
	}
	return next, true
}

// whole drops the fraction of a second from a recorded time: the log
// nudges an event's time by nanoseconds to keep its order, and a wait
// counted from it should not miss a tick for that.
func whole(t time.Time) time.Time { return t.Truncate(time.Second) }

// policyFor returns the escalation policy of an incident's route: the
// route's `escalation`, the default policy when it names none; nil for
// "off" or when there is no such policy.
func (r *Runbook) policyFor(inc *Incident) *Policy {
	name := ""
	for _, rt := range r.Config.Alerts.Routes {
		if rt.Name == inc.Route {
			name = rt.Escalation
		}
	}
	if name == "off" {
		return nil
	}
	return r.Escalation.Policy(name)
}

// pagingHeld says why an incident's ladder does not page now: under
// maintenance, when its route records alerts there without paging.
func (r *Runbook) pagingHeld(inc *Incident, now time.Time) string {
	if !r.inMaintenance(inc, now) {
		return ""
	}
	for _, rt := range r.Config.Alerts.Routes {
		if rt.Name == inc.Route && rt.DuringMaintenance != "record" {
			return ""
		}
	}
	return "its service is under maintenance (the route's during_maintenance is \"record\")"
}

// quietFor returns the quiet hours that apply to an incident: none for a
// critical one.
func (r *Runbook) quietFor(inc *Incident) *window {
	if r.Escalation == nil || r.Escalation.Quiet == nil || inc.Severity == "critical" {
		return nil
	}
	return &r.Escalation.Quiet.win
}

// LadderStart is when an incident's escalation began: when it was
// triggered.
func LadderStart(inc *Incident) time.Time { return inc.OpenedAt }

// levelRound returns the round of level l due at now (its newest one, for
// a level that repeats) and when it comes due.
func (r *Runbook) levelRound(inc *Incident, l *Level, now time.Time) (round int, at time.Time) {
	q := r.quietFor(inc)
	start := LadderStart(inc)
	at = paceEnd(q, start, l.After)
	if l.Repeat > 0 && !now.Before(at) {
		round = int(activeTime(q, at, now) / l.Repeat)
		at = paceEnd(q, at, time.Duration(round)*l.Repeat)
	}
	return round, at
}

// resolved is one page a target comes to at a moment.
type resolved struct {
	pager  *Pager
	person string
	onCall bool
	note   string
}

// resolve turns a level's target into pages at moment at: "NAME" into one
// page per person of a pager that pages people one by one (else one page
// for everyone), "NAME:oncall" into the person the rota names at at
// (everyone, with a note, when it names no one). emailOnly (a minor
// incident) keeps email pagers only.
func (r *Runbook) resolve(t Target, at time.Time, emailOnly bool) []resolved {
	p := r.Pager(t.Pager)
	if p == nil || (emailOnly && !p.Email()) {
		return nil
	}
	one := func(person string) []resolved { return []resolved{{pager: p, person: person}} }
	everyone := func(note string) []resolved {
		if !p.PerPerson {
			return []resolved{{pager: p, note: note}}
		}
		var out []resolved
		for _, who := range p.People {
			out = append(out, resolved{pager: p, person: who, note: note})
		}
		return out
	}
	switch t.Person {
	case "":
		return everyone("")
	case OnCallPerson:
		who := r.OnCall(at)
		if who == "" {
			return everyone(fmt.Sprintf("nobody is on call in the [[rota]] at %s: everyone in %s's `to`", r.Templates.When(at), p.Name))
		}
		out := one(who)
		out[0].onCall = true
		return out
	}
	return one(t.Person)
}

// pagingDue lists the paging actions due for an incident at now.
func (r *Runbook) pagingDue(inc *Incident, now time.Time) []Action {
	if len(r.Pagers) == 0 {
		return nil
	}
	var out []Action
	add := func(kind, key string, at time.Time, why string) {
		out = append(out, Action{Incident: inc.ID, Kind: kind, Key: key, Due: at, Why: why})
	}
	for _, p := range r.plans(inc, now) {
		if at, ok := pageDue(inc.Page(p.key), p.at); ok && !now.Before(at) {
			add(ActionPage, p.key, at, p.why(r, inc))
		}
	}
	for _, name := range r.toCancel(inc, now) {
		key := "cancel/" + name
		at, _, _ := standDownAt(inc)
		if due, ok := pageDue(inc.Page(key), at); ok && !now.Before(due) {
			add(ActionCancel, key, due, "cancel the emergencies still repeating on "+name+": "+r.ackText(inc))
		}
	}
	if at, ok := r.pollDue(inc, now); ok {
		add(ActionPoll, ActionPoll, at, "read back whether an emergency was acknowledged")
	}
	return out
}

// planned is one page the ladder or a stand-down calls for.
type planned struct {
	key    string
	kind   string
	level  *Level
	round  int
	at     time.Time // when it comes due
	target resolved
	policy string
}

// plans lists the pages the ladder and the stand-downs call for at now.
func (r *Runbook) plans(inc *Incident, now time.Time) []planned {
	return append(r.ladder(inc, now), r.standDowns(inc, now)...)
}

func (p planned) why(r *Runbook, inc *Incident) string {
	if p.kind == PageAck {
		who := p.target.pager.Name
		if p.target.person != "" {
			who += ":" + p.target.person
		}
		return "stand-down to " + who + ": " + r.ackText(inc)
	}
	what := fmt.Sprintf("level %d of policy %q", p.level.N, p.policy)
	if p.round > 0 {
		what += fmt.Sprintf(", repeat %d", p.round)
	}
	who := p.target.pager.Name
	if p.target.person != "" {
		who += ":" + p.target.person
	}
	s := what + ": " + who
	if p.level.Urgent {
		s += " (urgent)"
	}
	return s
}

// ladder lists the pages of the incident's escalation that have come due
// by now, in level order; none once acknowledged, closed, or held.
func (r *Runbook) ladder(inc *Incident, now time.Time) []planned {
	if !inc.FromAlert || !inc.Open() || inc.Acked() || r.pagingHeld(inc, now) != "" {
		return nil
	}
	pol := r.policyFor(inc)
	if pol == nil {
		return nil
	}
	var out []planned
	seen := map[string]bool{}
	for _, l := range pol.Levels {
		round, at := r.levelRound(inc, l, now)
		if now.Before(at) {
			continue
		}
		for _, t := range l.Targets {
			for _, x := range r.resolve(t, at, inc.Severity == "minor") {
				key := pageKey(l.N, round, x.pager.Name, x.person)
				if seen[key] {
					continue
				}
				seen[key] = true
				out = append(out, planned{key: key, kind: PageAlert, level: l, round: round, at: at, target: x, policy: pol.Name})
			}
		}
	}
	return out
}

// NextPage is the ladder's next level for an incident at now: its level,
// when it comes due, and its targets; ok is false when nothing more will
// page (acknowledged, closed, no policy, the last level paged).
func (r *Runbook) NextPage(inc *Incident, now time.Time) (level int, at time.Time, targets []string, ok bool) {
	if !inc.FromAlert || !inc.Open() || inc.Acked() {
		return 0, time.Time{}, nil, false
	}
	pol := r.policyFor(inc)
	if pol == nil {
		return 0, time.Time{}, nil, false
	}
	for _, l := range pol.Levels {
		round, due := r.levelRound(inc, l, now)
		if !due.After(now) && l.Repeat > 0 {
			round++
			due = paceEnd(r.quietFor(inc), paceEnd(r.quietFor(inc), LadderStart(inc), l.After), time.Duration(round)*l.Repeat)
		}
		if due.After(now) {
			for _, t := range l.Targets {
				targets = append(targets, t.String())
			}
			return l.N, due, targets, true
		}
	}
	return 0, time.Time{}, nil, false
}

// standDownAt is when stand-down pages and cancels come due: when someone
// acknowledged, else when the incident closed (dismissed, recovered or
// resolved); by is who acknowledged ("" when it closed).
func standDownAt(inc *Incident) (at time.Time, by string, ok bool) {
	switch {
	case inc.Acked():
		return inc.AckedAt, inc.AckedBy, true
	case inc.Status == Dismissed:
		return inc.DismissedAt, "", true
	case inc.Status == Resolved:
		return inc.ResolvedAt, "", true
	}
	return time.Time{}, "", false
}

// standDowns lists the stand-down pages the incident calls for: one per
// pager and person an alert page reached, except the person who
// acknowledged, and except people of a pager whose page to everyone went
// out (they get that one's stand-down).
func (r *Runbook) standDowns(inc *Incident, now time.Time) []planned {
	at, by, ok := standDownAt(inc)
	if !ok || now.Sub(at) > StandDownWithin {
		return nil
	}
	everyone := map[string]bool{}
	for _, p := range inc.Pages {
		if p.Kind == PageAlert && p.Delivered() && p.Person == "" {
			everyone[p.Pager] = true
		}
	}
	var out []planned
	seen := map[string]bool{}
	for _, p := range inc.Pages {
		pg := r.Pager(p.Pager)
		switch {
		case p.Kind != PageAlert || !p.Delivered() || pg == nil:
			continue
		case p.Person != "" && (everyone[p.Pager] || p.Person == by):
			continue
		}
		key := standDownKey(p.Pager, p.Person)
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, planned{key: key, kind: PageAck, at: at, target: resolved{pager: pg, person: p.Person}})
	}
	return out
}

// toCancel lists the pagers with emergencies that may still be repeating
// once the incident is acknowledged or closed: urgent pages delivered by a
// pager that can cancel them, within EmergencyLife.
func (r *Runbook) toCancel(inc *Incident, now time.Time) []string {
	at, _, ok := standDownAt(inc)
	if !ok {
		return nil
	}
	var out []string
	for _, p := range inc.Pages {
		pg := r.Pager(p.Pager)
		if pg == nil || !p.Urgent || !p.Delivered() || slices.Contains(out, p.Pager) || at.Sub(p.SentAt) > EmergencyLife {
			continue
		}
		if _, ok := pg.Pager.(pagers.Canceller); ok {
			out = append(out, p.Pager)
		}
	}
	return out
}

// pollable lists the pages whose emergency receipts can be polled: urgent,
// delivered by a pager that reads acknowledgements back, not yet known to
// have expired, within EmergencyLife.
func (r *Runbook) pollable(inc *Incident, now time.Time) []*PageState {
	if !inc.Open() || inc.Acked() {
		return nil
	}
	var out []*PageState
	for _, p := range inc.Pages {
		pg := r.Pager(p.Pager)
		if pg == nil || !p.Urgent || !p.Delivered() || now.Sub(p.SentAt) > EmergencyLife || r.polledOut(inc.ID, p.Key) {
			continue
		}
		if _, ok := pg.Pager.(pagers.AckPoller); ok {
			out = append(out, p)
		}
	}
	return out
}

// pollDue says since when a poll is due: PollEvery after this machine's
// last poll of the incident (or after the first emergency went out).
func (r *Runbook) pollDue(inc *Incident, now time.Time) (time.Time, bool) {
	ps := r.pollable(inc, now)
	if len(ps) == 0 {
		return time.Time{}, false
	}
	first := ps[0].SentAt
	for _, p := range ps {
		if p.SentAt.Before(first) {
			first = p.SentAt
		}
	}
	at := whole(first).Add(PollEvery)
	if last := whole(r.lastPoll(inc.ID)); !last.IsZero() && last.Add(PollEvery).After(at) {
		at = last.Add(PollEvery)
	}
	return at, !now.Before(at)
}

// ackText says who acknowledged, for stand-downs and reasons.
func (r *Runbook) ackText(inc *Incident) string {
	at, by, _ := standDownAt(inc)
	switch {
	case by != "":
		return fmt.Sprintf("acknowledged by %s at %s", by, r.clockText(at))
	case inc.Status == Dismissed:
		return fmt.Sprintf("closed at %s: %s", r.clockText(at), inc.Reason)
	}
	return fmt.Sprintf("resolved at %s", r.clockText(at))
}

// clockText is "12:09 CET (11:09 UTC)" in the runbook's zones.
func (r *Runbook) clockText(t time.Time) string {
	parts := make([]string, 0, len(r.Zones))
	for _, z := range r.Zones {
		parts = append(parts, t.In(z).Format("15:04 MST"))
	}
	if len(parts) <= 1 {
		return strings.Join(parts, "")
	}
	return parts[0] + " (" + strings.Join(parts[1:], ", ") + ")"
}
