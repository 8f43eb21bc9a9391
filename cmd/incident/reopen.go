package main

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/incident-cli/incident/runbook"
)

func (a *app) newReopenCmd() *cobra.Command {
	var f publishFlags
	c := &cobra.Command{
		Use:   "reopen ID",
		Short: "Reopen a resolved incident with a new update",
		Long: `Reopen a resolved incident: publish a new update (default status identified)
in the same thread.
` + exitStatusHelp,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: a.completeIncidents(false),
		RunE: func(c *cobra.Command, args []string) error {
			id, err := a.resolveID(args)
			if err != nil {
				return err
			}
			if f.status == "" {
				f.status = runbook.Identified
			}
			acc, err := accountsPtr(c, &f)
			if err != nil {
				return err
			}
			d := runbook.Draft{Via: "reopen", Accounts: acc, Status: f.status, Message: strings.TrimSpace(f.message)}
			if d.Message == "" {
				return usageErrorf("--message is required: say what came back")
			}
			return a.publish(c, id, d, &f)
		},
	}
	f.register(c, true)
	return c
}
