package runbook

import (
	"fmt"
	"slices"
	"time"

	"github.com/incident-cli/incident/pagers"
)

// PageState is one page of the incident, by key, as its records left it.
type PageState struct {
	Key           string // the action key
	Kind          string // alert, ack, manual, cancel
	Level, Round  int
	Pager, Person string
	OnCall        bool
	Urgent        bool
	State         string           // sending, sent, failed
	Receipts      []pagers.Receipt // every receipt recorded, a partial failure's too
	Reached       []string         // the people reached, in order (empty for an audience without names)
	Error         string
	Attempts      int
	Failures      int
	Permanent     bool
	RetryAt       time.Time
	FirstAt, At   time.Time // its first record, its last
	SentAt        time.Time // when it was first delivered (zero until it is)
	By, Text      string    // who sent it (manual: the message)
	Note          string
}

// Superseded reports whether p is a repeat round left unfinished (its
// process died mid-page, or it failed) when a later round of the same
// level and target went out: rounds are not made up, the later one is the
// repeat.
func (inc *Incident) Superseded(p *PageState) bool {
	if p.Kind != PageAlert || p.State == PageSent {
		return false
	}
	for _, q := range inc.Pages {
		if q.Kind == PageAlert && q.Level == p.Level && q.Round > p.Round && q.Pager == p.Pager && q.Person == p.Person && q.Delivered() {
			return true
		}
	}
	return false
}

// Delivered reports whether the page reached someone (wholly, or in part
// before a failure).
func (p *PageState) Delivered() bool { return p.State == PageSent || len(p.Receipts) > 0 }

// Target is the page's target, as escalation writes it.
func (p *PageState) Target() Target { return Target{Pager: p.Pager, Person: p.Person} }

// foldPage applies a page event.
func foldPage(inc *Incident, e Event) {
	rec := e.Page
	if rec == nil || e.Action == "" {
		return
	}
	p := inc.Page(e.Action)
	if p == nil {
		p = &PageState{Key: e.Action, Kind: rec.Kind, Level: rec.Level, Round: rec.Round, Pager: rec.Pager, Person: rec.Person,
			OnCall: rec.OnCall, Urgent: rec.Urgent, FirstAt: e.At, By: e.By, Text: e.Text, Note: rec.Note}
		inc.Pages = append(inc.Pages, p)
	}
	p.At = e.At
	if rec.Receipt != nil {
		p.Receipts = append(p.Receipts, *rec.Receipt)
		for _, who := range rec.Receipt.To {
			if !slices.Contains(p.Reached, who) {
				p.Reached = append(p.Reached, who)
			}
		}
		if p.SentAt.IsZero() {
			p.SentAt = e.At
		}
	}
	if p.State == PageSent {
		return // a late record never hides a success
	}
	p.Attempts += rec.Attempts
	switch rec.State {
	case PageSending:
		p.State = PageSending
	case PageSent:
		p.State, p.Error, p.Permanent = PageSent, "", false
	case PageFailed:
		p.State, p.Error, p.Permanent = PageFailed, rec.Error, rec.Permanent
		p.Failures++
		p.RetryAt = time.Time{}
		if rec.RetryAt != nil {
			p.RetryAt = *rec.RetryAt
		}
	}
}

// Page returns the page with this key, or nil.
func (inc *Incident) Page(key string) *PageState {
	for _, p := range inc.Pages {
		if p.Key == key {
			return p
		}
	}
	return nil
}

// pagingSummary is what status needs of an incident's paging: until when
// stand-downs and cancels may be due, and each pager whose last page
// failed, with the error.
func pagingSummary(inc *Incident) (until time.Time, failed []string) {
	if len(inc.Pages) == 0 {
		return time.Time{}, nil
	}
	if at, _, ok := standDownAt(inc); ok {
		until = at.Add(StandDownWithin)
	}
	last := map[string]*PageState{}
	var order []string
	for _, p := range inc.Pages {
		if p.State == PageSending {
			continue
		}
		if q, ok := last[p.Pager]; !ok || !p.At.Before(q.At) {
			if !ok {
				order = append(order, p.Pager)
			}
			last[p.Pager] = p
		}
	}
	for _, name := range order {
		if p := last[name]; p.State == PageFailed {
			s := fmt.Sprintf("%s: %s (%d attempt(s)", name, p.Error, p.Attempts)
			if p.Permanent || p.Failures >= MaxPageFailures {
				s += ", given up"
			}
			failed = append(failed, s+")")
		}
	}
	return until, failed
}
