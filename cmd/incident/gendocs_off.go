//go:build !gendocs

package main

import "github.com/spf13/cobra"

// devCommands are the commands only a gendocs build has (see gendocs.go):
// none in the binary users run.
func (a *app) devCommands() []*cobra.Command { return nil }
