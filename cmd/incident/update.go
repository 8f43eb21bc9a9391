package main

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/incident-cli/incident/runbook"
)

func (a *app) newUpdateCmd() *cobra.Command {
	var f publishFlags
	c := &cobra.Command{
		Use:   "update [ID]",
		Short: "Publish a new update (keeps the cadence)",
		Long: `Publish a new update of an open incident: the status post is edited to show it,
the forum gets a reply in the incident's topic, social posts reply to the first.
ID may be left out when exactly one incident is open. The status may move
forward, stay, or step back (monitoring -> identified when a fix did not hold).
` + exitStatusHelp,
		Example:           `  incident update --status identified --message "A brute-force attack overloads the IMAP servers; we are blocking it." --yes`,
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: a.completeIncidents(true),
		RunE: func(c *cobra.Command, args []string) error {
			inc, acc, err := a.target(c, args, &f)
			if err != nil {
				return err
			}
			id := inc.ID
			if f.status == "" {
				f.status = inc.Status
				if inc.Status == runbook.Triggered {
					f.status = runbook.Investigating // the first public update of an alert
				}
			}
			d := runbook.Draft{Via: "update", Accounts: acc, Status: f.status, Message: strings.TrimSpace(f.message)}
			if d.Message == "" {
				if a.canPrompt() {
					return a.walkPhase(c, "update", id, d, &f)
				}
				return usageErrorf("--message is required when no one can answer prompts (stdin is not a terminal, or --no-input)")
			}
			return a.publish(c, id, d, &f)
		},
	}
	f.register(c, true)
	return c
}
