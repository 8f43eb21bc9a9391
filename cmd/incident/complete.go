package main

import (
	"github.com/spf13/cobra"

	"github.com/incident-cli/incident/publishers"
	"github.com/incident-cli/incident/runbook"
)

// completeIncidents completes incident ids (open ones only when openOnly).
func (a *app) completeIncidents(openOnly bool) cobra.CompletionFunc {
	return func(c *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		a.noPull = true
		rb, err := a.runbook()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		sums, err := rb.Summaries()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []string
		for _, s := range sums {
			if !openOnly || s.Open() {
				out = append(out, s.ID+"\t"+s.Status+": "+s.Title)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// completeFlags registers dynamic completion of --service (the runbook's
// service ids), --status and --severity on a command that has them.
func (a *app) completeFlags(c *cobra.Command) {
	fixed := func(values ...string) cobra.CompletionFunc {
		return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return values, cobra.ShellCompDirectiveNoFileComp
		}
	}
	if c.Flags().Lookup("status") != nil {
		_ = c.RegisterFlagCompletionFunc("status", fixed(runbook.Investigating, runbook.Identified, runbook.Monitoring))
	}
	if c.Flags().Lookup("severity") != nil {
		_ = c.RegisterFlagCompletionFunc("severity", fixed(runbook.Severities...))
	}
	if c.Flags().Lookup("state") != nil {
		_ = c.RegisterFlagCompletionFunc("state", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			a.noPull = true
			rb, err := a.runbook()
			if err != nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			var out []string
			for _, s := range rb.Config.Services {
				for _, st := range publishers.States {
					out = append(out, s.ID+"="+st+"\t"+rb.ServiceName(s.ID)+": "+publishers.StateWords(st))
				}
			}
			return out, cobra.ShellCompDirectiveNoFileComp
		})
	}
	if c.Flags().Lookup("service") != nil {
		_ = c.RegisterFlagCompletionFunc("service", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			a.noPull = true
			rb, err := a.runbook()
			if err != nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			var out []string
			for _, s := range rb.Config.Services {
				out = append(out, s.ID+"\t"+rb.ServiceName(s.ID))
			}
			return out, cobra.ShellCompDirectiveNoFileComp
		})
	}
}
