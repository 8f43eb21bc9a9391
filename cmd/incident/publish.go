package main

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/incident-cli/incident/publishers/static"
	"github.com/incident-cli/incident/runbook"
	"github.com/incident-cli/incident/templates"
)

// publishFlags are the flags every publishing command shares.
type publishFlags struct {
	status   string
	message  string
	accounts int
	states   []string // --state SERVICE=STATE
	yes      bool
	dryRun   bool
}

func (f *publishFlags) register(c *cobra.Command, withStatus bool) {
	if withStatus {
		c.Flags().StringVar(&f.status, "status", "", "investigating, identified or monitoring")
	}
	c.Flags().StringVarP(&f.message, "message", "m", "", "the update's text (Markdown)")
	c.Flags().IntVar(&f.accounts, "accounts", 0, "estimate of accounts affected")
	stateHelp := "an affected service's state, SERVICE=STATE (repeatable): operational, degraded_performance, partial_outage, major_outage, under_maintenance; default from the severity"
	if !withStatus {
		stateHelp = "SERVICE=operational (repeatable): closing sets every service operational"
	}
	c.Flags().StringArrayVar(&f.states, "state", nil, stateHelp)
	c.Flags().BoolVarP(&f.yes, "yes", "y", false, "publish without the confirm step")
	c.Flags().BoolVar(&f.dryRun, "dry-run", false, "render every channel's text with its length and publish nothing")
}

// accountsPtr returns the --accounts value when the flag was given.
func accountsPtr(c *cobra.Command, f *publishFlags) (*int, error) {
	if !c.Flags().Changed("accounts") {
		return nil, nil
	}
	if f.accounts < 0 {
		return nil, usageErrorf("--accounts must be 0 or more")
	}
	v := f.accounts
	return &v, nil
}

// parsedStates returns the --state values as service id -> state.
func (f *publishFlags) parsedStates() (map[string]string, error) {
	m, err := runbook.ParseStates(f.states)
	if err != nil {
		return nil, usageErrorf("%v", err)
	}
	return m, nil
}

// publish runs one publish and prints what happened. id is "" for open.
func (a *app) publish(c *cobra.Command, id string, d runbook.Draft, f *publishFlags) error {
	rb, err := a.runbook()
	if err != nil {
		return err
	}
	if d.States == nil {
		if d.States, err = f.parsedStates(); err != nil {
			return err
		}
	}
	if !f.yes && !f.dryRun {
		if !a.canPrompt() {
			return usageErrorf("publishing needs --yes when no one can confirm at a terminal (or --dry-run to preview)")
		}
		preview, err := rb.Publish(c.Context(), id, d, runbook.PublishOptions{DryRun: true})
		if err != nil {
			return renderFailure(c.ErrOrStderr(), preview, err)
		}
		printRendered(c.ErrOrStderr(), preview.Rendered)
		ok, err := a.confirm("Publish to " + channelList(rb) + "?")
		if err != nil {
			return err
		}
		if !ok {
			fmt.Fprintln(c.ErrOrStderr(), "nothing was published")
			return exitCode(exitFailed)
		}
	}
	stderr := c.ErrOrStderr()
	res, err := rb.Publish(c.Context(), id, d, runbook.PublishOptions{DryRun: f.dryRun, OnResult: func(r runbook.ChannelResult) {
		printChannelResult(stderr, r)
	}})
	if err != nil {
		return renderFailure(stderr, res, err)
	}
	if f.dryRun {
		printRendered(c.OutOrStdout(), res.Rendered)
		fmt.Fprintln(stderr, "dry run: nothing was published or recorded")
		return nil
	}
	return a.finish(c, res)
}

func renderFailure(w io.Writer, res *runbook.Result, err error) error {
	var re *runbook.RenderError
	if errors.As(err, &re) && res != nil {
		var over []runbook.Rendered
		for _, x := range res.Rendered {
			if x.Over() {
				over = append(over, x)
			}
		}
		printRendered(w, over)
	}
	return err
}

// finish prints the summary of a publish or retry and picks the exit code.
func (a *app) finish(c *cobra.Command, res *runbook.Result) error {
	rb := a.rb
	stderr := c.ErrOrStderr()
	inc := res.Incident
	if res.Update != nil {
		u := res.Update
		fmt.Fprintf(stderr, "[%s] update #%d of %s\n", templates.StatusTitle(u.Event.Status), u.Number, inc.ID)
	}
	a.whereLine(stderr, inc.ID)
	if due, ok := rb.UpdateDue(inc); ok {
		fmt.Fprintf(stderr, "next update due %s, in %s\n", a.clock(due), templates.Duration(due.Sub(rb.Now())))
	}
	for _, r := range res.Channels {
		if r.StatusPage && r.URL != "" {
			fmt.Fprintln(c.OutOrStdout(), line(r.URL))
		}
	}
	switch {
	case res.StatusPageFailed():
		fmt.Fprintf(stderr, "incident: the status page did not take the update, so nothing was published; it is recorded: fix the problem above, then run `incident retry %s`\n", inc.ID)
		return exitCode(exitFailed)
	case res.Failed() > 0:
		fmt.Fprintf(stderr, "incident: %d channel(s) failed; the status page has the update; run `incident retry %s` to deliver the rest\n", res.Failed(), inc.ID)
		return exitCode(exitPartial)
	}
	return nil
}

// whereLine says in one line where the page and the record are.
func (a *app) whereLine(w io.Writer, id string) {
	rb := a.rb
	record := filepath.Join(rb.Store.Dir, id)
	page := ""
	if s, ok := rb.StatusPage.Pub.(*static.Publisher); ok {
		page = filepath.Join(s.Dir(), "index.html")
	}
	switch {
	case rb.Embedded:
		fmt.Fprintf(w, "no runbook found, so the built-in default ran: status page %s, record %s (`incident init DIR` makes them editable)\n", page, record)
	case page != "":
		fmt.Fprintf(w, "status page %s, record %s\n", page, record)
	default:
		fmt.Fprintf(w, "record %s\n", record)
	}
}

func printChannelResult(w io.Writer, r runbook.ChannelResult) {
	switch {
	case r.Skipped:
		fmt.Fprintf(w, "- %s: %s\n", r.Channel, line(r.Error))
	case r.Error != "":
		fmt.Fprintf(w, "✗ %s\n", line(r.Error))
	case r.Superseded:
		fmt.Fprintf(w, "- %s: %s\n", line(r.Channel), line(r.Note))
	case r.Note != "":
		fmt.Fprintf(w, "✓ %s: %s (%s)\n", line(r.Channel), line(r.URL), line(r.Note))
	default:
		fmt.Fprintf(w, "✓ %s: %s\n", r.Channel, line(r.URL))
	}
}

func printRendered(w io.Writer, rs []runbook.Rendered) {
	for _, x := range rs {
		length := fmt.Sprintf("%d characters", x.Length)
		if x.Limit > 0 {
			length = fmt.Sprintf("%d/%d", x.Length, x.Limit)
			if x.Over() {
				length += " OVER THE LIMIT"
			}
		}
		role := x.Type
		if x.StatusPage {
			role += ", status page"
		}
		fmt.Fprintf(w, "── %s (%s) · %s · %s\n", x.Channel, role, x.Template, length)
		if x.Title != "" && (x.StatusPage || x.Type == "discourse") {
			fmt.Fprintf(w, "title: %s\n", x.Title)
		}
		fmt.Fprintln(w, strings.TrimRight(x.Text, "\n"))
		fmt.Fprintln(w)
	}
}

func channelList(rb *runbook.Runbook) string {
	var names []string
	for _, c := range rb.Channels() {
		names = append(names, c.Name)
	}
	return strings.Join(names, ", ")
}

// clock formats a time in the runbook's zones: "12:00 CEST (10:00 UTC)".
func (a *app) clock(t time.Time) string {
	parts := make([]string, 0, len(a.rb.Zones))
	for _, z := range a.rb.Zones {
		parts = append(parts, t.In(z).Format("15:04 MST"))
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return parts[0] + " (" + strings.Join(parts[1:], ", ") + ")"
}

// when formats a time with its date in the runbook's zones.
func (a *app) when(t time.Time) string {
	return t.In(a.rb.Zones[0]).Format("Mon 2 Jan ") + a.clock(t)
}

// resolveID picks the incident a command acts on: the argument, or the only
// open incident.
func (a *app) resolveID(args []string) (string, error) {
	rb, err := a.runbook()
	if err != nil {
		return "", err
	}
	if len(args) > 0 {
		if err := rb.Store.Check(args[0]); errors.Is(err, runbook.ErrUnknownIncident) {
			return "", usageErrorf("unknown incident %q; `incident list --all` shows every incident", args[0])
		} else if err != nil {
			return "", err
		}
		return args[0], nil
	}
	sums, err := rb.OpenSummaries()
	if err != nil {
		return "", err
	}
	var open []string
	for _, s := range sums {
		if s.Open() && s.Maintenance == nil { // maintenance windows are named, or picked by `incident maintenance`
			open = append(open, s.ID)
		}
	}
	switch len(open) {
	case 0:
		return "", usageErrorf("no incident is open; name one (`incident list --all` shows them) or run `incident open`")
	case 1:
		return open[0], nil
	}
	return "", usageErrorf("%d incidents are open (%s); name the one you mean", len(open), strings.Join(open, ", "))
}

// warnUndelivered says in one line when an incident has undelivered work.
func (a *app) warnUndelivered(w io.Writer, inc *runbook.Incident) {
	if n := inc.Undelivered(); n > 0 {
		fmt.Fprintf(w, "note: %s has %d undelivered post(s); `incident retry %s` delivers them\n", inc.ID, n, inc.ID)
	}
}

// target is what update and close start with: the incident (named, or the
// only open one), loaded, with a line if it has undelivered posts, and the
// --accounts value when given.
func (a *app) target(c *cobra.Command, args []string, f *publishFlags) (*runbook.Incident, *int, error) {
	id, err := a.resolveID(args)
	if err != nil {
		return nil, nil, err
	}
	acc, err := accountsPtr(c, f)
	if err != nil {
		return nil, nil, err
	}
	inc, err := a.rb.Store.Load(id)
	if err != nil {
		return nil, nil, err
	}
	if inc.Maintenance != nil {
		return nil, nil, usageErrorf("%s is a maintenance window: `incident maintenance start|complete|cancel %s` moves it on", id, id)
	}
	a.warnUndelivered(c.ErrOrStderr(), inc)
	return inc, acc, nil
}
