package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/incident-cli/incident/checklists"
	"github.com/incident-cli/incident/runbook"
	"github.com/incident-cli/incident/templates"
)

// pageJSON is one page in `incident show --json`.
type pageJSON struct {
	Key      string    `json:"key"`
	Kind     string    `json:"kind"` // alert, ack, manual, cancel
	Level    int       `json:"level,omitempty"`
	Round    int       `json:"round,omitempty"`
	Pager    string    `json:"pager"`
	Person   string    `json:"person,omitempty"`
	OnCall   bool      `json:"oncall,omitempty"`
	Urgent   bool      `json:"urgent,omitempty"`
	State    string    `json:"state"` // sending, sent, failed
	Reached  []string  `json:"reached,omitempty"`
	IDs      []string  `json:"receipts,omitempty"`
	Error    string    `json:"error,omitempty"`
	Attempts int       `json:"attempts,omitempty"`
	At       time.Time `json:"at"`
}

func pagesJSON(inc *runbook.Incident) []pageJSON {
	out := []pageJSON{}
	for _, p := range inc.Pages {
		pj := pageJSON{Key: p.Key, Kind: p.Kind, Level: p.Level, Round: p.Round, Pager: p.Pager, Person: p.Person, OnCall: p.OnCall,
			Urgent: p.Urgent, State: p.State, Reached: p.Reached, Error: p.Error, Attempts: p.Attempts, At: p.At}
		for _, r := range p.Receipts {
			pj.IDs = append(pj.IDs, r.ID)
		}
		out = append(out, pj)
	}
	return out
}

// pagingText says where an incident's paging stands, for show: the next
// level and when, or why it stopped; and the pagers whose last page
// failed. "" when the incident never paged and will not.
func (a *app) pagingText(inc *runbook.Incident) []string {
	rb := a.rb
	now := rb.Now()
	var out []string
	if level, at, targets, ok := rb.NextPage(inc, now); ok {
		out = append(out, fmt.Sprintf("paging: level %d (%s) at %s, in %s, unless someone acknowledges: `incident ack %s`",
			level, strings.Join(targets, ", "), a.clock(at), templates.Duration(at.Sub(now)), inc.ID))
	} else if len(inc.Pages) > 0 && inc.Acked() {
		out = append(out, fmt.Sprintf("paging stopped: acknowledged by %s at %s", clean(inc.AckedBy), a.clock(inc.AckedAt)))
	}
	for _, f := range runbook.Summarize(inc).PagersFailed {
		out = append(out, "pager failing: "+clean(f))
	}
	return out
}

// showPage is show's line for a page event: the attempt's result (a
// "sending" record shows only while its outcome is unknown).
func (a *app) showPage(inc *runbook.Incident, e runbook.Event, line func(time.Time, string, ...any)) {
	rec := e.Page
	if rec == nil {
		return
	}
	if rec.State == runbook.PageSending {
		if p := inc.Page(e.Action); p != nil && p.State == runbook.PageSending && p.At.Equal(e.At) {
			again := "it is paged again"
			switch {
			case inc.Superseded(p):
				again = "a later repeat went out instead"
			case p.Kind == runbook.PageAlert && (inc.Acked() || !inc.Open()):
				again = "it was acknowledged (or closed) before it was due again"
			}
			line(e.At, "paging %s by %s: no result recorded (the process stopped mid-page); %s", whoOf(rec), rec.Pager, again)
		}
		return
	}
	var facts []string
	if rec.Level > 0 {
		facts = append(facts, fmt.Sprintf("level %d", rec.Level))
	}
	if rec.Round > 0 {
		facts = append(facts, fmt.Sprintf("repeat %d", rec.Round))
	}
	if rec.Urgent {
		facts = append(facts, "urgent")
	}
	if rec.OnCall {
		facts = append(facts, "on call")
	}
	if rec.Kind == runbook.PageManual {
		facts = append(facts, "by hand, by "+clean(e.By))
	}
	how := rec.Pager
	if d := a.rb.PagerDisplay(rec.Pager, nil); d != rec.Pager {
		how += " (" + d + ")"
	}
	what := "paged " + whoOf(rec) + " by " + how
	switch rec.Kind {
	case runbook.PageAck:
		what = "told " + whoOf(rec) + " by " + how + " to stand down"
	case runbook.PageCancel:
		what = "cancelled the emergencies still repeating on " + how
	}
	if len(facts) > 0 {
		what += " (" + strings.Join(facts, ", ") + ")"
	}
	if rec.State == runbook.PageFailed {
		msg := fmt.Sprintf("✗ %s FAILED: %s", what, clean(rec.Error))
		if rec.Receipt != nil && len(rec.Receipt.To) > 0 {
			msg += " (reached " + clean(strings.Join(rec.Receipt.To, ", ")) + ")"
		}
		line(e.At, "%s", msg)
		return
	}
	s := what
	if rec.Receipt != nil && rec.Receipt.ID != "" {
		s += ": " + clean(rec.Receipt.ID)
	}
	if rec.Note != "" {
		s += " (" + clean(rec.Note) + ")"
	}
	if rec.Kind == runbook.PageManual && e.Text != "" {
		s += ": " + clean(oneLine(e.Text))
	}
	line(e.At, "%s", s)
}

func whoOf(rec *runbook.PageRecord) string {
	if rec.Person != "" {
		return clean(rec.Person)
	}
	if rec.Receipt != nil && len(rec.Receipt.To) > 0 {
		return clean(strings.Join(rec.Receipt.To, ", "))
	}
	return "everyone"
}

// PageTargets offers a checklist page step's targets: the item's `to`
// first, else the person on call (pager:oncall, with who that is now),
// then every pager and level 1 of the escalation. None without pagers:
// the step is then a confirm.
func (w *walker) PageTargets(it checklists.Item) []checklists.Choice {
	rb := w.a.rb
	targets := rb.PageTargets()
	if len(targets) == 0 || w.id == "" {
		return nil
	}
	label := func(t string) string {
		if name, ok := strings.CutSuffix(t, ":"+runbook.OnCallPerson); ok {
			if who := rb.OnCall(rb.Now()); who != "" {
				return fmt.Sprintf("%s (%s, on call now)", t, who)
			}
			return t + " (nobody on call now: everyone on " + name + ")"
		}
		if _, err := strconv.Atoi(t); err == nil {
			return "escalation level " + t
		}
		return t
	}
	var first []string
	if it.To != "" {
		first = append(first, it.To)
	}
	for _, t := range targets {
		if strings.HasSuffix(t, ":"+runbook.OnCallPerson) && len(first) == 0 {
			first = append(first, t)
		}
	}
	var out []checklists.Choice
	seen := map[string]bool{}
	for _, t := range append(first, targets...) {
		if !seen[t] {
			seen[t] = true
			out = append(out, checklists.Choice{Label: label(t), Value: t})
		}
	}
	return out
}

// Page pages a checklist step's target about the walk's incident.
func (w *walker) Page(ctx context.Context, it checklists.Item, target, message string) (string, error) {
	res, err := w.a.rb.PageByHand(ctx, w.id, target, message)
	if err != nil {
		return "", err
	}
	printPageResults(w.forms.Out, res)
	var reached, failed []string
	for _, r := range res {
		if r.Error != "" {
			failed = append(failed, r.Error)
			continue
		}
		who := r.Pager
		if r.Person != "" {
			who += ":" + r.Person
		}
		reached = append(reached, who)
	}
	if len(reached) == 0 {
		return "", errors.New(strings.Join(failed, "; "))
	}
	return strings.Join(reached, ", "), nil
}
