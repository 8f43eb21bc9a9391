package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func (a *app) newSyncCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "sync",
		Short: "Pull the shared runbook, then commit and push the incident records",
		Long: `With [sync] git = true in incident.toml, every command pulls the runbook before
it reads and commits and pushes the incident records after it writes. When the
remote cannot be reached, publishing goes ahead and the command says sync is
pending; ` + "`incident sync`" + ` (or the next command) pushes. Event files never conflict;
if git stops on a conflict elsewhere (a template edited in two places), the
repository is left as git left it for you to resolve.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			rb, err := a.runbook()
			if err != nil {
				return err
			}
			if rb.Sync == nil {
				return usageErrorf("this runbook is not shared through git: set [sync] git = true in %s (see `incident init --git`)", rb.ConfigFile)
			}
			if err := rb.SyncAfter(c.Context(), "incident: records"); err != nil {
				return err
			}
			if rb.Sync.Pending != nil {
				return fmt.Errorf("sync pending: %s; check the network and the remote, then run `incident sync` again", rb.Secrets.Redact(rb.Sync.Pending.Error()))
			}
			fmt.Fprintln(c.ErrOrStderr(), "the runbook is in sync with its remote")
			return nil
		},
	}
}
