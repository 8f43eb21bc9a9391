package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/charmbracelet/huh"
	"github.com/spf13/cobra"

	"github.com/incident-cli/incident/checklists"
	"github.com/incident-cli/incident/runbook"
)

func (a *app) newTrustCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "trust [DIR]",
		Short: "Trust a runbook: its folder, when it is not yours alone, and its cmd: secrets",
		Long: `Trust the runbook in DIR (default: the runbook the other commands find). Like git's
safe.directory: a runbook whose incident.toml or folder belongs to someone else, or
that its group or others can write, is not used until you trust it, because whoever
controls the config can run any command as you through a cmd: secret. Trusting adds
the folder to ` + "`$XDG_CONFIG_HOME/incident/" + runbook.TrustFileName + "`" + ` (a list, "trust"; "*" trusts every
folder).

It also trusts the config's cmd: secrets as they are now: a cmd: reference runs only
once you trusted it, and one that is new or changed (after a git pull, say) is asked
about at a terminal, or refused with --no-input, until you run this again. Nothing
runs here: check the cmd: references in incident.toml first.`,
		Args: cobra.MaximumNArgs(1),
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return nil, cobra.ShellCompDirectiveFilterDirs
		},
		RunE: func(c *cobra.Command, args []string) error {
			flag := a.dir
			if len(args) == 1 {
				flag = args[0]
			}
			loc, err := runbook.Find(flag, a.sys.Getenv, a.sys.WD)
			if err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			if loc.Embedded {
				return usageErrorf("no runbook found (the built-in default runs no commands): name one, `incident trust DIR`")
			}
			rep, err := runbook.Trust(loc.Dir, a.sys.Getenv)
			if err != nil {
				return err
			}
			w := c.ErrOrStderr()
			if rep.TrustFile != "" {
				fmt.Fprintf(w, "trusted the folder %s (%s): added to %s\n", rep.Dir, rep.Reason, rep.TrustFile)
			}
			switch len(rep.Commands) {
			case 0:
				fmt.Fprintf(w, "%s: no cmd: secrets to trust\n", rep.Dir)
			default:
				fmt.Fprintf(w, "trusted %d cmd: secret(s) of %s as they are now: %s\n", len(rep.Commands), rep.Dir, strings.Join(rep.Commands, ", "))
			}
			return nil
		},
	}
}

// trustCommands makes sure no cmd: secret of the runbook runs unless the
// user trusted it: new or changed ones are asked about at a terminal, and
// refused (naming them) when no one can answer.
func (a *app) trustCommands(rb *runbook.Runbook) error {
	cmds := rb.UntrustedCommands()
	if len(cmds) == 0 {
		return nil
	}
	refusal := rb.UntrustedCommandsError(cmds)
	if !a.canPrompt() {
		return refusal
	}
	w := a.stderr()
	fmt.Fprintf(w, "%s gets secrets by running commands you have not trusted yet (new, or changed since you last did):\n", rb.ConfigFile)
	for _, c := range refusal.Commands {
		fmt.Fprintf(w, "  %s\n", c)
	}
	ok, err := a.ask("Trust them? They run as you whenever a channel needs its secret.", "Trust them", "Cancel")
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%s: the cmd: secrets are not trusted, so nothing ran; check them, then run `incident trust %s`", rb.ConfigFile, rb.Dir)
	}
	if err := rb.TrustCommands(); err != nil {
		return err
	}
	fmt.Fprintf(w, "trusted %d cmd: secret(s) of %s\n", len(cmds), rb.ConfigFile)
	return nil
}

// ask is a yes/no question, default no.
func (a *app) ask(q, yes, no string) (bool, error) {
	ok := false
	err := a.forms().Run(context.Background(), huh.NewGroup(huh.NewConfirm().Title(q).Affirmative(yes).Negative(no).Value(&ok)))
	if errors.Is(err, checklists.ErrAborted) {
		return false, nil
	}
	return ok, err
}
