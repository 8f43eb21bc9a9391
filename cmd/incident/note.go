package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/incident-cli/incident/runbook"
)

func (a *app) newNoteCmd() *cobra.Command {
	var public bool
	c := &cobra.Command{
		Use:   "note [ID] TEXT",
		Short: "Add a private timeline entry (not published)",
		Long: `Add a private entry to the incident's timeline: what was tried, who was called.
It is never published as an update; with --public it appears in the RFO's
timeline (the responder can still drop it while editing the RFO). ID may be left out when exactly
one incident is open.`,
		Example: `  incident note "Blocked 203.0.113.0/24 at the firewall; load on imap1 dropping"`,
		Args:    cobra.RangeArgs(1, 2),
		RunE: func(c *cobra.Command, args []string) error {
			var ids []string
			text := args[len(args)-1]
			if len(args) == 2 {
				ids = args[:1]
			}
			if strings.TrimSpace(text) == "" {
				return usageErrorf("the note is empty")
			}
			id, err := a.resolveID(ids)
			if err != nil {
				return err
			}
			rb := a.rb
			e := runbook.Event{Kind: runbook.KindNote, At: rb.Now(), By: rb.Responder, Host: rb.Host, Text: strings.TrimSpace(text), Public: public}
			if err := rb.Store.Append(id, &e); err != nil {
				return err
			}
			fmt.Fprintf(c.ErrOrStderr(), "noted on %s at %s\n", id, a.clock(e.At))
			return nil
		},
	}
	c.Flags().BoolVar(&public, "public", false, "the note may appear in the RFO's public timeline")
	return c
}
