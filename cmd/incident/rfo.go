package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/charmbracelet/huh"
	"github.com/spf13/cobra"

	"github.com/incident-cli/incident/checklists"
	"github.com/incident-cli/incident/runbook"
	"github.com/incident-cli/incident/templates"
)

// rfoFlags are the sections of an RFO given on the command line.
type rfoFlags struct {
	from                                             string
	summary, impact, rootCause, mitigation, followUp string
	announce, yes, dryRun                            bool
}

func (a *app) newRFOCmd() *cobra.Command {
	var f rfoFlags
	c := &cobra.Command{
		Use:   "rfo [ID]",
		Short: "Write (or edit) and publish the Reason For Outage of a resolved incident",
		Long: `Write and publish the Reason For Outage (RFO) of a resolved incident: summary,
impact, root cause, what was done, what changes, and a timeline generated from the
record (updates, checklist steps, notes marked --public), with the communication
figures customers care about. It is its own status-page post, linked from the
incident's post; the forum topic and social threads get a short post linking to it.

At a terminal the rfo checklist walks you through it, saving a draft as you go.
Without one, give the sections with flags, or the report as you wrote it with
--from FILE: Markdown whose ## and ### sections are all kept, in order, as
written. Headings that name a known section are recognised (Summary/Overview,
Impact/Customer impact, Root cause/Cause, Mitigation/Resolution/What we did,
Follow-up/Action items/Next steps/What we are changing, Timeline); text before
the first heading, or a file without headings, is the summary. The impact
facts, the timeline generated from the record and the communication figures
are added where the file has none (its own "## Timeline" replaces the
generated one); --dry-run says what became of each section.

Publishing again after an edit updates the same RFO post; links are posted again
only with --announce. ID may be left out when exactly one recently resolved
incident has no RFO yet.
` + exitStatusHelp,
		Example: `  incident rfo 2026-11-27-imap-pop-login-failures --from rfo.md --yes`,
		Args:    cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			id, err := a.resolveResolvedID(args)
			if err != nil {
				return err
			}
			return a.rfo(c, id, &f)
		},
	}
	c.Flags().StringVar(&f.from, "from", "", "read the RFO from a Markdown `FILE`: any ## and ### sections, kept as written")
	c.Flags().StringVar(&f.summary, "summary", "", "what happened, in two or three sentences")
	c.Flags().StringVar(&f.impact, "impact", "", "how it felt to customers (services, accounts and duration are added)")
	c.Flags().StringVar(&f.rootCause, "root-cause", "", "why it happened")
	c.Flags().StringVar(&f.mitigation, "mitigation", "", "what was done to end it")
	c.Flags().StringVar(&f.followUp, "follow-up", "", "what changes, with owners")
	c.Flags().BoolVar(&f.announce, "announce", false, "post the link again to every link channel after an edit")
	c.Flags().BoolVarP(&f.yes, "yes", "y", false, "publish without the confirm step")
	c.Flags().BoolVar(&f.dryRun, "dry-run", false, "render every channel's text and publish nothing")
	return c
}

// readRFOFile reads an RFO file, at most one byte over the limit, so
// ParseRFO can refuse a larger one without reading it all.
func readRFOFile(name string) (string, error) {
	fh, err := os.Open(name)
	if err != nil {
		return "", usageErrorf("--from: %v", err)
	}
	defer fh.Close()
	b, err := io.ReadAll(io.LimitReader(fh, runbook.MaxRFOFile+1))
	if err != nil {
		return "", usageErrorf("--from: %v", err)
	}
	return string(b), nil
}

// runRFO continues `close --rfo` with the interactive RFO walk, or tells a
// script what to run.
func (a *app) runRFO(c *cobra.Command, id string) error {
	if !a.canPrompt() {
		fmt.Fprintf(c.ErrOrStderr(), "the incident is closed; no one can answer prompts here, so write the RFO with `incident rfo %s --from FILE --yes` (or the section flags)\n", id)
		return nil
	}
	return a.rfo(c, id, &rfoFlags{})
}

func (a *app) rfo(c *cobra.Command, id string, f *rfoFlags) error {
	rb := a.rb
	inc, err := rb.Store.Load(id)
	if err != nil {
		return err
	}
	if inc.Open() {
		return usageErrorf("incident %s is not resolved: close it first (`incident close %s --rfo`)", id, id)
	}
	a.warnUndelivered(c.ErrOrStderr(), inc)
	t := rb.DraftRFO(inc)
	if f.from != "" {
		src, err := readRFOFile(f.from)
		if err != nil {
			return err
		}
		var notes []string
		if t, notes, err = rb.ParseRFO(f.from, src, t); err != nil {
			return usageErrorf("%v", err)
		}
		for _, n := range notes {
			fmt.Fprintln(c.ErrOrStderr(), n)
		}
	}
	for _, s := range []struct{ v, kind string }{{f.summary, templates.SectionSummary}, {f.impact, templates.SectionImpact},
		{f.rootCause, templates.SectionRootCause}, {f.mitigation, templates.SectionMitigation}, {f.followUp, templates.SectionFollowUp}} {
		if strings.TrimSpace(s.v) != "" {
			t.Set(s.kind, strings.TrimSpace(s.v))
		}
	}
	if a.canPrompt() && f.from == "" && len(t.Missing()) > 0 {
		w := &walker{a: a, c: c, phase: "rfo", id: id, flags: &publishFlags{yes: f.yes, dryRun: f.dryRun}, run: newRun(), forms: a.forms(), rfo: &t, rfoFlags: f}
		return w.walk(nil)
	}
	if m := t.Missing(); len(m) > 0 {
		return usageErrorf("the RFO has no %s: give --from FILE or the flags --summary, --root-cause, --mitigation, --follow-up", strings.Join(m, ", "))
	}
	return a.publishRFO(c, id, t, f)
}

func (a *app) publishRFO(c *cobra.Command, id string, t runbook.RFOText, f *rfoFlags) error {
	rb := a.rb
	opt := runbook.RFOOptions{Announce: f.announce}
	if !f.dryRun {
		if err := rb.SaveRFODraft(id, t); err != nil {
			return err
		}
	}
	if !f.yes && !f.dryRun {
		if !a.canPrompt() {
			return usageErrorf("publishing needs --yes when no one can confirm at a terminal (or --dry-run to preview); the draft is saved")
		}
		opt.DryRun = true
		preview, err := rb.PublishRFO(c.Context(), id, t, opt)
		if err != nil {
			return renderFailure(c.ErrOrStderr(), preview, err)
		}
		printRendered(c.ErrOrStderr(), preview.Rendered)
		ok, err := a.confirm("Publish the RFO?")
		if err != nil {
			return err
		}
		if !ok {
			fmt.Fprintln(c.ErrOrStderr(), "the RFO was not published; the draft is saved")
			return exitCode(exitFailed)
		}
		opt.DryRun = false
	}
	opt.DryRun = f.dryRun
	stderr := c.ErrOrStderr()
	opt.OnResult = func(r runbook.ChannelResult) { printChannelResult(stderr, r) }
	res, err := rb.PublishRFO(c.Context(), id, t, opt)
	if err != nil {
		return renderFailure(stderr, res, err)
	}
	if f.dryRun {
		printRendered(c.OutOrStdout(), res.Rendered)
		fmt.Fprintln(stderr, "dry run: nothing was published or recorded")
		return nil
	}
	fmt.Fprintf(stderr, "Reason For Outage of %s\n", id)
	res.Update = nil
	return a.finish(c, res)
}

// composeRFO asks for every section, prefilled from the draft, saving the
// draft after the form.
func (w *walker) composeRFO(ctx context.Context) (string, error) {
	rb := w.a.rb
	t := w.rfo
	timeline := rb.FormatTimeline(t.Timeline)
	zone := rb.Zones[0].String()
	hint := func(title, v string) string { // accessible prompts show neither description nor value
		if strings.TrimSpace(v) != "" {
			return w.forms.Hint(title, "Enter keeps the draft's")
		}
		return title
	}
	err := w.forms.Run(ctx,
		huh.NewGroup(
			huh.NewText().Title(hint("Summary", t.Summary)).Description("What happened, in two or three sentences").Value(&t.Summary).Validate(nonEmptyOr("a summary", &t.Summary)),
			huh.NewText().Title(w.forms.Hint("Impact", "optional: services, accounts and duration are added; "+checklists.Keeps(draftOrEmpty(t.Impact)))).
				Description("How it felt to customers (services, accounts and duration are added)").Value(&t.Impact),
			huh.NewText().Title(hint("Root cause", t.RootCause)).Value(&t.RootCause).Validate(nonEmptyOr("the root cause", &t.RootCause)),
			huh.NewText().Title(hint("What we did", t.Mitigation)).Value(&t.Mitigation).Validate(nonEmptyOr("what was done", &t.Mitigation)),
			huh.NewText().Title(hint("What we are changing", t.FollowUp)).Description("Follow-up actions, with owners").Value(&t.FollowUp).Validate(nonEmptyOr("the follow-up", &t.FollowUp)),
		),
		huh.NewGroup(huh.NewText().Title(timelineTitle(w.forms.Accessible)).Lines(12).
			Description("Generated from the record; edit, drop or add lines \"- YYYY-MM-DD HH:MM: text\" ("+zone+")").
			Value(&timeline).Validate(func(s string) error {
			if strings.TrimSpace(s) == "" {
				s = timeline // an empty line keeps it (accessible mode)
			}
			_, err := rb.ParseTimeline(s)
			return err
		})),
	)
	if saveErr := rb.SaveRFODraft(w.id, *t); saveErr != nil {
		return "", saveErr
	}
	if err != nil {
		return "", err
	}
	if t.Timeline, err = rb.ParseTimeline(timeline); err != nil {
		return "", err
	}
	if err := w.a.publishRFO(w.c, w.id, *t, w.rfoFlags); err != nil {
		var code exitCode
		if errors.As(err, &code) && code == exitPartial {
			return "RFO published, some channels failed", nil
		}
		return "", err
	}
	return "RFO published", nil
}

// resolveResolvedID picks the incident an RFO is for: the argument, or the
// one incident resolved in the last two weeks that has no RFO yet.
func (a *app) resolveResolvedID(args []string) (string, error) {
	rb, err := a.runbook()
	if err != nil {
		return "", err
	}
	if len(args) > 0 {
		return a.resolveID(args)
	}
	sums, err := rb.Summaries()
	if err != nil {
		return "", err
	}
	var cands []string
	for _, s := range sums {
		if !s.Open() && !s.HasRFO && s.Maintenance == nil && rb.Now().Sub(s.ResolvedAt) < 14*24*time.Hour {
			cands = append(cands, s.ID)
		}
	}
	if len(cands) == 1 {
		return cands[0], nil
	}
	return "", usageErrorf("name the incident: %d recently resolved incidents have no RFO yet (`incident list --all` shows them)", len(cands))
}

// draftOrEmpty is "the draft's" for a section the draft has.
func draftOrEmpty(v string) string {
	if strings.TrimSpace(v) == "" {
		return ""
	}
	return "the draft's"
}

func timelineTitle(accessible bool) string {
	if accessible { // one line a prompt: keep the generated timeline, edit it later with --from
		return "Timeline (Enter keeps the generated timeline; edit it later with `incident rfo --from`)"
	}
	return "Timeline"
}
