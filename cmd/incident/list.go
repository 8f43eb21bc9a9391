package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/incident-cli/incident/runbook"
	"github.com/incident-cli/incident/templates"
)

func (a *app) newListCmd() *cobra.Command {
	var all, asJSON bool
	c := &cobra.Command{
		Use:   "list",
		Short: "List open incidents (--all: every one), newest first",
		Long: `List incidents, newest first: id, status, title, age, and time since the last
public update, marked "stale" when that is longer than monitoring_max (default
24h): close the incident or update it. With --json, print an array of objects
with the fields id, title, status, severity, services, accounts, started_at,
opened_at, resolved_at, last_public_update, status_since, updates, undelivered
(times in RFC 3339, UTC), and for a maintenance window "maintenance": {"start",
"end", "phase", "reminded_at"}. Maintenance windows are listed too, marked
"maintenance, Tue 1 Dec 22:00–23:00 CET".`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			a.readOnly = true
			rb, err := a.runbook()
			if err != nil {
				return err
			}
			summaries := rb.OpenSummaries
			if all {
				summaries = rb.Summaries
			}
			sums, err := summaries()
			if err != nil {
				return err
			}
			var shown []runbook.Summary
			for _, s := range sums {
				if all || s.Open() {
					shown = append(shown, s)
				}
			}
			if asJSON {
				if shown == nil {
					shown = []runbook.Summary{}
				}
				enc := json.NewEncoder(rawOut(c))
				enc.SetIndent("", "  ")
				return enc.Encode(shown)
			}
			if len(shown) == 0 {
				if all {
					fmt.Fprintln(c.ErrOrStderr(), "no incidents recorded")
				} else {
					fmt.Fprintln(c.ErrOrStderr(), "no open incidents (`incident list --all` shows resolved ones)")
				}
				return nil
			}
			now := rb.Now()
			w := tabwriter.NewWriter(c.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tSTATUS\tTITLE\tAGE\tLAST UPDATE")
			for _, s := range shown {
				last := "never"
				if !s.LastPublic.IsZero() {
					last = templates.Duration(now.Sub(s.LastPublic)) + " ago"
				}
				if s.Undelivered > 0 {
					last += fmt.Sprintf(" (%d undelivered)", s.Undelivered)
				}
				if len(s.Alerts) > 0 && s.Open() {
					text, _, _ := a.alertLine(s, now)
					last += " · " + text
				}
				if s.Maintenance != nil {
					last += " · " + a.maintenanceText(s.Maintenance)
				}
				if _, stale := rb.Stale(s, now); stale {
					last += " (stale: close or update)"
				}
				age := templates.Duration(now.Sub(s.StartedAt))
				if s.Maintenance != nil {
					age = templates.Duration(now.Sub(s.OpenedAt)) // a window's start lies ahead: its age is since it was announced
				}
				if !s.Open() {
					age = s.OpenedAt.In(rb.Zones[0]).Format("2006-01-02")
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", line(s.ID), line(s.Status), line(s.Title), age, last)
			}
			return w.Flush()
		},
	}
	c.Flags().BoolVar(&all, "all", false, "every incident, resolved ones too")
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}
