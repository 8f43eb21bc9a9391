package main

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/incident-cli/incident/runbook"
)

func (a *app) newCloseCmd() *cobra.Command {
	var (
		f   publishFlags
		rfo bool
	)
	c := &cobra.Command{
		Use:   "close [ID]",
		Short: "Publish the resolved update and close the incident",
		Long: `Publish the [Resolved] update and walk the close checklist. With --rfo, go on
to write the Reason For Outage.
` + exitStatusHelp,
		Example:           `  incident close --message "Logins work again; we blocked the attacking networks. An RFO follows." --yes`,
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: a.completeIncidents(true),
		RunE: func(c *cobra.Command, args []string) error {
			inc, acc, err := a.target(c, args, &f)
			if err != nil {
				return err
			}
			id := inc.ID
			d := runbook.Draft{Via: "close", Accounts: acc, Status: runbook.Resolved, Message: strings.TrimSpace(f.message)}
			switch {
			case d.Message == "" && a.canPrompt():
				if err := a.walkPhase(c, "close", id, d, &f); err != nil {
					return err
				}
			case d.Message == "":
				return usageErrorf("--message is required when no one can answer prompts (stdin is not a terminal, or --no-input)")
			default:
				if err := a.publish(c, id, d, &f); err != nil {
					return err
				}
			}
			if rfo && !f.dryRun {
				return a.runRFO(c, id)
			}
			return nil
		},
	}
	f.register(c, false)
	c.Flags().BoolVar(&rfo, "rfo", false, "go on to write the Reason For Outage now")
	return c
}
