package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/incident-cli/incident/runbook"
	"github.com/incident-cli/incident/templates"
)

func (a *app) newMaintenanceCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "maintenance",
		Short: "Scheduled maintenance: announce a window, then start, complete or cancel it",
		Long: `Scheduled maintenance. ` + "`incident maintenance schedule`" + ` announces a window on the status
page and every link channel. ` + "`incident serve`" + ` and ` + "`incident tick`" + ` then publish, by
themselves and once each, a reminder before it starts ([maintenance] remind_before,
60 min by default), its start and its completion, unless a person already did:
start early, complete early or cancel with the commands below. A service is under
maintenance only while its window is in progress; a window to come never changes
its state. Inside a window, an alert on its services is recorded but neither
pages nor publishes, unless its route's during_maintenance says otherwise.`,
	}
	c.AddCommand(a.newMaintenanceScheduleCmd(), a.newMaintenanceListCmd(),
		a.newMaintenancePhaseCmd("start", runbook.InProgress, "Publish that a window is in progress (early, or instead of the timer)",
			`  incident maintenance start --message "The upgrade has begun; IMAP may drop connections for a few minutes." --yes`),
		a.newMaintenancePhaseCmd("complete", runbook.Completed, "Publish that a window's work is done (early, or instead of the timer)",
			`  incident maintenance complete --yes`),
		a.newMaintenancePhaseCmd("cancel", runbook.Cancelled, "Publish that a window to come is called off",
			`  incident maintenance cancel 2026-11-27-imap-server-upgrade --message "We postpone the upgrade; a new date follows." --yes`))
	for _, sub := range c.Commands() {
		sub.Args = wrapArgs(sub.Args)
		a.completeFlags(sub)
	}
	return c
}

func (a *app) newMaintenanceScheduleCmd() *cobra.Command {
	var (
		f                 publishFlags
		title, start, end string
		services          []string
	)
	c := &cobra.Command{
		Use:   "schedule",
		Short: "Announce a maintenance window on every channel",
		Long: `Announce a maintenance window: a [Scheduled maintenance] post on the status page,
linked from every other channel. --start and --end are read in the runbook's
primary zone ("2026-12-01 22:00", "22:00" for the next time it is 22:00, RFC 3339,
or "+2h" from now); --end may also be "+1h30m" after the start. The window must lie
ahead. The message defaults to the scheduled message of maintenance.md.tmpl.
` + exitStatusHelp,
		Example: `  incident maintenance schedule --service imap --title "IMAP server upgrade" \
      --start "2026-12-01 22:00" --end "2026-12-01 23:00" --yes`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			rb, err := a.runbook()
			if err != nil {
				return err
			}
			switch {
			case strings.TrimSpace(title) == "":
				return usageErrorf("--title is required: what customers see, e.g. \"IMAP server upgrade\"")
			case len(services) == 0:
				return usageErrorf("--service is required (repeatable): the services the maintenance affects")
			case start == "" || end == "":
				return usageErrorf("--start and --end are required: when the window begins and ends")
			}
			w, err := parseWindow(start, end, rb)
			if err != nil {
				return err
			}
			d, err := rb.ScheduleDraft(title, services, w, f.message)
			if err != nil {
				return err
			}
			if err := a.publish(c, "", d, &f); err != nil || f.dryRun {
				return err
			}
			a.maintenancePlan(c.ErrOrStderr(), &runbook.Maintenance{Start: w.Start, End: w.End, Phase: runbook.Scheduled}, rb.Now())
			return nil
		},
	}
	c.Flags().StringVarP(&title, "title", "t", "", "what customers see, e.g. \"IMAP server upgrade\"")
	c.Flags().StringSliceVarP(&services, "service", "s", nil, "affected service id (repeatable)")
	c.Flags().StringVar(&start, "start", "", "when the window begins (\"2026-12-01 22:00\", \"22:00\", RFC 3339, \"+2h\")")
	c.Flags().StringVar(&end, "end", "", "when it ends (as --start, or \"+1h30m\" after the start)")
	maintenanceFlags(c, &f)
	return c
}

// maintenanceFlags are the publishing flags of the maintenance commands:
// no status, states or accounts (a window sets its own).
func maintenanceFlags(c *cobra.Command, f *publishFlags) {
	c.Flags().StringVarP(&f.message, "message", "m", "", "the post's text (Markdown; default: maintenance.md.tmpl)")
	c.Flags().BoolVarP(&f.yes, "yes", "y", false, "publish without the confirm step")
	c.Flags().BoolVar(&f.dryRun, "dry-run", false, "render every channel's text with its length and publish nothing")
}

// newMaintenancePhaseCmd is start, complete or cancel: status is the phase
// the window moves to.
func (a *app) newMaintenancePhaseCmd(verb, status, short, example string) *cobra.Command {
	var f publishFlags
	c := &cobra.Command{
		Use:   verb + " [ID]",
		Short: short,
		Long: short + `. ID may be left out when exactly one window can be ` + map[string]string{
			"start": "started (one is scheduled)", "complete": "completed (one is in progress, or past its start)",
			"cancel": "cancelled (one is scheduled)"}[verb] + `. The message defaults to that phase's message of
maintenance.md.tmpl. The timers never publish a phase a person already did.
` + exitStatusHelp,
		Example:           example,
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: a.completeWindows(),
		RunE: func(c *cobra.Command, args []string) error {
			id, err := a.resolveWindow(args, verb, status)
			if err != nil {
				return err
			}
			inc, err := a.rb.Store.Load(id)
			if err != nil {
				return err
			}
			a.warnUndelivered(c.ErrOrStderr(), inc)
			d, err := a.rb.MaintenanceDraft(inc, status, f.message)
			if err != nil {
				return err
			}
			if err := a.publish(c, id, d, &f); err != nil || f.dryRun {
				return err
			}
			if inc, err = a.rb.Store.Load(id); err == nil && inc.Open() {
				a.maintenancePlan(c.ErrOrStderr(), inc.Maintenance, a.rb.Now())
			}
			return nil
		},
	}
	maintenanceFlags(c, &f)
	return c
}

func (a *app) newMaintenanceListCmd() *cobra.Command {
	var all, asJSON bool
	c := &cobra.Command{
		Use:   "list",
		Short: "List maintenance windows to come and in progress (--all: every one), soonest first",
		Long: `List maintenance windows: id, status, title, window, services; those to come and
in progress, soonest first, or with --all every one. With --json, print an array
with the fields of ` + "`incident list --json`" + `, each with "maintenance": {"start", "end",
"phase", "reminded_at"}.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			rb, err := a.runbook()
			if err != nil {
				return err
			}
			sums, err := rb.Summaries()
			if err != nil {
				return err
			}
			shown := []runbook.Summary{}
			for _, s := range sums {
				if s.Maintenance != nil && (all || s.Open()) {
					shown = append(shown, s)
				}
			}
			slices.SortStableFunc(shown, func(x, y runbook.Summary) int { return x.Maintenance.Start.Compare(y.Maintenance.Start) })
			if asJSON {
				enc := json.NewEncoder(c.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(shown)
			}
			if len(shown) == 0 {
				fmt.Fprintln(c.ErrOrStderr(), "no maintenance windows to come (`incident maintenance list --all` shows past ones)")
				return nil
			}
			w := tabwriter.NewWriter(c.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tSTATUS\tTITLE\tWINDOW\tSERVICES")
			for _, s := range shown {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", s.ID, s.Status, clean(s.Title), rb.Templates.ShortWindow(s.Maintenance.Start, s.Maintenance.End),
					strings.Join(s.Services, ", "))
			}
			return w.Flush()
		},
	}
	c.Flags().BoolVar(&all, "all", false, "every window, finished ones too")
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

// parseWindow reads --start and --end: both ahead, the end after the start.
func parseWindow(start, end string, rb *runbook.Runbook) (runbook.Window, error) {
	var w runbook.Window
	var err error
	if w.Start, err = parseAhead(start, rb.Now(), rb); err != nil {
		return w, usageErrorf("--start: %v", err)
	}
	if !w.Start.After(rb.Now()) {
		return w, usageErrorf("--start: %s is not in the future; a maintenance window lies ahead (`incident open` for what happens now)", rb.Templates.When(w.Start))
	}
	if w.End, err = parseAhead(end, w.Start, rb); err != nil {
		return w, usageErrorf("--end: %v", err)
	}
	if !w.End.After(w.Start) {
		return w, usageErrorf("--end: %s is not after the start, %s", rb.Templates.When(w.End), rb.Templates.When(w.Start))
	}
	return w, nil
}

// parseAhead reads a time to come: RFC 3339, "2006-01-02 15:04" in the
// runbook's primary zone, "15:04" (the first such time after from), or
// "+DURATION" after from.
func parseAhead(s string, from time.Time, rb *runbook.Runbook) (time.Time, error) {
	s = strings.TrimSpace(s)
	zone := rb.Zones[0]
	if d, ok := strings.CutPrefix(s, "+"); ok {
		v, err := time.ParseDuration(strings.ReplaceAll(d, " ", ""))
		if err != nil || v <= 0 {
			return time.Time{}, fmt.Errorf("%q: write a duration like \"+2h\" or \"+1h30m\"", s)
		}
		return from.Add(v).UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	for _, layout := range []string{"2006-01-02 15:04", "2006-01-02T15:04"} {
		if t, err := time.ParseInLocation(layout, s, zone); err == nil {
			return t.UTC(), nil
		}
	}
	if t, err := time.ParseInLocation("15:04", s, zone); err == nil {
		local := from.In(zone)
		at := time.Date(local.Year(), local.Month(), local.Day(), t.Hour(), t.Minute(), 0, 0, zone)
		if !at.After(from) {
			at = time.Date(local.Year(), local.Month(), local.Day()+1, t.Hour(), t.Minute(), 0, 0, zone)
		}
		return at.UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%q is not a time: use \"2026-12-01 22:00\" (%s), \"22:00\", RFC 3339, or \"+2h\"", s, from.In(zone).Format("MST"))
}

// resolveWindow picks the window a phase command acts on: the argument, or
// the only window that can take the phase.
func (a *app) resolveWindow(args []string, verb, status string) (string, error) {
	rb, err := a.runbook()
	if err != nil {
		return "", err
	}
	if len(args) > 0 {
		if !rb.Store.Exists(args[0]) {
			return "", usageErrorf("unknown maintenance window %q; `incident maintenance list --all` shows them", args[0])
		}
		return args[0], nil
	}
	sums, err := rb.OpenSummaries()
	if err != nil {
		return "", err
	}
	now := rb.Now()
	var fit []string
	for _, s := range sums {
		m := s.Maintenance
		switch {
		case m == nil || !s.Open():
		case status == runbook.Completed && (m.Phase == runbook.InProgress || !now.Before(m.Start)):
			fit = append(fit, s.ID)
		case status != runbook.Completed && m.Phase == runbook.Scheduled:
			fit = append(fit, s.ID)
		}
	}
	switch len(fit) {
	case 0:
		return "", usageErrorf("no maintenance window to %s; name one (`incident maintenance list` shows them) or `incident maintenance schedule` one", verb)
	case 1:
		return fit[0], nil
	}
	return "", usageErrorf("%d maintenance windows could be meant (%s); name the one to %s", len(fit), strings.Join(fit, ", "), verb)
}

// completeWindows completes the ids of open maintenance windows.
func (a *app) completeWindows() cobra.CompletionFunc {
	return func(c *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		a.noPull = true
		rb, err := a.runbook()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		sums, _ := rb.OpenSummaries()
		var out []string
		for _, s := range sums {
			if s.Maintenance != nil {
				out = append(out, s.ID+"\t"+s.Status+": "+s.Title)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// maintenanceText is a window in one line for list and show:
// "maintenance, Tue 1 Dec 22:00–23:00 CET".
func (a *app) maintenanceText(m *runbook.MaintenanceSummary) string {
	return "maintenance, " + a.rb.Templates.ShortWindow(m.Start, m.End)
}

// maintenancePlan says what the timers will do with an open window.
func (a *app) maintenancePlan(w io.Writer, m *runbook.Maintenance, now time.Time) {
	rb := a.rb
	fmt.Fprintf(w, "maintenance window %s\n", rb.Templates.Window(m.Start, m.End))
	if m.Phase == runbook.Scheduled {
		if before := rb.RemindBefore(); before > 0 && m.RemindedAt.IsZero() && now.Before(m.Start.Add(-before)) {
			fmt.Fprintf(w, "  reminder by itself at %s (%s before)\n", a.when(m.Start.Add(-before)), templates.Duration(before))
		}
		fmt.Fprintf(w, "  in progress by itself at %s (`incident maintenance start` starts it earlier)\n", a.when(m.Start))
	}
	fmt.Fprintf(w, "  completed by itself at %s (`incident maintenance complete` ends it earlier)\n", a.when(m.End))
	fmt.Fprintln(w, "  published by `incident serve`, or `incident tick` from cron")
}

// alertLine is alertingSummary for list and status, aware of maintenance:
// a private alert-born incident inside a maintenance window whose route
// holds its automatic update back says so (held), and pages says whether
// its route still pages people then.
func (a *app) alertLine(s runbook.Summary, now time.Time) (text string, held, pages bool) {
	pages = true
	if s.FromAlert && s.Private && s.Open() && !s.AutoPostAt.IsZero() {
		if inc, err := a.rb.Store.Load(s.ID); err == nil && !a.rb.MaintenanceAllows(inc, now, "publish") {
			s.AutoPostAt = time.Time{}
			return a.alertingSummary(s, now) + ", inside a maintenance window: no automatic update", true, a.rb.MaintenanceAllows(inc, now, "page")
		}
	}
	return a.alertingSummary(s, now), false, true
}
