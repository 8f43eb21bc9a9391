package runbook

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/incident-cli/incident/templates"
)

// The kinds of timed action.
const (
	// ActionAutoPost publishes an alert's automatic first update: nobody
	// acknowledged or published within the route's publish_after and an
	// alert still fires.
	ActionAutoPost = "autopost"
	// ActionRecover closes a private incident whose alerts all resolved
	// before anything was published or anyone acknowledged.
	ActionRecover = "recover"
	// ActionRetry delivers what a failed channel or a killed process left
	// undelivered, with backoff.
	ActionRetry = "retry"
)

// AloneAfter is how long past its due time a timed action waits for the
// shared runbook's remote to come back before this machine does it without
// a claim.
const AloneAfter = 5 * time.Minute

// Action is one thing a timer must do now. Key is the action's claim and
// idempotency key within its incident: the same on every machine, so two
// daemons never both carry it out.
type Action struct {
	Incident string    `json:"incident"`
	Kind     string    `json:"kind"`
	Key      string    `json:"key"`
	Due      time.Time `json:"due"` // since when it is due
	Why      string    `json:"why"`
}

// Due says what is due for an incident at now: a pure function of the
// record, the config and the clock. The timers of `incident serve` and
// `incident tick` carry out what it returns; nothing else holds their state,
// so a restarted or killed daemon loses nothing.
func (r *Runbook) Due(inc *Incident, now time.Time) []Action {
	var out []Action
	add := func(kind, key string, at time.Time, why string) {
		out = append(out, Action{Incident: inc.ID, Kind: kind, Key: key, Due: at, Why: why})
	}
	if recoverable(inc) {
		add(ActionRecover, ActionRecover, inc.RecoveredAt(), "every alert resolved before anything was published")
	}
	if at, ok := inc.AutoPostAt(); ok && !now.Before(at) && r.MaintenanceAllows(inc, now, "publish") {
		add(ActionAutoPost, ActionAutoPost, at, fmt.Sprintf("no one acknowledged within %s of the alert (%s), which still fires",
			templates.Duration(inc.PublishAfter), inc.FirstAlert().Label()))
	}
	out = append(out, r.maintenanceDue(inc, now)...)
	if at, ok := retryDue(inc, now); ok {
		add(ActionRetry, ActionRetry, at, "undelivered posts")
	}
	return append(out, r.pagingDue(inc, now)...)
}

// retryDue says whether undelivered posts are due for another try: a post
// left pending a minute ago (its process died), or one that failed with a
// retryable error, after a backoff that doubles with each failure (1 min,
// 2, 4, ... at most 30). Permanent failures wait for a person.
func retryDue(inc *Incident, now time.Time) (time.Time, bool) {
	var due time.Time
	found := false
	for _, u := range inc.Updates {
		for _, d := range u.Deliveries {
			var at time.Time
			switch {
			case d.Done() || d.Permanent:
				continue
			case d.State == Pending:
				at = u.Event.At.Add(time.Minute)
			default:
				wait := time.Minute << min(max(d.Failures-1, 0), 5)
				at = d.At.Add(min(wait, 30*time.Minute))
			}
			if !found || at.Before(due) {
				due, found = at, true
			}
		}
	}
	return due, found && !now.Before(due)
}

// Done is what a timer did.
type Done struct {
	Action Action  `json:"action"`
	Result *Result `json:"-"` // for ActionAutoPost and ActionRetry
	Note   string  `json:"note,omitempty"`
	Error  string  `json:"error,omitempty"`
	// Quiet: nothing worth a line happened (a poll that found no
	// acknowledgement).
	Quiet bool `json:"-"`
}

// Tick runs the timers once: for every open incident (and every incident
// with undelivered posts), what is due at now is carried out. Each action
// is done under the incident's lock, and with git sync under a claim, so a
// second daemon or a person acting at the same time never makes it happen
// twice. One failing action never stops the others.
func (r *Runbook) Tick(ctx context.Context, now time.Time, opt PublishOptions) ([]Done, error) {
	sums, err := r.Summaries()
	if err != nil {
		return nil, err
	}
	var out []Done
	// Pages go out concurrently, started first, so that a pager that
	// hangs holds up neither another pager nor the other actions.
	run := &pagingRun{}
	var seq []Action
	for _, s := range sums {
		if !s.Open() && s.Undelivered == 0 && !now.Before(s.PagingUntil) {
			continue
		}
		inc, err := r.Store.Load(s.ID)
		if err != nil {
			out = append(out, Done{Action: Action{Incident: s.ID}, Error: err.Error()})
			continue
		}
		var paging []Action
		for _, a := range r.Due(inc, now) {
			if isPaging(a) {
				paging = append(paging, a)
			} else {
				seq = append(seq, a)
			}
		}
		if len(paging) > 0 && ctx.Err() == nil {
			r.startPaging(ctx, s.ID, paging, now, run)
		}
	}
	for _, a := range seq {
		if ctx.Err() != nil {
			break
		}
		out = append(out, r.do(ctx, a, now, opt))
	}
	return append(out, run.wait()...), nil
}

// stillDue reports whether action key is due for inc at now.
func (r *Runbook) stillDue(inc *Incident, key string, now time.Time) bool {
	return slices.ContainsFunc(r.Due(inc, now), func(x Action) bool { return x.Key == key })
}

// do carries out one action, checking under the lock (and again under the
// claim) that it is still due.
func (r *Runbook) do(ctx context.Context, a Action, now time.Time, opt PublishOptions) Done {
	done := Done{Action: a}
	fail := func(err error) Done {
		done.Error = r.Secrets.Redact(err.Error())
		return done
	}
	if a.Kind == ActionRetry {
		res, err := r.Retry(ctx, a.Incident, opt)
		if err != nil {
			return fail(err)
		}
		done.Result = res
		return done
	}
	lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	unlock, err := r.Store.Lock(lctx, a.Incident)
	cancel()
	if err != nil {
		done.Note = "busy: another command holds the incident; the next tick tries again"
		return done
	}
	defer unlock()
	inc, err := r.Store.LoadFresh(a.Incident)
	if err != nil {
		return fail(err)
	}
	if !r.stillDue(inc, a.Key, now) {
		done.Note = "no longer due"
		return done
	}
	skip, err := r.coordinate(ctx, a.Incident, []string{actionKey(a.Key)}, "the "+a.Kind)
	switch {
	case errors.Is(err, ErrUncoordinated) && now.Sub(a.Due) >= AloneAfter:
		// The shared runbook's remote has been out of reach for a while
		// (it may sit on the infrastructure that is down): customers
		// hearing nothing is worse than a second daemon, if there is one,
		// posting the same first word. The record says so.
		done.Note = fmt.Sprintf("done without coordinating with other machines: %v", err)
	case err != nil:
		return fail(err)
	}
	if why := skip[actionKey(a.Key)]; why != "" {
		done.Note = why
		return done
	}
	if inc, err = r.Store.LoadFresh(a.Incident); err != nil {
		return fail(err)
	}
	if !r.stillDue(inc, a.Key, now) {
		done.Note = "no longer due"
		return done
	}
	switch a.Kind {
	case ActionRecover:
		e := Event{Kind: KindDismissed, At: r.Now(), By: AutomaticAuthor, Host: r.Host, How: "recovered", Action: a.Key,
			Text: "recovered after " + templates.Duration(inc.RecoveredAt().Sub(inc.StartedAt))}
		if err := r.Store.Append(a.Incident, &e); err != nil {
			return fail(err)
		}
		done.Note = e.Text
	case ActionAutoPost:
		d := Draft{Via: "update", Status: Investigating, Message: r.AlertMessage(inc), Author: AutomaticAuthor,
			Action: a.Key, Reason: a.Why}
		o := opt
		o.locked = true
		res, err := r.Publish(ctx, a.Incident, d, o)
		if err != nil {
			return fail(err)
		}
		done.Result = res
	case ActionMaintRemind, ActionMaintStart, ActionMaintComplete:
		res, err := r.doMaintenance(ctx, inc, a, opt)
		if err != nil {
			return fail(err)
		}
		done.Result = res
	default:
		return fail(fmt.Errorf("unknown action %q", a.Kind))
	}
	return done
}

// AlertMessage renders the first message of an incident an alert opened,
// from its route's template (alert.md.tmpl by default): what the automatic
// update says, and what the compose form starts with.
func (r *Runbook) AlertMessage(inc *Incident) string {
	name := templates.AlertFile
	for _, rt := range r.Config.Alerts.Routes {
		if rt.Name == inc.Route {
			name = rt.alertTemplate()
		}
	}
	x := *inc
	x.Status = Investigating
	u := &Update{Event: Event{ID: "~alert", Status: Investigating}}
	d := r.data(&x, u, "")
	d.Update = templates.Update{Status: Investigating}
	s, err := r.Templates.Render(name, d)
	if err != nil || strings.TrimSpace(s) == "" {
		return r.SuggestMessage(inc, Investigating, nil)
	}
	return strings.TrimSpace(s)
}

// SetClock replaces the runbook's clock (`incident tick --now`, tests).
func (r *Runbook) SetClock(now func() time.Time) { r.now = now }
