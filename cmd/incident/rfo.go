package main

import (
	"github.com/spf13/cobra"
)

func (a *app) runRFO(c *cobra.Command, id string) error {
	return usageErrorf("the RFO is not built yet")
}
