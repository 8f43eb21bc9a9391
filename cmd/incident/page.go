package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/incident-cli/incident/runbook"
)

func (a *app) newPageCmd() *cobra.Command {
	var (
		to, message, test string
		asJSON            bool
	)
	c := &cobra.Command{
		Use:   "page [ID] --to NAME|NAME:PERSON|LEVEL [--message TEXT]",
		Short: "Page staff by hand (call in a colleague), or send a test page",
		Long: `Page staff about an incident by hand: --to names a pager ("ops-irc": everyone
in its ` + "`to`" + `), a person on it ("phones:bob"), the person the [[rota]] says is on call
now ("phones:oncall"), or a level of the incident's escalation policy ("2": every
target of that level). The page carries the incident's title, services, how long
it has been firing and --message; it is recorded in the incident's log (kind
manual) and shown by ` + "`incident show`" + `. ID may be left out when exactly one incident is
open. A page by hand is never urgent and the timers do not repeat it.

--test NAME (or NAME:PERSON) sends a test page that says nothing is wrong, about
no incident, and records nothing: a drill of the pager's credentials and of the
phone at the other end.

Exit status 0 when every page went out, 1 when one failed, 2 for a bad --to.`,
		Example: `  incident page --to phones:oncall --message "disk full on imap1, please join the call"
  incident page 2026-12-01-imap-down --to 2
  incident page --test phones:alice`,
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: a.completeIncidents(true),
		RunE: func(c *cobra.Command, args []string) error {
			rb, err := a.runbook()
			if err != nil {
				return err
			}
			var res []runbook.PageResult
			switch {
			case test != "":
				if to != "" || len(args) > 0 {
					return usageErrorf("--test pages no incident: give --test NAME alone")
				}
				if res, err = rb.TestPage(c.Context(), test, message); err != nil {
					return err
				}
			case to == "":
				return usageErrorf("say whom to page with --to: %s", strings.Join(rb.PageTargets(), ", "))
			default:
				id, err := a.resolveID(args)
				if err != nil {
					return err
				}
				if res, err = rb.PageByHand(c.Context(), id, to, message); err != nil {
					return err
				}
			}
			if asJSON {
				enc := json.NewEncoder(c.OutOrStdout())
				enc.SetIndent("", "  ")
				if err := enc.Encode(res); err != nil {
					return err
				}
			} else {
				printPageResults(c.ErrOrStderr(), res)
			}
			for _, r := range res {
				if r.Error != "" {
					return exitCode(exitFailed)
				}
			}
			return nil
		},
	}
	c.Flags().StringVar(&to, "to", "", "whom to page: NAME, NAME:PERSON, NAME:oncall, or an escalation LEVEL")
	c.Flags().StringVar(&message, "message", "", "what to tell them")
	c.Flags().StringVar(&test, "test", "", "send a test page to NAME (or NAME:PERSON), about no incident")
	c.Flags().BoolVar(&asJSON, "json", false, "print each page's result as JSON")
	_ = c.RegisterFlagCompletionFunc("to", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		a.noPull = true
		if rb, err := a.runbook(); err == nil {
			return rb.PageTargets(), cobra.ShellCompDirectiveNoFileComp
		}
		return nil, cobra.ShellCompDirectiveNoFileComp
	})
	return c
}

// printPageResults says in a line per page what went out.
func printPageResults(w io.Writer, res []runbook.PageResult) {
	for _, r := range res {
		who := r.Person
		if who == "" {
			who = "everyone"
		}
		if r.OnCall {
			who += " (on call)"
		}
		if r.Error != "" {
			fmt.Fprintf(w, "✗ %s\n", clean(r.Error))
			continue
		}
		line := fmt.Sprintf("✓ paged %s by %s", clean(who), r.Pager)
		if r.Receipt != nil && r.Receipt.ID != "" {
			line += ": " + clean(r.Receipt.ID)
		}
		fmt.Fprintln(w, line)
		if r.Note != "" {
			fmt.Fprintf(w, "  (%s)\n", clean(r.Note))
		}
	}
}
