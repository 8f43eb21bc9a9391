package main

import (
	"github.com/spf13/cobra"

	"github.com/incident-cli/incident/runbook"
)

func (a *app) walkOpen(c *cobra.Command, d runbook.Draft, f *publishFlags) error {
	return usageErrorf("interactive walk: not yet")
}

func (a *app) walkPhase(c *cobra.Command, phase, id string, d runbook.Draft, f *publishFlags) error {
	return usageErrorf("interactive walk: not yet")
}

func (a *app) confirm(q string) (bool, error) { return false, usageErrorf("no") }

func (a *app) runRFO(c *cobra.Command, id string) error { return usageErrorf("rfo: not yet") }
