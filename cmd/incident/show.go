package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/incident-cli/incident/runbook"
	"github.com/incident-cli/incident/templates"
)

// showJSON is `incident show --json`: a stable schema (fields are only added).
type showJSON struct {
	runbook.Summary
	Related []relatedJSON `json:"related"`
	Updates []updateJSON  `json:"update_log"`
	Notes   []entryJSON   `json:"notes"`
	Steps   []entryJSON   `json:"steps"`
	Pages   []pageJSON    `json:"pages"`
}

// relatedJSON is an earlier incident this one recurs.
type relatedJSON struct {
	ID        string    `json:"id"`
	Title     string    `json:"title"`
	URL       string    `json:"url,omitempty"`
	StartedAt time.Time `json:"started_at,omitzero"`
}

type updateJSON struct {
	Number     int            `json:"number"`
	RFO        bool           `json:"rfo,omitempty"`
	Status     string         `json:"status"`
	Message    string         `json:"message"`
	At         time.Time      `json:"at"`
	By         string         `json:"by"`
	Host       string         `json:"host,omitempty"`
	Deliveries []deliveryJSON `json:"deliveries"`
}

type deliveryJSON struct {
	Channel  string    `json:"channel"`
	State    string    `json:"state"` // pending, sent, failed
	ID       string    `json:"id,omitempty"`
	URL      string    `json:"url,omitempty"`
	Error    string    `json:"error,omitempty"`
	Attempts int       `json:"attempts,omitempty"`
	At       time.Time `json:"at,omitzero"`
}

type entryJSON struct {
	At      time.Time `json:"at"`
	By      string    `json:"by"`
	Host    string    `json:"host,omitempty"`
	Phase   string    `json:"phase,omitempty"`
	Step    string    `json:"step,omitempty"`
	Outcome string    `json:"outcome,omitempty"`
	Value   string    `json:"value,omitempty"`
	Text    string    `json:"text,omitempty"`
}

func (a *app) newShowCmd() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "show [ID]",
		Short: "Show an incident's timeline: updates and their delivery per channel, steps, notes",
		Long: `Show an incident's timeline in the runbook's time zones: every public update with
its delivery per channel (URL or error), alerts, pages to staff (who, by which
pager, the receipt or the error) and where the escalation stands, checklist steps
and private notes. ID may be left out when exactly one incident is open. With
--json, print the incident's summary fields (as in ` + "`list --json`" + `) plus related (id,
title, url, started_at of each earlier incident this one recurs), update_log,
notes, steps and pages.`,
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: a.completeIncidents(false),
		RunE: func(c *cobra.Command, args []string) error {
			id, err := a.resolveID(args)
			if err != nil {
				return err
			}
			inc, err := a.rb.Store.Load(id)
			if err != nil {
				return err
			}
			if asJSON {
				return a.showJSON(rawOut(c), inc)
			}
			a.showText(c.OutOrStdout(), inc)
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func (a *app) showJSON(w io.Writer, inc *runbook.Incident) error {
	out := showJSON{Summary: runbook.Summarize(inc), Related: []relatedJSON{}, Updates: []updateJSON{}, Notes: []entryJSON{}, Steps: []entryJSON{}, Pages: pagesJSON(inc)}
	for _, r := range a.rb.Related(inc) {
		out.Related = append(out.Related, relatedJSON{ID: r.ID, Title: r.Title, URL: r.URL, StartedAt: r.StartedAt})
	}
	for _, u := range inc.Updates {
		uj := updateJSON{Number: u.Number, RFO: u.RFO, Status: u.Event.Status, Message: u.Event.Message, At: u.Event.At,
			By: u.Event.By, Host: u.Event.Host, Deliveries: []deliveryJSON{}}
		for _, d := range u.Deliveries {
			dj := deliveryJSON{Channel: d.Channel, State: d.State, Error: d.Error, Attempts: d.Attempts, At: d.At}
			if d.Receipt != nil {
				dj.ID, dj.URL = d.Receipt.ID, d.Receipt.URL
			}
			uj.Deliveries = append(uj.Deliveries, dj)
		}
		out.Updates = append(out.Updates, uj)
	}
	for _, e := range inc.Notes {
		out.Notes = append(out.Notes, entryJSON{At: e.At, By: e.By, Host: e.Host, Text: e.Text})
	}
	for _, e := range inc.Steps {
		out.Steps = append(out.Steps, entryJSON{At: e.At, By: e.By, Host: e.Host, Phase: e.Phase, Step: e.Step, Outcome: e.Outcome, Value: e.Value, Text: e.Text})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func (a *app) showText(w io.Writer, inc *runbook.Incident) {
	rb := a.rb
	fmt.Fprintf(w, "%s\n%s\n", line(inc.ID), line(inc.Title))
	facts := []string{"status: " + inc.Status}
	if inc.Severity != "" {
		facts = append(facts, "severity: "+inc.Severity)
	}
	if len(inc.Services) > 0 {
		names := make([]string, len(inc.Services))
		for i, s := range inc.Services {
			names[i] = rb.ServiceName(s)
		}
		facts = append(facts, "services: "+strings.Join(names, ", "))
	}
	if inc.Accounts > 0 {
		facts = append(facts, fmt.Sprintf("accounts affected: about %d", inc.Accounts))
	}
	fmt.Fprintln(w, strings.Join(facts, " · "))
	if len(inc.Alerts) > 0 || inc.Status == runbook.Dismissed {
		fmt.Fprintln(w, a.alertingText(inc))
		for _, al := range inc.Alerts {
			state := "resolved " + a.when(al.ResolvedAt)
			if al.Firing {
				state = "firing"
			}
			fmt.Fprintf(w, "  alert %s: fired %s, %s\n", clean(al.Label()), a.when(al.FiredAt), state)
		}
	}
	for _, r := range rb.Related(inc) {
		when := ""
		if !r.StartedAt.IsZero() {
			when = ", " + r.StartedAt.In(rb.Zones[0]).Format("2006-01-02")
		}
		fmt.Fprintln(w, strings.TrimSpace(fmt.Sprintf("related: %s (%s%s) %s", r.Title, r.ID, when, r.URL)))
	}
	switch m := inc.Maintenance; {
	case m != nil && inc.Open():
		a.maintenancePlan(w, m, rb.Now())
	case m != nil:
		fmt.Fprintf(w, "maintenance window %s\n", rb.Templates.Window(m.Start, m.End))
	}
	for _, l := range a.pagingText(inc) {
		fmt.Fprintln(w, l)
	}
	if due, ok := rb.UpdateDue(inc); ok {
		if by := rb.Overdue(inc, rb.Now()); by > 0 {
			fmt.Fprintf(w, "next update OVERDUE by %s (was due %s)\n", templates.Duration(by), a.clock(due))
		} else {
			fmt.Fprintf(w, "next update due %s, in %s\n", a.clock(due), templates.Duration(due.Sub(rb.Now())))
		}
	}
	fmt.Fprintln(w)
	// entry prints one timeline line; what it shows came from records, so
	// it is kept on one line (see line).
	entry := func(t time.Time, format string, args ...any) {
		fmt.Fprintf(w, "%s  %s\n", a.when(t), line(fmt.Sprintf(format, args...)))
	}
	if inc.StartedAt.Before(inc.OpenedAt) {
		entry(inc.StartedAt, "problem began")
	}
	byUpdate := map[string]*runbook.Update{}
	for _, u := range inc.Updates {
		byUpdate[u.Event.ID] = u
	}
	for _, e := range inc.Events {
		who := line(e.By)
		if e.Host != "" {
			who += "@" + line(e.Host)
		}
		switch e.Kind {
		case runbook.KindOpened, runbook.KindUpdate:
			if e.Kind == runbook.KindOpened {
				if e.Status == runbook.Triggered {
					entry(e.At, "triggered by an alert (%s, route %q): private until its first update", clean(who), clean(e.Route))
					showAlert(entry, e)
				} else {
					entry(e.At, "opened by %s", who)
				}
			}
			u := byUpdate[e.ID]
			if u == nil {
				continue
			}
			if u.RFO {
				entry(e.At, "RFO published by %s", who)
			} else {
				entry(e.At, "update #%d [%s] by %s: %s", u.Number, templates.StatusTitle(e.Status), who, oneLine(e.Message))
				if e.By == runbook.AutomaticAuthor && e.Text != "" {
					fmt.Fprintf(w, "    (published by itself: %s)\n", clean(e.Text))
				}
			}
			for _, d := range u.Deliveries {
				switch d.State {
				case runbook.Sent:
					fmt.Fprintf(w, "    ✓ %s %s\n", line(d.Channel), line(d.Receipt.URL))
					if d.Note != "" {
						fmt.Fprintf(w, "      (%s)\n", line(d.Note))
					}
					if note := d.Receipt.Meta["note"]; note != "" {
						fmt.Fprintf(w, "      note: %s\n", line(note))
					}
				case runbook.Superseded:
					fmt.Fprintf(w, "    – %s superseded: a newer update reached it first, so this one was not posted\n", line(d.Channel))
				case runbook.Failed:
					fmt.Fprintf(w, "    ✗ %s failed (%d attempt(s)): %s\n", line(d.Channel), d.Attempts, line(d.Error))
				default:
					fmt.Fprintf(w, "    … %s pending: run `incident retry %s`\n", line(d.Channel), line(inc.ID))
				}
			}
		case runbook.KindAlert:
			showAlert(entry, e)
		case runbook.KindAck:
			entry(e.At, "acknowledged by %s (%s)", clean(who), clean(e.How))
			if e.Text != "" {
				fmt.Fprintf(w, "    (%s)\n", clean(e.Text))
			}
		case runbook.KindPage:
			a.showPage(inc, e, entry)
		case runbook.KindDismissed:
			entry(e.At, "closed privately by %s: %s", clean(who), clean(e.Text))
		case runbook.KindNote:
			entry(e.At, "note by %s: %s", who, e.Text)
		case runbook.KindStep:
			s := fmt.Sprintf("%s/%s: %s", e.Phase, e.Step, e.Outcome)
			if e.Value != "" {
				s += " " + e.Value
			}
			if e.Text != "" {
				s += " (" + e.Text + ")"
			}
			entry(e.At, "step %s by %s", s, who)
		case runbook.KindChanged:
			entry(e.At, "changed by %s: %s", who, changeText(e))
		}
	}
	switch {
	case inc.Open():
	case inc.Maintenance != nil:
		fmt.Fprintf(w, "\n%s %s\n", inc.Status, a.when(inc.ResolvedAt))
	default:
		fmt.Fprintf(w, "\nresolved after %s\n", templates.Duration(inc.ResolvedAt.Sub(inc.StartedAt)))
	}
}

func changeText(e runbook.Event) string {
	var parts []string
	if e.Severity != "" {
		parts = append(parts, "severity "+e.Severity)
	}
	if e.Accounts != nil {
		parts = append(parts, fmt.Sprintf("accounts %d", *e.Accounts))
	}
	if e.Services != nil {
		parts = append(parts, "services "+strings.Join(e.Services, ", "))
	}
	if e.StartedAt != nil {
		parts = append(parts, "started at "+e.StartedAt.Format(time.RFC3339))
	}
	return strings.Join(parts, ", ")
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 100 {
		return string(r[:99]) + "…"
	}
	return s
}

// showAlert is the timeline line of an alert an event carries.
func showAlert(entry func(time.Time, string, ...any), e runbook.Event) {
	al := e.Alert
	if al == nil {
		return
	}
	what := "resolved"
	if al.Firing {
		what = "fired"
	}
	text := al.Summary
	if text == "" {
		text = al.Name
	}
	entry(e.At, "alert %s %s: %s", clean(al.Source), what, clean(text))
}
