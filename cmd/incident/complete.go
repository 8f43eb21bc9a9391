package main

import (
	"github.com/spf13/cobra"
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
