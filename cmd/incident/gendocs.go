//go:build gendocs

package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// The gendocs command is built only with the build tag gendocs (`go run
// -tags gendocs ./cmd/incident gendocs DIR`, as .goreleaser.yaml does): the
// man page generator (cobra/doc, go-md2man, blackfriday, yaml) would
// otherwise be in every binary, and its package initialisation in every
// command's start.

// devCommands are the commands of a gendocs build.
func (a *app) devCommands() []*cobra.Command { return []*cobra.Command{a.newGendocsCmd()} }

// newGendocsCmd writes man pages and shell completions, for release archives
// and packages (.goreleaser.yaml runs it). It is hidden: users get
// completions from `incident completion SHELL`.
func (a *app) newGendocsCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "gendocs DIR",
		Short:  "Write man pages (DIR/man) and shell completions (DIR/completions)",
		Hidden: true,
		Args:   cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			root := c.Root()
			root.DisableAutoGenTag = true
			man := filepath.Join(args[0], "man")
			comp := filepath.Join(args[0], "completions")
			for _, d := range []string{man, comp} {
				if err := os.MkdirAll(d, 0o755); err != nil {
					return err
				}
			}
			header := &doc.GenManHeader{Title: "INCIDENT", Section: "1", Source: "incident " + versionString(), Manual: "incident manual"}
			if err := doc.GenManTree(root, header, man); err != nil {
				return err
			}
			files := map[string]func(string) error{
				"incident.bash": func(p string) error { return root.GenBashCompletionFileV2(p, true) },
				"incident.zsh":  root.GenZshCompletionFile,
				"incident.fish": func(p string) error { return root.GenFishCompletionFile(p, true) },
				"incident.ps1":  root.GenPowerShellCompletionFileWithDesc,
			}
			for name, gen := range files {
				if err := gen(filepath.Join(comp, name)); err != nil {
					return err
				}
			}
			fmt.Fprintf(c.ErrOrStderr(), "wrote man pages to %s and completions to %s\n", man, comp)
			return nil
		},
	}
}
