package runbook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/incident-cli/incident/pagers"
	"github.com/incident-cli/incident/publishers"
)

// isPaging reports whether an action is a paging action: those run
// concurrently, apart from the others, so a pager that hangs never holds
// up another pager, the automatic first update or a retry.
func isPaging(a Action) bool {
	return a.Kind == ActionPage || a.Kind == ActionPoll || a.Kind == ActionCancel
}

// pagingRun is one tick's paging actions in flight.
type pagingRun struct {
	wg   sync.WaitGroup
	mu   sync.Mutex
	done []Done
}

func (p *pagingRun) add(d Done) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done = append(p.done, d)
}

// wait waits for every page in flight and returns what was done.
func (p *pagingRun) wait() []Done {
	p.wg.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.done
}

// job is one page, cancel or poll ready to go out.
type job struct {
	action Action
	page   pagers.Page
	pager  *Pager
	rec    PageRecord // the sending record: the result repeats its fields
	polls  []*PageState
}

// startPaging begins an incident's paging actions: under the incident's
// lock it checks each is still due, claims them (with git sync: one push
// for all), checks again, and records a "sending" event for each page
// before it goes out; then, without the lock, it sends them all at once,
// each within PageTimeout, and records each result as it arrives. A
// process killed mid-page leaves a page whose outcome is unknown, tried
// again PageStale later (with the same key). Polls are read-only and are
// not claimed.
func (r *Runbook) startPaging(ctx context.Context, id string, acts []Action, now time.Time, run *pagingRun) {
	note := func(a Action, why string) { run.add(Done{Action: a, Note: why}) }
	fail := func(a Action, err error) { run.add(Done{Action: a, Error: r.Secrets.Redact(err.Error())}) }
	lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	unlock, err := r.Store.Lock(lctx, id)
	cancel()
	if err != nil {
		for _, a := range acts {
			note(a, "busy: another command holds the incident; the next tick tries again")
		}
		return
	}
	locked := true
	defer func() {
		if locked {
			unlock()
		}
	}()
	inc, err := r.Store.LoadFresh(id)
	if err != nil {
		for _, a := range acts {
			fail(a, err)
		}
		return
	}
	var keep []Action
	var keys []string
	for _, a := range acts {
		if !r.stillDue(inc, a.Key, now) {
			note(a, "no longer due")
			continue
		}
		keep = append(keep, a)
		if a.Kind != ActionPoll {
			keys = append(keys, actionKey(a.Key))
		}
	}
	skip, err := r.coordinate(ctx, id, keys, "pages")
	if err != nil {
		for _, a := range keep {
			fail(a, err)
		}
		return
	}
	if inc, err = r.Store.LoadFresh(id); err != nil {
		for _, a := range keep {
			fail(a, err)
		}
		return
	}
	plans := map[string]planned{}
	for _, p := range r.plans(inc, now) {
		plans[p.key] = p
	}
	var jobs []job
	for _, a := range keep {
		if why := skip[actionKey(a.Key)]; why != "" {
			note(a, why)
			continue
		}
		if !r.stillDue(inc, a.Key, now) {
			note(a, "no longer due")
			continue
		}
		j := job{action: a}
		switch a.Kind {
		case ActionPoll:
			j.polls = r.pollable(inc, now)
			jobs = append(jobs, j)
			continue
		case ActionCancel:
			name := strings.TrimPrefix(a.Key, "cancel/")
			j.pager = r.Pager(name)
			j.rec = PageRecord{Kind: PageCancel, Pager: name}
		default:
			p, ok := plans[a.Key]
			if !ok {
				note(a, "no longer due")
				continue
			}
			j.pager = p.target.pager
			j.rec = PageRecord{Kind: p.kind, Pager: p.target.pager.Name, Person: p.target.person, OnCall: p.target.onCall, Note: p.target.note}
			kind, level := pagers.KindAlert, 0
			if p.kind == PageAck {
				kind = pagers.KindAck
			} else {
				level = p.level.N
				j.rec.Level, j.rec.Round, j.rec.Urgent = p.level.N, p.round, p.level.Urgent && inc.Severity != "minor"
			}
			j.page = r.composePage(inc, kind, j.pager, p.target.person, level, j.rec.Urgent, a.Key, "")
		}
		rec := j.rec
		rec.State = PageSending
		e := Event{Kind: KindPage, At: r.Now(), By: r.Responder, Host: r.Host, Action: a.Key, Page: &rec}
		if err := r.Store.Append(id, &e); err != nil {
			fail(a, err)
			continue
		}
		jobs = append(jobs, j)
	}
	unlock()
	locked = false
	for _, j := range jobs {
		run.wg.Add(1)
		go func() {
			defer run.wg.Done()
			switch j.action.Kind {
			case ActionPoll:
				run.add(r.poll(ctx, inc, j))
			case ActionCancel:
				run.add(r.cancelEmergencies(ctx, inc, j))
			default:
				run.add(r.sendPage(ctx, inc, j))
			}
		}()
	}
}

// sendPage makes one attempt at a page and records its result.
func (r *Runbook) sendPage(ctx context.Context, inc *Incident, j job) Done {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.pageTimeout())
	rec, err := j.pager.Pager.Page(actx, j.page)
	if err != nil && actx.Err() == context.DeadlineExceeded {
		err = fmt.Errorf("%w (no answer within %s)", err, r.pageTimeout())
	}
	cancel()
	return r.recordPage(inc, j, &rec, err, 1)
}

// pageTimeout bounds one attempt: PageTimeout, or the retry policy's
// attempt timeout when one is set (tests).
func (r *Runbook) pageTimeout() time.Duration {
	if r.RetryPolicy.Attempts != 0 {
		return r.RetryPolicy.Timeout
	}
	return PageTimeout
}

// recordPage appends a page's result and says what was done.
func (r *Runbook) recordPage(inc *Incident, j job, rec *pagers.Receipt, err error, attempts int) Done {
	done := Done{Action: j.action}
	res := j.rec
	res.Attempts = attempts
	if rec != nil && (rec.ID != "" || len(rec.To) > 0) {
		if rec.At.IsZero() {
			rec.At = r.Now()
		}
		res.Receipt = rec
	}
	if err == nil {
		res.State = PageSent
		done.Note = r.pageNote(inc, j)
	} else {
		msg := r.Secrets.Redact(err.Error())
		res.State, res.Error, res.Permanent = PageFailed, msg, !publishers.Retryable(err)
		if ra := publishers.RetryAfter(err); ra > 0 {
			t := r.Now().Add(ra)
			res.RetryAt = &t
		}
		done.Error = j.rec.Pager + ": " + msg
		if res.Receipt != nil && len(res.Receipt.To) > 0 {
			done.Error += " (reached " + strings.Join(res.Receipt.To, ", ") + ")"
		}
	}
	e := Event{Kind: KindPage, At: r.Now(), By: r.Responder, Host: r.Host, Action: j.action.Key, Page: &res}
	if j.rec.Kind == PageManual {
		e.Text = j.page.Summary
	}
	if werr := r.Store.Append(inc.ID, &e); werr != nil {
		if done.Error != "" {
			done.Error += fmt.Sprintf("; recording the failure failed too (%v)", werr)
		} else {
			done.Error = fmt.Sprintf("%s: paged, but recording it failed (%v); it may be paged again", j.rec.Pager, werr)
		}
	}
	return done
}

// pageNote says what a page did: "paged alice by phones (level 2, urgent)".
func (r *Runbook) pageNote(inc *Incident, j job) string {
	who := j.rec.Person
	if who == "" {
		who = "everyone"
	}
	switch j.rec.Kind {
	case PageCancel:
		return "cancelled the emergencies still repeating on " + j.rec.Pager
	case PageAck:
		return fmt.Sprintf("told %s by %s: %s", who, j.rec.Pager, r.ackText(inc))
	}
	s := fmt.Sprintf("paged %s by %s", who, j.rec.Pager)
	var facts []string
	if j.rec.Level > 0 {
		facts = append(facts, fmt.Sprintf("level %d", j.rec.Level))
	}
	if j.rec.Round > 0 {
		facts = append(facts, fmt.Sprintf("repeat %d", j.rec.Round))
	}
	if j.rec.Urgent {
		facts = append(facts, "urgent")
	}
	if j.rec.OnCall {
		facts = append(facts, "on call")
	}
	if len(facts) > 0 {
		s += " (" + strings.Join(facts, ", ") + ")"
	}
	return s
}

// cancelEmergencies stops the emergencies still repeating on one pager.
func (r *Runbook) cancelEmergencies(ctx context.Context, inc *Incident, j job) Done {
	c, ok := j.pager.Pager.(pagers.Canceller)
	if !ok {
		return r.recordPage(inc, j, nil, publishers.Permanent(errors.New("the pager cannot cancel pages")), 1)
	}
	var rs []pagers.Receipt
	for _, p := range inc.Pages {
		if p.Pager == j.pager.Name && p.Urgent {
			rs = append(rs, p.Receipts...)
		}
	}
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.pageTimeout())
	err := c.Cancel(actx, inc.ID, rs)
	cancel()
	return r.recordPage(inc, j, nil, err, 1)
}

// poll reads back each pollable emergency once; the first one
// acknowledged is recorded as the incident's acknowledgement, by the
// person who tapped it ("pushover").
func (r *Runbook) poll(ctx context.Context, inc *Incident, j job) Done {
	done := Done{Action: j.action, Quiet: true}
	r.markPolled(inc.ID, r.Now())
	var errs []string
	for _, p := range j.polls {
		pg := r.Pager(p.Pager)
		poller, ok := pg.Pager.(pagers.AckPoller)
		if !ok {
			continue
		}
		expired := len(p.Receipts) > 0
		for _, rec := range p.Receipts {
			actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.pageTimeout())
			ack, err := poller.Acknowledged(actx, rec)
			cancel()
			if err != nil {
				errs = append(errs, p.Pager+": "+r.Secrets.Redact(err.Error()))
				expired = false
				continue
			}
			if ack.Acknowledged {
				return r.recordPollAck(ctx, inc, p, pg, ack, done)
			}
			expired = expired && ack.Expired
		}
		if expired {
			r.markOut(inc.ID, p.Key)
		}
	}
	if len(errs) > 0 {
		done.Quiet, done.Error = false, "poll: "+strings.Join(errs, "; ")
	}
	return done
}

// recordPollAck records an acknowledgement read back from a pager.
func (r *Runbook) recordPollAck(ctx context.Context, inc *Incident, p *PageState, pg *Pager, ack pagers.Ack, done Done) Done {
	done.Quiet = false
	lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	unlock, err := r.Store.Lock(lctx, inc.ID)
	cancel()
	if err != nil {
		done.Note = "acknowledged on " + pg.Name + " by " + ack.By + "; the incident is busy: the next poll records it"
		r.markPolled(inc.ID, time.Time{})
		return done
	}
	defer unlock()
	fresh, err := r.Store.LoadFresh(inc.ID)
	if err != nil {
		done.Error = err.Error()
		return done
	}
	if fresh.Acked() {
		done.Note = "already acknowledged by " + fresh.AckedBy
		return done
	}
	by := ack.By
	if by == "" {
		by = "someone"
	}
	text := fmt.Sprintf("acknowledged the urgent page on %s", pg.Name)
	if !ack.At.IsZero() {
		text += " at " + r.clockText(ack.At)
	}
	e := Event{Kind: KindAck, At: r.Now(), By: by, Host: r.Host, How: pg.Type, Text: text}
	if err := r.Store.Append(inc.ID, &e); err != nil {
		done.Error = err.Error()
		return done
	}
	done.Note = fmt.Sprintf("acknowledged by %s on %s (level %d): paging stops", by, pg.Name, p.Level)
	return done
}

// composePage builds a page for an incident: title, severity, services,
// since when it fires, the first firing alert's summary (or summary, for
// a page by hand), the command to acknowledge, and the thread of the
// pager's pages. Subject and Text are rendered here, once, for every
// pager. Pages never hold a link to the status page or a secret.
func (r *Runbook) composePage(inc *Incident, kind pagers.Kind, pg *Pager, person string, level int, urgent bool, key, summary string) pagers.Page {
	now := r.Now()
	names := make([]string, len(inc.Services))
	for i, s := range inc.Services {
		names[i] = pagers.Plain(r.ServiceName(s))
	}
	p := pagers.Page{Key: inc.ID + "/" + key, Kind: kind, Incident: inc.ID, Title: pagers.Plain(inc.Title), Severity: inc.Severity,
		Services: names, Since: inc.OpenedAt, Level: level, Urgent: urgent, Person: person,
		AckCommand: "incident ack " + inc.ID, Now: now}
	if a := inc.FirstAlert(); a != nil {
		if !a.FiredAt.IsZero() {
			p.Since = a.FiredAt
		}
		p.Summary = a.Summary
		if fs := inc.Firing(); len(fs) > 0 {
			p.Summary = fs[0].Summary
			if p.Summary == "" {
				p.Summary = fs[0].Label()
			}
		}
	}
	if summary != "" {
		p.Summary = summary
	}
	p.Summary = pagers.Cut(pagers.Plain(p.Summary), 300, nil)
	for _, x := range inc.Pages {
		if x.Pager == pg.Name && len(x.Receipts) > 0 {
			rec := x.Receipts[0]
			p.Thread = &rec
			break
		}
	}
	if kind == pagers.KindManual && inc.Acked() {
		p.AckCommand = "" // someone is on it already: the page names the incident
	}
	if kind == pagers.KindAck {
		at, by, _ := standDownAt(inc)
		p.AckedBy, p.AckedAt = by, at
	}
	p.Subject = pagers.Subject(p)
	p.Text = pagers.Body(p, pg.Name, r.Templates.When)
	if kind == pagers.KindAck && p.AckedBy == "" {
		// Closed before anyone acknowledged: recovered, dismissed, resolved.
		s := pagers.Subject(pagers.Page{Kind: pagers.KindAlert, Severity: "closed", Services: p.Services, Title: p.Title, Incident: p.Incident})
		p.Subject = s + " (" + pagers.Plain(r.ackText(inc)) + ")"
		p.Text = fmt.Sprintf("Stand down: the incident %s. You need not act.\n\n%s\nIncident: %s\n", pagers.Plain(r.ackText(inc)), p.Title, inc.ID)
	}
	return p
}

// pollCache remembers, on this machine, when each incident's emergencies
// were last polled and which receipts expired: a rebuildable cache in the
// state directory (losing it costs one early poll), never in the runbook.
type pollCache struct {
	mu     sync.Mutex
	loaded bool
	Last   map[string]time.Time `json:"last"`
	Out    map[string]bool      `json:"out"` // incident/key: every receipt expired
}

func (r *Runbook) pollsFile() string { return filepath.Join(r.StateDir, "polls.json") }

// withPolls runs f on the cache, loaded from disk the first time; save
// writes it back.
func (r *Runbook) withPolls(save bool, f func(c *pollCache)) {
	if r.polls == nil {
		r.polls = &pollCache{}
	}
	c := r.polls
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.loaded || save {
		if b, err := os.ReadFile(r.pollsFile()); err == nil {
			_ = json.Unmarshal(b, c)
		}
		c.loaded = true
	}
	if c.Last == nil {
		c.Last, c.Out = map[string]time.Time{}, map[string]bool{}
	}
	f(c)
	if !save {
		return
	}
	now := r.Now()
	for k, t := range c.Last {
		if now.Sub(t) > 2*EmergencyLife {
			delete(c.Last, k)
		}
	}
	if b, err := json.Marshal(c); err == nil && os.MkdirAll(r.StateDir, 0o700) == nil {
		_ = writeCache(r.StateDir, "polls.json", b)
	}
}

func (r *Runbook) lastPoll(id string) (t time.Time) {
	r.withPolls(false, func(c *pollCache) { t = c.Last[id] })
	return t
}

func (r *Runbook) markPolled(id string, at time.Time) {
	r.withPolls(true, func(c *pollCache) { c.Last[id] = at })
}

func (r *Runbook) polledOut(id, key string) (out bool) {
	r.withPolls(false, func(c *pollCache) { out = c.Out[id+"/"+key] })
	return out
}

func (r *Runbook) markOut(id, key string) {
	r.withPolls(true, func(c *pollCache) { c.Out[id+"/"+key] = true })
}
