package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/incident-cli/incident/alerts"
	"github.com/incident-cli/incident/runbook"
)

// maxAlertBody is the most of a payload `incident alert` and `incident
// serve` read.
const maxAlertBody = 1 << 20

func (a *app) newAlertCmd() *cobra.Command {
	var (
		source, file string
		bulk, asJSON bool
	)
	c := &cobra.Command{
		Use:   "alert --source SOURCE [--file F|-] [ARGS...]",
		Short: "Take one alert from a monitoring system (a notification command)",
		Long: `Take one alert: it joins the incident it belongs to, or opens a triggered incident
(private: nothing is published until a person does, or the route's publish_after
passes with nobody acknowledging). The same code path as ` + "`incident serve`" + `.

Sources:
  nagios        a Nagios notification command: the NAGIOS_* environment macros
                (enable_environment_macros=1), else the arguments NOTIFICATIONTYPE
                HOSTNAME SERVICEDESC SERVICESTATE PROBLEMID [OUTPUT]
  checkmk       a Checkmk notification script: the NOTIFY_* environment; with
                --bulk, a bulk notification on stdin
  alertmanager, grafana, nodeping, uptime-kuma, generic
                a payload from --file F, or stdin (- or no --file); at most 1 MiB

EXIT STATUS
  0  recorded (or nothing to record: a repeat, an acknowledgement notification)
  1  a temporary failure: try again (Checkmk retries)
  2  the input cannot be read (the message says which field)`,
		Example: `  define command {
    command_name notify-incident
    command_line /usr/bin/incident alert --source nagios --runbook /etc/incident
  }
  amtool ... | incident alert --source alertmanager -`,
		RunE: func(c *cobra.Command, args []string) error {
			var (
				as  []alerts.Alert
				err error
			)
			switch source {
			case "":
				return usageErrorf("--source is required: one of nagios, checkmk, %s", strings.Join(alerts.Sources(), ", "))
			case alerts.SourceNagios:
				as, err = alerts.FromNagios(a.sys.Getenv, args)
			case alerts.SourceCheckmk:
				if bulk {
					var b []byte
					if b, err = readLimited(a.sys.In, alerts.MaxBulkInput); err == nil {
						as, err = alerts.FromCheckmkBulk(b)
					}
				} else {
					as, err = alerts.FromCheckmk(a.sys.Getenv)
				}
			default:
				if len(args) > 0 {
					return usageErrorf("%s takes its payload from --file or stdin, not arguments", source)
				}
				var b []byte
				if b, err = a.readPayload(file); err == nil {
					as, err = alerts.Parse(source, b)
				}
			}
			var ign *alerts.Ignored
			var bad *alerts.InputError
			switch {
			case errors.As(err, &ign):
				fmt.Fprintln(c.ErrOrStderr(), clean(ign.Error()))
				return nil
			case errors.As(err, &bad):
				return usageErrorf("%s; nothing was recorded", clean(bad.Error()))
			case err != nil:
				return &exitError{code: exitUsage, err: err}
			}
			rb, err := a.runbook()
			if err != nil {
				return err
			}
			in, err := rb.TakeAlerts(c.Context(), as)
			if err != nil {
				return fmt.Errorf("%v; nothing more was recorded, try again", err)
			}
			if asJSON {
				enc := json.NewEncoder(c.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(in)
			}
			a.printIntake(c.ErrOrStderr(), in)
			return nil
		},
	}
	c.Flags().StringVar(&source, "source", "", "nagios, checkmk, alertmanager, grafana, nodeping, uptime-kuma or generic")
	c.Flags().StringVarP(&file, "file", "f", "", "the payload's file (- or none: stdin)")
	c.Flags().BoolVar(&bulk, "bulk", false, "checkmk: a bulk notification on stdin")
	c.Flags().BoolVar(&asJSON, "json", false, "print what became of each alert as JSON")
	return c
}

// readPayload reads a payload from a file or stdin, at most maxAlertBody.
func (a *app) readPayload(file string) ([]byte, error) {
	r := a.sys.In
	if file != "" && file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	return readLimited(r, maxAlertBody)
}

func readLimited(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("the payload is over %d bytes; nothing was recorded", limit)
	}
	return b, nil
}

// printIntake says in a line per alert what became of it.
func (a *app) printIntake(w io.Writer, in []runbook.Intake) {
	rb := a.rb
	for _, x := range in {
		line := clean(x.Alert) + ": " + x.What
		if x.Incident != "" {
			line += " " + x.Incident
			if inc, err := rb.Store.Load(x.Incident); err == nil {
				line += " (" + a.alertingText(inc) + ")"
			}
		}
		fmt.Fprintln(w, line)
	}
}
