package main

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/incident-cli/incident/runbook"
)

func (a *app) newOpenCmd() *cobra.Command {
	var (
		f         publishFlags
		title     string
		services  []string
		severity  string
		startedAt string
		related   []string
	)
	c := &cobra.Command{
		Use:   "open",
		Short: "Open an incident and inform customers first",
		Long: `Open an incident: publish an [Investigating] update to the status page and a link
to it on every other channel, then walk the open checklist.

At a terminal the checklist asks for what is missing, and whether the incident
recurs one resolved in the last 14 days on one of the same services. With
--no-input, or when stdin is not a terminal, flags are the answers: --title and
--message are required, and --yes publishes without the confirm step. --related
links an earlier incident: every status post then says "Related: <title>
(date)" with a link, and the RFO says it is a recurrence. (An incident back
within hours is the same one: ` + "`incident reopen ID`" + `.)
` + exitStatusHelp,
		Example: `  incident open --title "IMAP/POP login failures" --service imap \
      --message "We are investigating reports of IMAP and POP connection failures." --yes`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if f.status == "" {
				f.status = runbook.Investigating
			}
			acc, err := accountsPtr(c, &f)
			if err != nil {
				return err
			}
			d := runbook.Draft{Via: "open", Title: strings.TrimSpace(title), Services: services, Severity: severity,
				Accounts: acc, Status: f.status, Message: strings.TrimSpace(f.message), Related: related}
			if len(related) > 0 {
				rb, err := a.runbook()
				if err != nil {
					return err
				}
				if err := rb.CheckRelated(related); err != nil {
					return usageErrorf("%v", err)
				}
			}
			if startedAt != "" {
				rb, err := a.runbook()
				if err != nil {
					return err
				}
				t, err := parseTime(startedAt, rb)
				if err != nil {
					return usageErrorf("--started-at: %v", err)
				}
				d.StartedAt = &t
			}
			if d.Title == "" || d.Message == "" {
				if a.canPrompt() {
					return a.walkOpen(c, d, &f)
				}
				missing := "--title"
				if d.Title != "" {
					missing = "--message"
				}
				return usageErrorf("%s is required when no one can answer prompts (stdin is not a terminal, or --no-input)", missing)
			}
			return a.publish(c, "", d, &f)
		},
	}
	f.register(c, true)
	c.Flags().StringVarP(&title, "title", "t", "", "what customers see, e.g. \"IMAP/POP login failures\"")
	c.Flags().StringSliceVarP(&services, "service", "s", nil, "affected service id (repeatable)")
	c.Flags().StringVar(&severity, "severity", "", "minor, major or critical")
	c.Flags().StringSliceVar(&related, "related", nil, "an earlier incident `ID` this one recurs (repeatable; `incident list --all` shows ids)")
	c.Flags().StringVar(&startedAt, "started-at", "", "when the problem began, if earlier than now (\"09:40\", \"2026-11-27 09:40\", RFC 3339, or \"25m ago\")")
	return c
}
