package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"
)

func (a *app) newDoctorCmd() *cobra.Command {
	var online, asJSON bool
	c := &cobra.Command{
		Use:   "doctor",
		Short: "Check the runbook: config, templates, checklists, secrets (and with --online, credentials)",
		Long: `Check the runbook before an outage finds its problems: the config decodes
strictly, every template renders with sample data and fits every channel, every
checklist is valid (the open checklist starts with a publish item), every secret
reference resolves; it shows each escalation policy's levels and who the rota
says is on call now. With --online, make one read-only call per channel and per
pager to check its credentials (Pushover users/validate, SMTP connect and login,
IRC connect and quit: nobody is paged). Exit status 0 when all is well, 1
otherwise.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			rb, err := a.runbook()
			if err != nil {
				return err
			}
			checks := rb.Doctor(c.Context(), online)
			failed := 0
			for _, ch := range checks {
				if !ch.OK {
					failed++
				}
			}
			if asJSON {
				enc := json.NewEncoder(rawOut(c))
				enc.SetIndent("", "  ")
				if err := enc.Encode(checks); err != nil {
					return err
				}
			} else {
				for _, ch := range checks {
					mark := "ok  "
					if !ch.OK {
						mark = "FAIL"
					}
					line := fmt.Sprintf("%s %s", mark, ch.What)
					if ch.Info != "" {
						line += ": " + ch.Info
					}
					fmt.Fprintln(c.OutOrStdout(), line)
				}
			}
			if failed > 0 {
				fmt.Fprintf(c.ErrOrStderr(), "incident: %d check(s) failed\n", failed)
				return exitCode(exitFailed)
			}
			return nil
		},
	}
	c.Flags().BoolVar(&online, "online", false, "also check each channel's and pager's credentials with one read-only call")
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}
