package main

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/incident-cli/incident/runbook"
)

func (a *app) newInitCmd() *cobra.Command {
	var force, git bool
	c := &cobra.Command{
		Use:   "init [DIR]",
		Short: "Scaffold a runbook: incident.toml, templates/, checklists/, incidents/",
		Long: `Scaffold a runbook directory (default: the current directory): incident.toml with
every option commented, templates/ and checklists/ holding copies of the built-in
defaults to edit, and incidents/. Refuses to overwrite existing files unless --force.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			dir := a.sys.WD
			if len(args) == 1 {
				dir = args[0]
				if !filepath.IsAbs(dir) {
					dir = filepath.Join(a.sys.WD, dir)
				}
			}
			written, err := runbook.InitWith(dir, force, git)
			if err != nil {
				return err
			}
			for _, f := range written {
				rel, _ := filepath.Rel(a.sys.WD, f)
				fmt.Fprintln(c.OutOrStdout(), rel)
			}
			fmt.Fprintf(c.ErrOrStderr(), "runbook created in %s: edit incident.toml (services, status page, channels), then run `incident doctor`\n", dir)
			if git {
				fmt.Fprintln(c.ErrOrStderr(), "git sync is on: add a remote your colleagues can reach (`git remote add origin URL && git push -u origin HEAD`)")
			}
			return nil
		},
	}
	c.Flags().BoolVar(&force, "force", false, "overwrite existing files")
	c.Flags().BoolVar(&git, "git", false, "share the runbook through git: turn on [sync] git = true, git init, commit")
	return c
}
