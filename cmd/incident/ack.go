package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func (a *app) newAckCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "ack [ID]",
		Short: "Acknowledge an incident: stop the paging and the automatic first update",
		Long: `Acknowledge a triggered or open incident: you are on it. Escalation stops, and the
automatic first update of an alert is not published (publish one yourself with
` + "`incident update`" + `, which acknowledges too). ID may be left out when exactly one
incident is open.`,
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: a.completeIncidents(true),
		RunE: func(c *cobra.Command, args []string) error {
			id, err := a.resolveID(args)
			if err != nil {
				return err
			}
			before, err := a.rb.Store.Load(id)
			if err != nil {
				return err
			}
			inc, err := a.rb.Ack(c.Context(), id, "cli", "")
			if err != nil {
				return err
			}
			if before.Acked() {
				fmt.Fprintf(c.ErrOrStderr(), "%s was already acknowledged by %s at %s\n", id, clean(inc.AckedBy), a.clock(inc.AckedAt))
				return nil
			}
			fmt.Fprintf(c.ErrOrStderr(), "acknowledged %s at %s: paging and the automatic first update stop\n", id, a.clock(inc.AckedAt))
			if len(inc.Pages) > 0 {
				fmt.Fprintln(c.ErrOrStderr(), "those paged are told to stand down, and urgent pages still repeating are cancelled, at the next tick (`incident serve`, or `incident tick`)")
			}
			if inc.Private() {
				fmt.Fprintf(c.ErrOrStderr(), "nothing is public yet: `incident update %s` publishes the first update, `incident dismiss %s --reason TEXT` closes a false alarm\n", id, id)
			}
			return nil
		},
	}
	return c
}

func (a *app) newDismissCmd() *cobra.Command {
	var reason string
	c := &cobra.Command{
		Use:   "dismiss [ID] --reason TEXT",
		Short: "Close a triggered incident privately: a false alarm",
		Long: `Close a triggered incident as a false alarm: nothing of it was published and
nothing will be; it never appears on the status page, in history or in a feed.
A public incident is resolved with ` + "`incident close`" + ` instead.`,
		Example:           `  incident dismiss --reason "flap: the check's probe lost its network"`,
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: a.completeIncidents(true),
		RunE: func(c *cobra.Command, args []string) error {
			id, err := a.resolveID(args)
			if err != nil {
				return err
			}
			if _, err := a.rb.Dismiss(c.Context(), id, reason); err != nil {
				return err
			}
			fmt.Fprintf(c.ErrOrStderr(), "dismissed %s: closed privately (%s)\n", id, reason)
			return nil
		},
	}
	c.Flags().StringVar(&reason, "reason", "", "why it was a false alarm (required)")
	return c
}
