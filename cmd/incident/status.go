package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/incident-cli/incident/runbook"
	"github.com/incident-cli/incident/templates"
)

// statusEntry is one open incident in `incident status --json`.
type statusEntry struct {
	ID          string    `json:"id"`
	Title       string    `json:"title"`
	Status      string    `json:"status"`
	LastPublic  time.Time `json:"last_public_update"`
	Due         time.Time `json:"next_update_due"`
	Overdue     bool      `json:"overdue"`
	OverdueBy   string    `json:"overdue_by,omitempty"`
	Stale       bool      `json:"stale"`               // no public update for longer than monitoring_max
	StaleFor    string    `json:"stale_for,omitempty"` // how long it has been in its status: "3 days"
	Undelivered int       `json:"undelivered"`
	// Alerts: a triggered incident nobody acknowledged is critical
	// whatever its cadence says.
	Alerting   string    `json:"alerting,omitempty"` // "alerting since 12:03 (nodeping: IMAP check), auto-post in 7 min"
	Unacked    bool      `json:"unacknowledged,omitempty"`
	AutoPostAt time.Time `json:"auto_post_at,omitzero"`

	inStatus time.Duration
	// Held: a private alert inside a maintenance window whose route holds
	// it back: no automatic update, nothing overdue.
	Held bool `json:"held_by_maintenance,omitempty"`
	// PagersFailed: pagers whose last page for the incident failed (a
	// warning: someone may not have been woken).
	PagersFailed []string `json:"pagers_failed,omitempty"`
}

// dueSoon is when a Nagios check warns before an update is due.
const dueSoon = 5 * time.Minute

func (a *app) newStatusCmd() *cobra.Command {
	var nagios, asJSON bool
	c := &cobra.Command{
		Use:   "status",
		Short: "Open incidents and whether an update is overdue (exit 4 when one is)",
		Long: `Show open incidents and when each one's next public update is due.

Exit status 0 when no update is overdue, 4 when one is. With --nagios, print one
Nagios/Check_MK plugin line and exit 0 (OK), 1 (WARNING: an update is due within
5 minutes, a post is undelivered, or a pager's last page failed) or 2 (CRITICAL:
an update is overdue, or a triggered incident is unacknowledged), so monitoring
alerts when customer communication is late or paging is broken. An incident with no
public update for longer than monitoring_max (incident.toml, default 24h),
whatever its status, is stale: "monitoring for 3 days: close it or update
it", a WARNING for --nagios (CRITICAL stays CRITICAL). With --json, print
{"open": [...], "overdue": N, "maintenance": [...]} where each open entry has
id, title, status, last_public_update, next_update_due, overdue, overdue_by,
stale, stale_for, undelivered, pagers_failed; maintenance windows to come or in
progress keep no cadence and are listed apart (as in ` + "`incident maintenance list --json`" + `).`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			a.readOnly = true
			rb, err := a.runbook()
			if err != nil {
				if nagios {
					fmt.Fprintf(c.OutOrStdout(), "INCIDENT UNKNOWN - %s\n", line(err.Error()))
					return exitCode(3)
				}
				return err
			}
			sums, err := rb.OpenSummaries()
			if err != nil {
				if nagios {
					fmt.Fprintf(c.OutOrStdout(), "INCIDENT UNKNOWN - %s\n", line(err.Error()))
					return exitCode(3)
				}
				return err
			}
			now := rb.Now()
			var entries []statusEntry
			windows := []runbook.Summary{}
			overdue, soon, undelivered, unacked, stale, pagerFailures := 0, 0, 0, 0, 0, 0
			for _, s := range sums {
				if s.Open() && s.Maintenance != nil {
					windows = append(windows, s) // no cadence, nothing overdue: listed apart
				}
				if !s.Open() || s.Maintenance != nil {
					continue
				}
				inc := s.Incident()
				due, _ := rb.UpdateDue(inc)
				e := statusEntry{ID: s.ID, Title: s.Title, Status: s.Status, LastPublic: s.LastPublic, Due: due, Undelivered: s.Undelivered,
					AutoPostAt: s.AutoPostAt, Unacked: s.Status == runbook.Triggered && s.AckedAt.IsZero(), PagersFailed: s.PagersFailed}
				held := false
				if len(s.Alerts) > 0 {
					var pages bool
					e.Alerting, held, pages = a.alertLine(s, now)
					e.Unacked = e.Unacked && pages
				}
				if e.Unacked {
					unacked++
				}
				e.Held = held
				switch by := rb.Overdue(inc, now); {
				case held: // inside a maintenance window: held back, not late
				case by > 0:
					e.Overdue, e.OverdueBy = true, templates.Duration(by)
					overdue++
				case due.Sub(now) <= dueSoon:
					soon++
				}
				if s.Undelivered > 0 {
					undelivered++
				}
				if in, ok := rb.Stale(s, now); ok {
					e.Stale, e.StaleFor, e.inStatus = true, runbook.LongDuration(in), in
					stale++
				}
				if len(s.PagersFailed) > 0 {
					pagerFailures++
				}
				entries = append(entries, e)
			}
			switch {
			case nagios:
				return nagiosLine(c, entries, overdue, soon, undelivered, unacked, stale, pagerFailures)
			case asJSON:
				if entries == nil {
					entries = []statusEntry{}
				}
				enc := json.NewEncoder(rawOut(c))
				enc.SetIndent("", "  ")
				if err := enc.Encode(map[string]any{"open": entries, "overdue": overdue, "maintenance": windows}); err != nil {
					return err
				}
			default:
				if len(entries) == 0 {
					fmt.Fprintln(c.OutOrStdout(), "no open incidents")
				}
				for _, e := range entries {
					fmt.Fprintf(c.OutOrStdout(), "%s [%s] %s\n", line(e.ID), line(e.Status), line(e.Title))
					if e.Alerting != "" {
						fmt.Fprintf(c.OutOrStdout(), "  %s\n", e.Alerting)
					}
					if e.Unacked {
						fmt.Fprintf(c.OutOrStdout(), "  nobody acknowledged it: `incident ack %s`, or `incident update %s` to publish its first update\n", e.ID, e.ID)
					}
					switch {
					case e.Held:
						fmt.Fprintf(c.OutOrStdout(), "  no update is due while the maintenance window lasts\n")
					case e.Overdue:
						fmt.Fprintf(c.OutOrStdout(), "  OVERDUE by %s: an update was due %s; run `incident update %s`\n", e.OverdueBy, a.clock(e.Due), e.ID)
					default:
						fmt.Fprintf(c.OutOrStdout(), "  next update due %s, in %s\n", a.clock(e.Due), templates.Duration(e.Due.Sub(now)))
					}
					if e.Stale {
						fmt.Fprintf(c.OutOrStdout(), "  %s (`incident close %s` or `incident update %s`)\n", runbook.StaleText(e.Status, e.inStatus), e.ID, e.ID)
					}
					if e.Undelivered > 0 {
						fmt.Fprintf(c.OutOrStdout(), "  %d undelivered post(s): run `incident retry %s`\n", e.Undelivered, e.ID)
					}
					for _, f := range e.PagersFailed {
						fmt.Fprintf(c.OutOrStdout(), "  pager failing: %s\n", clean(f))
					}
				}
				for _, s := range windows {
					fmt.Fprintf(c.OutOrStdout(), "%s [%s] %s\n  %s\n", s.ID, s.Status, clean(s.Title), a.maintenanceText(s.Maintenance))
				}
			}
			if overdue > 0 {
				return exitCode(exitOverdue)
			}
			return nil
		},
	}
	c.Flags().BoolVar(&nagios, "nagios", false, "print a Nagios/Check_MK plugin line; exit 0/1/2")
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func nagiosLine(c *cobra.Command, entries []statusEntry, overdue, soon, undelivered, unacked, stale, pagerFailures int) error {
	perf := fmt.Sprintf("| open=%d overdue=%d undelivered=%d unacknowledged=%d stale=%d pagers_failing=%d", len(entries), overdue, undelivered, unacked, stale, pagerFailures)
	var ids, alerting, stales []string
	for _, e := range entries {
		if e.Overdue {
			ids = append(ids, line(e.ID)+" by "+e.OverdueBy)
		}
		if e.Unacked {
			alerting = append(alerting, e.ID+" "+e.Alerting)
		}
		if e.Stale {
			stales = append(stales, e.ID+" "+e.Status+" for "+e.StaleFor)
		}
	}
	staleText := ""
	if len(stales) > 0 {
		staleText = strings.Join(stales, ", ") + ": close it or update it "
	}
	out := c.OutOrStdout()
	switch {
	case unacked > 0:
		fmt.Fprintf(out, "INCIDENT CRITICAL - alert not acknowledged: %s %s\n", clean(strings.Join(alerting, "; ")), perf)
		return exitCode(2)
	case overdue > 0:
		if staleText != "" {
			staleText = "; " + staleText
		} else {
			staleText = " "
		}
		fmt.Fprintf(out, "INCIDENT CRITICAL - customer update overdue: %s%s%s\n", strings.Join(ids, ", "), staleText, perf)
		return exitCode(2)
	case stale > 0:
		fmt.Fprintf(out, "INCIDENT WARNING - %s%s\n", staleText, perf)
		return exitCode(1)
	case pagerFailures > 0:
		var failing []string
		for _, e := range entries {
			for _, f := range e.PagersFailed {
				failing = append(failing, e.ID+" "+f)
			}
		}
		fmt.Fprintf(out, "INCIDENT WARNING - a pager is failing: %s %s\n", clean(strings.Join(failing, "; ")), perf)
		return exitCode(1)
	case soon > 0 || undelivered > 0:
		fmt.Fprintf(out, "INCIDENT WARNING - %d update(s) due within %s, %d incident(s) with undelivered posts %s\n", soon, templates.Duration(dueSoon), undelivered, perf)
		return exitCode(1)
	case len(entries) > 0:
		fmt.Fprintf(out, "INCIDENT OK - %d open incident(s), updates on time %s\n", len(entries), perf)
	default:
		fmt.Fprintf(out, "INCIDENT OK - no open incidents %s\n", perf)
	}
	return nil
}
