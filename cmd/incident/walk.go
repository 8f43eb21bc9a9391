package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/charmbracelet/huh"
	"github.com/spf13/cobra"

	"github.com/incident-cli/incident/checklists"
	"github.com/incident-cli/incident/publishers"
	"github.com/incident-cli/incident/runbook"
	"github.com/incident-cli/incident/templates"
)

// walker walks one phase's checklist for one incident and implements
// checklists.Handler: it composes and publishes updates and records steps.
type walker struct {
	a     *app
	c     *cobra.Command
	phase string
	id    string // "" until open has published
	draft runbook.Draft
	flags *publishFlags
	run   string
	forms checklists.Forms
	log   []checklists.Outcome

	rfo      *runbook.RFOText // the rfo phase: the draft being written
	rfoFlags *rfoFlags
}

// forms returns the huh settings for this terminal: accessible mode with
// ACCESSIBLE set or a dumb terminal; the TUI on stderr so stdout stays data.
func (a *app) forms() checklists.Forms {
	fs := checklists.Forms{In: a.sys.In, Out: a.sys.Err}
	term := a.sys.Getenv("TERM")
	fs.Accessible = a.sys.Getenv("ACCESSIBLE") != "" || term == "dumb" || term == ""
	if a.sys.Getenv("NO_COLOR") != "" {
		fs.Theme = huh.ThemeBase()
	}
	return fs
}

// confirm asks a yes/no question, default yes.
func (a *app) confirm(q string) (bool, error) {
	ok := true
	err := a.forms().Run(context.Background(), huh.NewGroup(huh.NewConfirm().Title(q).Affirmative("Publish").Negative("Cancel").Value(&ok)))
	if errors.Is(err, checklists.ErrAborted) {
		return false, nil
	}
	return ok, err
}

func newRun() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// walkOpen walks the open checklist, or resumes an unfinished one.
func (a *app) walkOpen(c *cobra.Command, d runbook.Draft, f *publishFlags) error {
	rb, err := a.runbook()
	if err != nil {
		return err
	}
	w := &walker{a: a, c: c, phase: "open", draft: d, flags: f, run: newRun(), forms: a.forms()}
	sums, err := rb.Summaries()
	if err != nil {
		return err
	}
	if d.Title == "" {
		// An alert already opened it: take the triggered incident over.
		if id, err := a.pickTriggered(c, w, sums); err != nil || id != "" {
			if err != nil {
				return err
			}
			w.id = id
			return w.walk(nil)
		}
	}
	for _, s := range sums {
		if !s.Open() {
			continue
		}
		inc, err := rb.Store.Load(s.ID)
		if err != nil {
			return err
		}
		run, done := inc.Walk("open")
		cl, err := checklists.Load(rb.ChecklistsDir(), "open")
		if err != nil {
			return err
		}
		if run == "" || len(done) >= len(cl.Items) {
			continue
		}
		resume := true
		q := fmt.Sprintf("The open checklist of %s (%s) is unfinished. Resume it?", s.ID, s.Title)
		if err := w.forms.Run(c.Context(), huh.NewGroup(huh.NewConfirm().Title(q).Affirmative("Resume").Negative("New incident").Value(&resume))); err != nil {
			return err
		}
		if resume {
			w.id, w.run = s.ID, run
			return w.walk(done)
		}
		break
	}
	return w.walk(nil)
}

// pickTriggered offers the triggered incidents (alerts nobody took over yet)
// before a new one: Enter takes the first. It returns "" for a new incident.
func (a *app) pickTriggered(c *cobra.Command, w *walker, sums []runbook.Summary) (string, error) {
	var opts []huh.Option[string]
	for _, s := range sums {
		if !s.Open() || !s.FromAlert || !s.Private {
			continue
		}
		inc, err := a.rb.Store.Load(s.ID)
		if err != nil {
			return "", err
		}
		var about []string
		if f := inc.FirstAlert(); f != nil {
			about = append(about, fmt.Sprintf("%s, since %s", clean(f.Label()), f.FiredAt.In(a.rb.Zones[0]).Format("15:04")))
		}
		if at, ok := inc.AutoPostAt(); ok {
			about = append(about, "auto-post in "+templates.Duration(max(at.Sub(a.rb.Now()), 0)))
		}
		label := clean(inc.Title)
		if len(about) > 0 {
			label += " (" + strings.Join(about, ", ") + ")"
		}
		opts = append(opts, huh.NewOption(label, s.ID))
	}
	if len(opts) == 0 {
		return "", nil
	}
	opts = append(opts, huh.NewOption("A new incident", ""))
	pick := opts[0].Value
	title := "Monitoring opened this: publish its first update?"
	if len(opts) > 2 {
		title = "Monitoring opened these: take one over?"
	}
	if w.forms.Accessible {
		title += " (Enter keeps 1)"
	}
	if err := w.forms.Run(c.Context(), huh.NewGroup(huh.NewSelect[string]().Title(title).Value(&pick).Options(opts...))); err != nil {
		return "", err
	}
	return pick, nil
}

// walkPhase walks the update or close checklist of an incident.
func (a *app) walkPhase(c *cobra.Command, phase, id string, d runbook.Draft, f *publishFlags) error {
	rb, err := a.runbook()
	if err != nil {
		return err
	}
	inc, err := rb.Store.Load(id)
	if err != nil {
		return err
	}
	w := &walker{a: a, c: c, phase: phase, id: id, draft: d, flags: f, run: newRun(), forms: a.forms()}
	cl, err := checklists.Load(rb.ChecklistsDir(), phase)
	if err != nil {
		return err
	}
	if run, done := inc.Walk(phase); run != "" && len(done) < len(cl.Items) {
		fmt.Fprintf(c.ErrOrStderr(), "resuming the unfinished %s checklist of %s (%d of %d steps done)\n", phase, id, len(done), len(cl.Items))
		w.run = run
		return w.walk(done)
	}
	return w.walk(nil)
}

func (w *walker) walk(done map[string]bool) error {
	rb := w.a.rb
	cl, err := checklists.Load(rb.ChecklistsDir(), w.phase)
	if err != nil {
		return err
	}
	if w.phase == "open" && len(done) == 0 {
		fmt.Fprintln(w.forms.Out, "Customers first: the first step tells them we know and are on it.")
	}
	err = checklists.Walk(w.c.Context(), cl, done, w, w.forms)
	if errors.Is(err, checklists.ErrAborted) {
		fmt.Fprintln(w.c.ErrOrStderr(), "incident: "+err.Error())
		return exitCode(130)
	}
	var code exitCode
	if err != nil && !errors.As(err, &code) {
		return err
	}
	w.summary(cl)
	if err != nil {
		return err
	}
	return nil
}

func (w *walker) summary(cl *checklists.Checklist) {
	counts := map[string]int{}
	for _, o := range w.log {
		counts[o.Outcome]++
	}
	out := w.c.ErrOrStderr()
	fmt.Fprintf(out, "\n%s checklist: %d step(s) this time", w.phase, len(w.log))
	for _, k := range []string{"published", "paged", "done", "entered", "noted", "skipped"} {
		if counts[k] > 0 {
			fmt.Fprintf(out, ", %d %s", counts[k], k)
		}
	}
	fmt.Fprintln(out)
	if w.id == "" {
		return
	}
	inc, err := w.a.rb.Store.Load(w.id)
	if err != nil {
		return
	}
	if due, ok := w.a.rb.UpdateDue(inc); ok {
		fmt.Fprintf(out, "next update due %s, in %s\n", w.a.clock(due), templates.Duration(due.Sub(w.a.rb.Now())))
	}
}

// Publish composes the update with as few questions as possible, previews
// every channel, confirms, and publishes.
func (w *walker) Publish(ctx context.Context, item checklists.Item) (string, error) {
	if w.phase == "rfo" {
		return w.composeRFO(ctx)
	}
	rb := w.a.rb
	d := w.draft
	var inc *runbook.Incident
	if w.id != "" {
		var err error
		if inc, err = rb.Store.Load(w.id); err != nil {
			return "", err
		}
		if w.phase == "open" && len(inc.PublicUpdates()) > 0 {
			return "update #1 (earlier)", nil // resumed after the first update went out
		}
		if u := inc.PublishedBy(w.run); u != nil {
			return fmt.Sprintf("update #%d (earlier)", u.Number), nil // resumed after this walk's update went out
		}
	}
	takeover := w.phase == "open" && inc != nil // a triggered incident: title, services and start come from the alert
	if takeover {
		d.Via, d.Title, d.Services = "update", "", nil
		if d.Status == "" || d.Status == runbook.Triggered {
			d.Status = runbook.Investigating
		}
	}
	var first []huh.Field
	if w.phase == "open" && !takeover {
		first = append(first, huh.NewInput().Title("Title").Description("What customers see, e.g. \"IMAP/POP login failures\"").
			Value(&d.Title).Validate(nonEmptyOr("a title", &d.Title)))
		if len(rb.Config.Services) > 0 {
			var choices []checklists.Choice
			for _, s := range rb.Config.Services {
				choices = append(choices, checklists.Choice{Label: rb.ServiceName(s.ID), Value: s.ID})
			}
			first = append(first, w.forms.MultiSelect("Affected services", choices, d.Services, &d.Services))
		}
	}
	if w.phase == "update" {
		if d.Status == "" {
			d.Status = inc.Status
			if d.Status == runbook.Triggered {
				d.Status = runbook.Investigating
			}
		}
		first = append(first, huh.NewSelect[string]().Title(w.forms.Hint("Status", "Enter keeps: "+d.Status)).Options(
			huh.NewOption("Investigating", runbook.Investigating), huh.NewOption("Identified", runbook.Identified),
			huh.NewOption("Monitoring", runbook.Monitoring)).Value(&d.Status))
	}
	var states []huh.Field
	applyStates := func() {}
	if w.phase == "update" {
		states, applyStates = w.stateFields(inc, &d)
		first = append(first, states...)
	}
	if len(first) > 0 {
		if err := w.forms.Run(ctx, huh.NewGroup(first...)); err != nil {
			return "", err
		}
	}
	if w.phase == "open" && !takeover {
		states, applyStates = w.stateFields(inc, &d) // for the services just picked; a takeover keeps the severity's
	}
	if w.phase == "open" && !takeover && d.Related == nil {
		related, err := w.askRecurrence(ctx, d.Services)
		if err != nil {
			return "", err
		}
		d.Related = related
	}
	if d.Message == "" {
		if inc != nil && inc.FromAlert && inc.Private() {
			d.Message = rb.AlertMessage(inc) // the route's first message
		} else {
			d.Message = rb.SuggestMessage(inc, d.Status, d.Services)
		}
	}
	accounts := ""
	if d.Accounts != nil {
		accounts = strconv.Itoa(*d.Accounts)
	} else if inc != nil && inc.Accounts > 0 {
		accounts = strconv.Itoa(inc.Accounts)
	}
	title := "Message"
	if w.forms.Accessible { // accessible prompts show neither the description nor the value
		title = "Message (Enter keeps: " + d.Message + ")"
	}
	second := append(states[:0:0], huh.NewText().Title(title).Description("Markdown; alt+enter for a new line").Value(&d.Message).Validate(nonEmptyOr("a message", &d.Message)))
	if w.phase == "open" && !takeover {
		second = append(states, second...)
	}
	if w.phase == "open" && !takeover {
		second = append(second, huh.NewInput().Title(w.forms.Hint("Accounts affected (optional estimate)", checklists.Keeps(accounts))).
			Value(&accounts).Validate(optionalCount))
	}
	if err := w.forms.Run(ctx, huh.NewGroup(second...)); err != nil {
		return "", err
	}
	applyStates()
	if n, err := strconv.Atoi(strings.TrimSpace(accounts)); err == nil && (inc == nil || n != inc.Accounts) {
		d.Accounts = &n
	}
	d.Phase, d.Step, d.Run = w.phase, item.ID, w.run
	w.draft = d
	f := *w.flags
	if err := w.a.publish(w.c, w.id, d, &f); err != nil {
		var code exitCode
		if errors.As(err, &code) && code == exitPartial {
			w.noteID(d)
			return "published, some channels failed", nil
		}
		return "", err
	}
	w.noteID(d)
	inc, err := rb.Store.Load(w.id)
	if err != nil {
		return "", err
	}
	ups := inc.PublicUpdates()
	return fmt.Sprintf("update #%d", len(ups)), nil
}

// stateFields asks each affected service's state, one select each, the
// default being what the update would record anyway (the --state flag, the
// service's current state, or the severity's default): Enter keeps it, in
// the TUI and in accessible mode alike. apply copies the answers into d.
func (w *walker) stateFields(inc *runbook.Incident, d *runbook.Draft) (fields []huh.Field, apply func()) {
	rb := w.a.rb
	if d.States == nil {
		d.States, _ = w.flags.parsedStates() // checked when the command started
	}
	suggested := runbook.SuggestStates(inc, *d)
	services := slices.Sorted(maps.Keys(suggested))
	if inc != nil {
		services = inc.Services
	} else if d.Services != nil {
		services = d.Services
	}
	values := make([]string, len(services))
	for i, svc := range services {
		values[i] = cmp.Or(suggested[svc], publishers.Operational)
		var opts []huh.Option[string]
		for _, st := range []string{publishers.Operational, publishers.DegradedPerformance, publishers.PartialOutage, publishers.MajorOutage, publishers.UnderMaintenance} {
			opts = append(opts, huh.NewOption(publishers.StateWords(st), st))
		}
		title := rb.ServiceName(svc) + ": state"
		if w.forms.Accessible {
			title += " (Enter keeps: " + publishers.StateWords(values[i]) + ")"
		}
		fields = append(fields, huh.NewSelect[string]().Title(title).Options(opts...).Value(&values[i]))
	}
	return fields, func() {
		if len(services) == 0 {
			return
		}
		d.States = map[string]string{}
		for i, svc := range services {
			d.States[svc] = values[i]
		}
	}

}

// askRecurrence asks, for each incident resolved in the last 14 days on
// one of the services (the 3 most recent), whether the new one recurs it.
// Each is a yes/no question whose default is no, so Enter goes on.
func (w *walker) askRecurrence(ctx context.Context, services []string) ([]string, error) {
	cands, err := w.a.rb.RecurrenceCandidates(services, 3)
	if err != nil || len(cands) == 0 {
		return nil, err
	}
	var related []string
	for _, s := range cands {
		yes := false
		q := fmt.Sprintf("Is this a recurrence of %q (%s, resolved %s)?", s.Title, s.ID, w.a.when(s.ResolvedAt))
		if err := w.forms.Run(ctx, huh.NewGroup(huh.NewConfirm().Title(q).
			Description("Yes links both: the status post says \"Related\", the RFO says it recurs.").Value(&yes))); err != nil {
			return nil, err
		}
		if yes {
			related = append(related, s.ID)
		}
	}
	return related, nil
}

// noteID learns the id of the incident open just created.
func (w *walker) noteID(d runbook.Draft) {
	if w.id != "" {
		return
	}
	sums, err := w.a.rb.Summaries()
	if err == nil && len(sums) > 0 {
		for _, s := range sums {
			if s.Title == d.Title && s.Open() {
				w.id = s.ID
				return
			}
		}
	}
}

// Record writes a step (and the field it changed) into the incident.
func (w *walker) Record(ctx context.Context, o checklists.Outcome) error {
	w.log = append(w.log, o)
	if w.id == "" {
		return nil // nothing exists to record into before open publishes
	}
	rb := w.a.rb
	e := runbook.Event{Kind: runbook.KindStep, At: rb.Now(), By: rb.Responder, Host: rb.Host, Phase: w.phase,
		Step: o.Item.ID, Title: o.Item.Title, Outcome: o.Outcome, Value: o.Value, Text: o.Text, Run: w.run}
	if err := rb.Store.Append(w.id, &e); err != nil {
		return err
	}
	if o.Outcome != "entered" {
		return nil
	}
	ch := runbook.Event{Kind: runbook.KindChanged, At: rb.Now(), By: rb.Responder, Host: rb.Host}
	switch o.Item.Field {
	case "accounts":
		n, _ := strconv.Atoi(o.Value)
		ch.Accounts = &n
	case "severity":
		ch.Severity = o.Value
	case "services":
		ch.Services = strings.Split(o.Value, ",")
	case "started_at":
		t, err := parseTime(o.Value, rb)
		if err != nil {
			return err
		}
		ch.StartedAt = &t
	}
	return rb.Store.Append(w.id, &ch)
}

// Field gives the walk an incident field's value, choices and check.
func (w *walker) Field(field string) (string, []checklists.Choice, func(string) error) {
	rb := w.a.rb
	var inc *runbook.Incident
	if w.id != "" {
		inc, _ = rb.Store.Load(w.id)
	}
	if inc == nil {
		inc = &runbook.Incident{}
	}
	switch field {
	case "accounts":
		if inc.Accounts == 0 {
			return "", nil, nil
		}
		return strconv.Itoa(inc.Accounts), nil, nil
	case "severity":
		var cs []checklists.Choice
		for _, s := range runbook.Severities {
			cs = append(cs, checklists.Choice{Label: s, Value: s})
		}
		return inc.Severity, cs, nil
	case "services":
		var cs []checklists.Choice
		for _, s := range rb.Config.Services {
			cs = append(cs, checklists.Choice{Label: rb.ServiceName(s.ID), Value: s.ID})
		}
		return strings.Join(inc.Services, ","), cs, func(v string) error { return rb.CheckServices(strings.Split(v, ",")) }
	default:
		cur := "unknown"
		if !inc.StartedAt.IsZero() {
			cur = w.a.when(inc.StartedAt)
		}
		return cur, nil, func(v string) error { _, err := parseTime(v, rb); return err }
	}
}

// nonEmptyOr requires a value, unless the field already holds one: huh's
// accessible prompts validate what was typed before falling back to the
// field's value, so an empty line must be allowed to keep it.
func nonEmptyOr(what string, current *string) func(string) error {
	return func(s string) error {
		if strings.TrimSpace(s) == "" && strings.TrimSpace(*current) == "" {
			return fmt.Errorf("%s is required", what)
		}
		return nil
	}
}

func optionalCount(s string) error {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	if n, err := strconv.Atoi(s); err != nil || n < 0 {
		return errors.New("a whole number, like 1200, or nothing")
	}
	return nil
}
