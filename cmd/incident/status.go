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
	Undelivered int       `json:"undelivered"`
	// Alerts: a triggered incident nobody acknowledged is critical
	// whatever its cadence says.
	Alerting   string    `json:"alerting,omitempty"` // "alerting since 12:03 (nodeping: IMAP check), auto-post in 7 min"
	Unacked    bool      `json:"unacknowledged,omitempty"`
	AutoPostAt time.Time `json:"auto_post_at,omitzero"`
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
alerts when customer communication is late or paging is broken. With --json, print
{"open": [...], "overdue": N} where each entry has id, title, status,
last_public_update, next_update_due, overdue, overdue_by, undelivered.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			rb, err := a.runbook()
			if err != nil {
				if nagios {
					fmt.Fprintf(c.OutOrStdout(), "INCIDENT UNKNOWN - %s\n", strings.ReplaceAll(err.Error(), "\n", " "))
					return exitCode(3)
				}
				return err
			}
			sums, err := rb.OpenSummaries()
			if err != nil {
				if nagios {
					fmt.Fprintf(c.OutOrStdout(), "INCIDENT UNKNOWN - %s\n", strings.ReplaceAll(err.Error(), "\n", " "))
					return exitCode(3)
				}
				return err
			}
			now := rb.Now()
			var entries []statusEntry
			overdue, soon, undelivered, unacked, pagerFailures := 0, 0, 0, 0, 0
			for _, s := range sums {
				if !s.Open() {
					continue
				}
				inc := s.Incident()
				due, _ := rb.UpdateDue(inc)
				e := statusEntry{ID: s.ID, Title: s.Title, Status: s.Status, LastPublic: s.LastPublic, Due: due, Undelivered: s.Undelivered,
					AutoPostAt: s.AutoPostAt, Unacked: s.Status == runbook.Triggered && s.AckedAt.IsZero(), PagersFailed: s.PagersFailed}
				if len(s.Alerts) > 0 {
					e.Alerting = a.alertingSummary(s, now)
				}
				if e.Unacked {
					unacked++
				}
				if by := rb.Overdue(inc, now); by > 0 {
					e.Overdue, e.OverdueBy = true, templates.Duration(by)
					overdue++
				} else if due.Sub(now) <= dueSoon {
					soon++
				}
				if s.Undelivered > 0 {
					undelivered++
				}
				if len(s.PagersFailed) > 0 {
					pagerFailures++
				}
				entries = append(entries, e)
			}
			switch {
			case nagios:
				return nagiosLine(c, entries, overdue, soon, undelivered, unacked, pagerFailures)
			case asJSON:
				if entries == nil {
					entries = []statusEntry{}
				}
				enc := json.NewEncoder(c.OutOrStdout())
				enc.SetIndent("", "  ")
				if err := enc.Encode(map[string]any{"open": entries, "overdue": overdue}); err != nil {
					return err
				}
			default:
				if len(entries) == 0 {
					fmt.Fprintln(c.OutOrStdout(), "no open incidents")
				}
				for _, e := range entries {
					fmt.Fprintf(c.OutOrStdout(), "%s [%s] %s\n", e.ID, e.Status, clean(e.Title))
					if e.Alerting != "" {
						fmt.Fprintf(c.OutOrStdout(), "  %s\n", e.Alerting)
					}
					if e.Unacked {
						fmt.Fprintf(c.OutOrStdout(), "  nobody acknowledged it: `incident ack %s`, or `incident update %s` to publish its first update\n", e.ID, e.ID)
					}
					if e.Overdue {
						fmt.Fprintf(c.OutOrStdout(), "  OVERDUE by %s: an update was due %s; run `incident update %s`\n", e.OverdueBy, a.clock(e.Due), e.ID)
					} else {
						fmt.Fprintf(c.OutOrStdout(), "  next update due %s, in %s\n", a.clock(e.Due), templates.Duration(e.Due.Sub(now)))
					}
					if e.Undelivered > 0 {
						fmt.Fprintf(c.OutOrStdout(), "  %d undelivered post(s): run `incident retry %s`\n", e.Undelivered, e.ID)
					}
					for _, f := range e.PagersFailed {
						fmt.Fprintf(c.OutOrStdout(), "  pager failing: %s\n", clean(f))
					}
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

func nagiosLine(c *cobra.Command, entries []statusEntry, overdue, soon, undelivered, unacked, pagerFailures int) error {
	perf := fmt.Sprintf("| open=%d overdue=%d undelivered=%d unacknowledged=%d pagers_failing=%d", len(entries), overdue, undelivered, unacked, pagerFailures)
	var ids, alerting []string
	for _, e := range entries {
		if e.Overdue {
			ids = append(ids, e.ID+" by "+e.OverdueBy)
		}
		if e.Unacked {
			alerting = append(alerting, e.ID+" "+e.Alerting)
		}
	}
	out := c.OutOrStdout()
	switch {
	case unacked > 0:
		fmt.Fprintf(out, "INCIDENT CRITICAL - alert not acknowledged: %s %s\n", clean(strings.Join(alerting, "; ")), perf)
		return exitCode(2)
	case overdue > 0:
		fmt.Fprintf(out, "INCIDENT CRITICAL - customer update overdue: %s %s\n", strings.Join(ids, ", "), perf)
		return exitCode(2)
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
