package runbook

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/incident-cli/incident/publishers"
	"github.com/incident-cli/incident/templates"
)

// KindRFODraft records an RFO draft as it is written, so an interrupted RFO
// is not lost. The latest draft wins.
const KindRFODraft EventKind = "rfo-draft"

// RFOText is the content of a Reason For Outage. Written section by
// section (the walk, the flags), it is the known fields and the timeline.
// Written as a Markdown file (--from, see ParseRFO), Sections holds the
// whole report in the file's order, and the fields hold the sections
// recognised as known ones. Records of versions without Sections load as
// they always did.
type RFOText struct {
	Summary    string         `toml:"summary"`
	Impact     string         `toml:"impact,omitempty"`
	RootCause  string         `toml:"root_cause"`
	Mitigation string         `toml:"mitigation"`
	FollowUp   string         `toml:"follow_up"`
	Timeline   []TimelineLine `toml:"timeline"`
	Sections   []RFOSection   `toml:"sections,omitempty"`
}

// TimelineLine is one entry of an RFO timeline.
type TimelineLine struct {
	At   time.Time `toml:"at"`
	Text string    `toml:"text"`
}

// Missing lists the required sections still empty. A report written as a
// file requires none: it is published as its author wrote it.
func (t *RFOText) Missing() []string {
	if len(t.Sections) > 0 {
		return nil
	}
	var m []string
	for _, s := range []struct{ name, v string }{{"Summary", t.Summary}, {"Root cause", t.RootCause}, {"What we did", t.Mitigation}, {"What we are changing", t.FollowUp}} {
		if strings.TrimSpace(s.v) == "" {
			m = append(m, s.name)
		}
	}
	return m
}

// Set gives a known section (templates.SectionSummary ...) a new text: the
// field, and in a report written as a file the first section of that kind
// (or a new one, the summary first, any other at the end).
func (t *RFOText) Set(kind, value string) {
	if len(t.Sections) > 0 {
		if i := t.section(kind); i >= 0 {
			t.Sections[i].Body = value
		} else {
			s := RFOSection{Heading: rfoHeadings[kind], Level: 2, Kind: kind, Body: value}
			if kind == templates.SectionSummary {
				t.Sections = append([]RFOSection{s}, t.Sections...)
			} else {
				t.Sections = append(t.Sections, s)
			}
		}
		t.fillFields()
		return
	}
	if p := t.field(kind); p != nil {
		*p = value
	}
}

// rfoHeadings are the headings of the known sections written one by one.
var rfoHeadings = map[string]string{
	templates.SectionSummary: "Summary", templates.SectionImpact: "Impact", templates.SectionRootCause: "Root cause",
	templates.SectionMitigation: "What we did", templates.SectionFollowUp: "What we are changing",
}

func (t *RFOText) field(kind string) *string {
	switch kind {
	case templates.SectionSummary:
		return &t.Summary
	case templates.SectionImpact:
		return &t.Impact
	case templates.SectionRootCause:
		return &t.RootCause
	case templates.SectionMitigation:
		return &t.Mitigation
	case templates.SectionFollowUp:
		return &t.FollowUp
	}
	return nil
}

// section returns the index of the first section of a kind, or -1.
func (t *RFOText) section(kind string) int {
	for i, s := range t.Sections {
		if s.Kind == kind {
			return i
		}
	}
	return -1
}

// fillFields sets the known fields from the sections: each from the first
// section of its kind, a ## section with the ### sections under it.
func (t *RFOText) fillFields() {
	t.Summary, t.Impact, t.RootCause, t.Mitigation, t.FollowUp = "", "", "", "", ""
	for kind := range rfoHeadings {
		i := t.section(kind)
		if i < 0 {
			continue
		}
		parts := []string{t.Sections[i].Body}
		for j := i + 1; t.Sections[i].Level == 2 && j < len(t.Sections) && t.Sections[j].Level == 3; j++ {
			parts = append(parts, "### "+t.Sections[j].Heading+"\n\n"+t.Sections[j].Body)
		}
		*t.field(kind) = strings.TrimSpace(strings.Join(parts, "\n\n"))
	}
}

// Timeline generates an RFO timeline from the record: when the problem began,
// when the incident was opened, every public update, checklist steps done,
// notes marked public, and the resolution.
func (r *Runbook) Timeline(inc *Incident) []TimelineLine {
	var out []TimelineLine
	add := func(at time.Time, format string, a ...any) {
		out = append(out, TimelineLine{At: at, Text: fmt.Sprintf(format, a...)})
	}
	if inc.StartedAt.Before(inc.OpenedAt) {
		add(inc.StartedAt, "The problem began.")
	}
	add(inc.OpenedAt, "We opened an incident.")
	for _, e := range inc.Events {
		switch e.Kind {
		case KindUpdate, KindOpened:
			if e.Post == "rfo" || e.Message == "" {
				continue
			}
			if e.Status == Resolved {
				add(e.At, "Resolved: %s", firstSentence(e.Message))
			} else {
				add(e.At, "Public update (%s): %s", e.Status, firstSentence(e.Message))
			}
		case KindStep:
			if e.Outcome == "done" && e.Title != "" {
				add(e.At, "%s.", strings.TrimSuffix(e.Title, "."))
			}
		case KindNote:
			if e.Public {
				add(e.At, "%s", e.Text)
			}
		}
	}
	// Pages and the acknowledgement, in time order among the rest.
	out = append(out, r.pagingTimeline(inc)...)
	slices.SortStableFunc(out, func(a, b TimelineLine) int { return a.At.Compare(b.At) })
	return out
}

func firstSentence(s string) string {
	s = strings.TrimSpace(strings.SplitN(strings.TrimSpace(s), "\n", 2)[0])
	if i := strings.Index(s, ". "); i > 0 {
		return s[:i+1]
	}
	return s
}

// Figures are the communication figures customers care about.
type Figures struct {
	FirstUpdateAfter time.Duration // from the start of the problem to the first public update
	Updates          int
	LongestGap       time.Duration // between two public updates (or start and first)
	Duration         time.Duration // start to resolution
	AlertToAck       time.Duration // from the first alert to the first acknowledgement (0: no alert, or no one acknowledged)
}

// Figures computes the incident's communication figures.
func (r *Runbook) Figures(inc *Incident) Figures {
	var f Figures
	ups := inc.PublicUpdates()
	f.Updates = len(ups)
	prev := inc.StartedAt
	for i, u := range ups {
		if i == 0 {
			f.FirstUpdateAfter = u.Event.At.Sub(inc.StartedAt)
		}
		if gap := u.Event.At.Sub(prev); gap > f.LongestGap {
			f.LongestGap = gap
		}
		prev = u.Event.At
	}
	if !inc.ResolvedAt.IsZero() {
		f.Duration = inc.ResolvedAt.Sub(inc.StartedAt)
	}
	f.AlertToAck, _ = AlertToAck(inc)
	return f
}

// DraftRFO returns the incident's latest RFO: the last draft saved, else the
// last one published, else a new one with a generated timeline.
func (r *Runbook) DraftRFO(inc *Incident) RFOText {
	var t *RFOText
	for _, e := range inc.Events {
		if (e.Kind == KindRFODraft || (e.Kind == KindUpdate && e.Post == "rfo")) && e.RFO != nil {
			t = e.RFO
		}
	}
	if t != nil {
		return *t
	}
	return RFOText{Timeline: r.Timeline(inc)}
}

// SaveRFODraft records a draft.
func (r *Runbook) SaveRFODraft(id string, t RFOText) error {
	e := Event{Kind: KindRFODraft, At: r.Now(), By: r.Responder, Host: r.Host, RFO: &t}
	return r.Store.Append(id, &e)
}

// RFOOptions control an RFO publish.
type RFOOptions struct {
	PublishOptions
	Announce bool // post the link to every link channel even when the RFO was published before
}

// PublishRFO publishes (or republishes after an edit) the RFO of a resolved
// incident: its own status-page post, linked from the incident's post, and a
// short post in every link channel's thread (on the first publication, or
// with Announce).
func (r *Runbook) PublishRFO(ctx context.Context, id string, t RFOText, opt RFOOptions) (*Result, error) {
	inc, err := r.Store.Load(id)
	if err != nil {
		return nil, err
	}
	if inc.Maintenance != nil {
		return nil, &UsageError{fmt.Errorf("%s is a maintenance window: it has no Reason For Outage (its updates say what was done)", id)}
	}
	if inc.Open() {
		return nil, fmt.Errorf("incident %s is not resolved: close it first (`incident close %s --rfo`)", id, id)
	}
	if m := t.Missing(); len(m) > 0 {
		return nil, fmt.Errorf("the RFO has no %s", strings.Join(m, ", "))
	}
	channels := []string{r.StatusPage.Name}
	if r.RFOPublished(inc) == nil || opt.Announce {
		for _, ch := range r.Links {
			channels = append(channels, ch.Name)
		}
	}
	upd := Event{Kind: KindUpdate, Post: "rfo", At: r.Now(), By: r.Responder, Host: r.Host, Status: Resolved,
		Message: t.Summary, RFO: &t, Channels: channels, ID: "~pending-rfo"}
	r.loadLimits(ctx)
	prospective := Fold(inc.ID, append(inc.Events, upd))
	u := prospective.Updates[len(prospective.Updates)-1]
	rendered, err := r.renderRFOAll(prospective, u)
	res := &Result{Incident: prospective, Update: u, Rendered: rendered}
	if err != nil || opt.DryRun {
		return res, err
	}
	unlock, err := r.Store.Lock(ctx, id)
	if err != nil {
		return nil, err
	}
	defer unlock()
	// Whether to announce is decided again under the lock: another run may
	// have published the RFO while this one waited.
	if inc, err = r.Store.LoadFresh(id); err != nil {
		return nil, err
	}
	if inc.Open() {
		return nil, fmt.Errorf("incident %s was reopened meanwhile: close it first", id)
	}
	if r.RFOPublished(inc) != nil && !opt.Announce {
		upd.Channels = []string{r.StatusPage.Name}
	}
	upd.ID, upd.At = "", r.Now()
	if err := r.Store.Append(id, &upd); err != nil {
		return nil, err
	}
	if inc, err = r.Store.LoadFresh(id); err != nil {
		return nil, err
	}
	res.Incident, res.Update = inc, inc.update(upd.ID)
	res.Channels = r.deliver(ctx, inc, res.Update, opt.PublishOptions)
	if inc, err = r.Store.LoadFresh(id); err == nil {
		res.Incident, res.Update = inc, inc.update(upd.ID)
	}
	return res, nil
}

// RFOPublished returns the status page's receipt of the incident's RFO post.
func (r *Runbook) RFOPublished(inc *Incident) *publishers.Receipt {
	return inc.RFOPost(r.StatusPage.Name)
}

// rfoData is the template data of an RFO.
func (r *Runbook) rfoData(inc *Incident, u *Update, url string) *templates.Data {
	d := r.data(inc, u, url)
	t := u.Event.RFO
	if t == nil {
		t = &RFOText{}
	}
	f := r.Figures(inc)
	d.RFO = &templates.RFO{Summary: t.Summary, Impact: t.Impact, RootCause: t.RootCause, Mitigation: t.Mitigation,
		FollowUp: t.FollowUp, FirstUpdateAfter: f.FirstUpdateAfter, UpdateCount: f.Updates, LongestGap: f.LongestGap,
		Cadence: r.Config.Cadence.Duration, Duration: f.Duration, AlertToAck: f.AlertToAck}
	for _, l := range t.Timeline {
		d.RFO.Timeline = append(d.RFO.Timeline, templates.TimelineEntry{At: l.At, Text: l.Text})
	}
	for _, s := range t.Sections {
		d.RFO.Sections = append(d.RFO.Sections, templates.RFOSection{Heading: s.Heading, Level: s.Level, Kind: s.Kind, Body: s.Body})
	}
	d.RFOURL = url
	return d
}

// renderRFOStatus renders the RFO's status-page post.
func (r *Runbook) renderRFOStatus(inc *Incident, u *Update) (Rendered, error) {
	ch := r.StatusPage
	x := Rendered{Channel: ch.Name, Type: ch.Type, StatusPage: true, Template: templates.RFOFile}
	d := r.rfoData(inc, u, "")
	var err error
	if x.Title, err = r.Templates.Render(templates.TitleFile, d); err != nil {
		return x, err
	}
	x.Title = strings.TrimSpace(x.Title)
	if x.Text, err = r.Templates.Render(templates.RFOFile, d); err != nil {
		return x, err
	}
	if x.HTML, err = templates.Markdown(x.Text); err != nil {
		return x, err
	}
	x.Length = len([]rune(x.Text))
	return x, nil
}

func (r *Runbook) renderRFOAll(inc *Incident, u *Update) ([]Rendered, error) {
	var out []Rendered
	var problems []string
	sp, err := r.renderRFOStatus(inc, u)
	if err != nil {
		problems = append(problems, fmt.Sprintf("%s: %v", sp.Channel, err))
	}
	out = append(out, sp)
	url := r.rfoURL(inc)
	for _, ch := range r.Links {
		if u.Delivery(ch.Name) == nil {
			continue
		}
		x, err := r.renderLink(ch, inc, u, url)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", ch.Name, err))
		} else if x.Over() {
			problems = append(problems, fmt.Sprintf("%s: the text is %d characters, over the %s limit of %d: shorten the template %s", x.Channel, x.Length, x.Type, x.Limit, x.Template))
		}
		out = append(out, x)
	}
	if problems != nil {
		return out, &RenderError{Problems: problems}
	}
	return out, nil
}

// rfoURL is the best-known URL of the RFO post.
func (r *Runbook) rfoURL(inc *Incident) string {
	if rec := r.RFOPublished(inc); rec != nil && rec.URL != "" {
		return rec.URL
	}
	if l, ok := r.StatusPage.Pub.(publishers.Locator); ok {
		return l.URLFor(inc.ID, publishers.KindRFO)
	}
	return "https://status.example.com/" + inc.ID + "/rfo/"
}

// publishRFOStatus publishes the RFO post, then edits the incident's post so
// it links to the RFO (unless the RFO lives at the incident's own URL, as a
// Statuspage postmortem does).
func (r *Runbook) publishRFOStatus(ctx context.Context, inc, state *Incident, pi publishers.Incident, u *Update) (publishers.Receipt, error) {
	sp := r.StatusPage
	x, err := r.renderRFOStatus(state, u)
	if err != nil {
		return r.record(inc, u, sp, publishers.Receipt{}, publishers.Permanent(err), 0, "")
	}
	first, _ := inc.Thread(sp.Name, true)
	post := publishers.Post{Key: key(inc, u, sp), Kind: publishers.KindRFO, Title: x.Title, Text: x.Text, HTML: x.HTML,
		Thread: first, Parent: r.RFOPublished(inc), Incident: pi}
	rec, attempts, err := r.attempt(ctx, sp, post)
	if err == nil && first != nil && rec.URL != first.URL {
		err = r.linkIncidentPost(ctx, inc, rec.URL)
	}
	return r.record(inc, u, sp, rec, err, attempts, "")
}

// linkIncidentPost edits the incident's status post to link to the RFO.
func (r *Runbook) linkIncidentPost(ctx context.Context, inc *Incident, rfoURL string) error {
	sp := r.StatusPage
	ups := inc.PublicUpdates()
	if len(ups) == 0 {
		return nil
	}
	last := ups[len(ups)-1]
	state := upto(inc, last)
	x, err := r.renderStatus(state, last, rfoURL)
	if err != nil {
		return publishers.Permanent(err)
	}
	first, latest := inc.Thread(sp.Name, true)
	post := publishers.Post{Key: key(inc, last, sp), Kind: publishers.KindUpdate, Title: x.Title, Text: x.Text, HTML: x.HTML,
		Thread: first, Parent: latest, Incident: r.postIncident(state)}
	if _, _, err := r.attempt(ctx, sp, post); err != nil {
		return fmt.Errorf("the RFO is published, but linking it from the incident's post failed: %w", err)
	}
	return nil
}

// TimelineLayout is how timeline lines are written for editing, in the
// runbook's primary zone.
const TimelineLayout = "2006-01-02 15:04"

// FormatTimeline writes a timeline for editing: one "- YYYY-MM-DD HH:MM: text" a line.
func (r *Runbook) FormatTimeline(tl []TimelineLine) string {
	var b strings.Builder
	for _, l := range tl {
		fmt.Fprintf(&b, "- %s: %s\n", l.At.In(r.Zones[0]).Format(TimelineLayout), l.Text)
	}
	return b.String()
}

// ParseTimeline reads lines written by FormatTimeline (edited by a person).
func (r *Runbook) ParseTimeline(s string) ([]TimelineLine, error) {
	var out []TimelineLine
	for i, l := range strings.Split(s, "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		l = strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(l, "-"), "*"))
		if len(l) < len(TimelineLayout)+1 {
			return nil, fmt.Errorf("line %d %q: write \"- YYYY-MM-DD HH:MM: what happened\"", i+1, l)
		}
		at, err := time.ParseInLocation(TimelineLayout, l[:len(TimelineLayout)], r.Zones[0])
		if err != nil {
			return nil, fmt.Errorf("line %d %q: write \"- YYYY-MM-DD HH:MM: what happened\" (times in %s)", i+1, l, r.Zones[0])
		}
		text := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l[len(TimelineLayout):]), ":"))
		if text == "" {
			return nil, fmt.Errorf("line %d: the entry has no text", i+1)
		}
		out = append(out, TimelineLine{At: at.UTC(), Text: text})
	}
	if len(out) == 0 {
		return nil, errors.New("the timeline is empty")
	}
	return out, nil
}
