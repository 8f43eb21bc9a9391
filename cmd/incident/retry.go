package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/incident-cli/incident/runbook"
)

func (a *app) newRetryCmd() *cobra.Command {
	var alone bool
	c := &cobra.Command{
		Use:   "retry [ID]",
		Short: "Deliver what an earlier command left undelivered, without posting anything twice",
		Long: `Deliver every pending or failed post of an incident (of every incident when ID
is left out and several have undelivered posts), in order: an update before the
next, the status page before the links. Each delivery reuses its idempotency key,
so a post that did land is not made twice. An update that a channel already has
a newer update of is not posted there (it would show customers an older state
after a newer one): it is recorded as superseded.

With [sync] git = true, each update's deliveries are first claimed and the claims
pushed, so two machines retrying at once never both post; the results are pushed
as they are recorded. When the remote cannot be reached, nothing is retried
unless --alone says this machine may act by itself.
` + exitStatusHelp,
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: a.completeIncidents(false),
		RunE: func(c *cobra.Command, args []string) error {
			rb, err := a.runbook()
			if err != nil {
				return err
			}
			var ids []string
			if len(args) == 1 {
				if err := rb.Store.Check(args[0]); errors.Is(err, runbook.ErrUnknownIncident) {
					return usageErrorf("unknown incident %q; `incident list --all` shows every incident", args[0])
				} else if err != nil {
					return err
				}
				ids = args
			} else {
				sums, err := rb.Summaries()
				if err != nil {
					return err
				}
				for _, s := range sums {
					if s.Undelivered > 0 {
						ids = append(ids, s.ID)
					}
				}
			}
			if len(ids) == 0 {
				fmt.Fprintln(c.ErrOrStderr(), "nothing to retry: every post was delivered")
				return nil
			}
			worst := 0
			for _, id := range ids {
				res, err := rb.Retry(c.Context(), id, runbook.PublishOptions{Alone: alone, OnResult: func(r runbook.ChannelResult) {
					printChannelResult(c.ErrOrStderr(), r)
				}})
				if errors.Is(err, runbook.ErrUncoordinated) {
					return fmt.Errorf("%w; nothing was retried, since another machine may be retrying it: run `incident retry` again once the remote is reachable, or `incident retry --alone` to deliver from this machine by itself (a channel that cannot deduplicate may then get a post twice, if another machine retries at the same time)", err)
				}
				if err != nil {
					return err
				}
				if len(res.Channels) == 0 {
					fmt.Fprintf(c.ErrOrStderr(), "%s: nothing to retry\n", id)
					continue
				}
				if err := a.finish(c, res); err != nil {
					if code, ok := err.(exitCode); ok && int(code) > worst {
						worst = int(code)
					}
				}
			}
			if worst > 0 {
				return exitCode(worst)
			}
			return nil
		},
	}
	c.Flags().BoolVar(&alone, "alone", false, "with git sync and the remote out of reach: deliver without claiming first")
	return c
}
