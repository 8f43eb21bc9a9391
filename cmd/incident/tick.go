package main

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/incident-cli/incident/runbook"
)

func (a *app) newTickCmd() *cobra.Command {
	var (
		now    string
		asJSON bool
	)
	c := &cobra.Command{
		Use:   "tick",
		Short: "Run the timers once (for cron, instead of incident serve)",
		Long: `Run the timers once: publish the automatic first update of an alert nobody
acknowledged in time, close privately what recovered before anything was
published, publish the reminder, the start and the completion of maintenance
windows at their times, retry undelivered posts, page the escalation's levels that
came due (and retry pages that failed), read back acknowledgements of urgent
pages, and, once someone acknowledged, cancel the emergencies and tell those
paged. What is due comes from the record alone, so
running tick from cron every minute does what ` + "`incident serve`" + ` does between
alerts, and a tick that was killed loses nothing. With git sync, timed actions
are claimed first, so two machines never both carry one out.

--now TIME runs the timers as if it were TIME (a drill, a test).

Exit status 0 when every action succeeded (or nothing was due), 1 when one failed.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			rb, err := a.runbook()
			if err != nil {
				return err
			}
			at := rb.Now()
			if now != "" {
				if at, err = parseClock(now, rb); err != nil {
					return usageErrorf("--now: %v", err)
				}
				rb.SetClock(func() time.Time { return at })
			}
			done, err := rb.Tick(c.Context(), at, runbook.PublishOptions{OnResult: func(r runbook.ChannelResult) {
				printChannelResult(c.ErrOrStderr(), r)
			}})
			if err != nil {
				return err
			}
			if asJSON {
				if done == nil {
					done = []runbook.Done{}
				}
				enc := json.NewEncoder(c.OutOrStdout())
				enc.SetIndent("", "  ")
				if err := enc.Encode(done); err != nil {
					return err
				}
			} else {
				a.printDone(c.ErrOrStderr(), done)
			}
			for _, d := range done {
				if d.Error != "" {
					return exitCode(exitFailed)
				}
			}
			return nil
		},
	}
	c.Flags().StringVar(&now, "now", "", "run as if it were this time (RFC 3339, \"2026-12-01 12:15\", \"15:04\" today)")
	c.Flags().BoolVar(&asJSON, "json", false, "print what was done as JSON")
	return c
}

// printDone says in a line per action what a tick did.
func (a *app) printDone(w io.Writer, done []runbook.Done) {
	for _, d := range done {
		if d.Quiet {
			continue
		}
		line := fmt.Sprintf("%s: %s", d.Action.Incident, d.Action.Kind)
		switch {
		case d.Error != "":
			line += " FAILED: " + clean(d.Error)
		case d.Note != "":
			line += ": " + clean(d.Note)
		case d.Result != nil && d.Result.Update != nil:
			line += fmt.Sprintf(": update #%d published (%s)", d.Result.Update.Number, clean(d.Action.Why))
		case d.Result != nil:
			line += fmt.Sprintf(": %d delivery(ies) attempted", len(d.Result.Channels))
		}
		fmt.Fprintln(w, line)
	}
}
