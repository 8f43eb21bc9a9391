package templates

import (
	"fmt"
	"strings"
	"text/template"
	"time"

	"github.com/rivo/uniseg"
)

// Data is what every template sees.
type Data struct {
	Organization string
	Incident     Incident
	Update       Update        // the update being published
	Updates      []Update      // every public update so far, oldest first, Update included
	URL          string        // canonical URL of the incident's status post
	RFO          *RFO          // for rfo.md.tmpl
	RFOURL       string        // URL of the RFO post, once published
	Channel      string        // name of the channel being rendered for
	Cadence      time.Duration // the runbook's cadence: the next update is due this long after this one
	Alerts       []Alert       // the monitoring alerts of an incident an alert opened (untrusted text)

	zones []*time.Location
}

// Incident is the incident as templates see it.
type Incident struct {
	ID, Title, Status, Severity string
	Services                    []Service
	Accounts                    int // 0 when unknown
	StartedAt                   time.Time
	OpenedAt                    time.Time
	ResolvedAt                  time.Time // zero while open
}

// Update is one public update.
type Update struct {
	Number  int
	Status  string
	Message string
	Author  string
	At      time.Time
}

// Alert is one monitoring alert of the incident, as the monitoring system
// described it: untrusted text, written for staff.
type Alert struct {
	Source, Name, Summary string
	FiredAt               time.Time
	Firing                bool
}

// Service is one affected service.
type Service struct{ ID, Name string }

// RFO is a Reason For Outage report.
type RFO struct {
	Summary, Impact, RootCause, Mitigation, FollowUp string
	Timeline                                         []TimelineEntry
	FirstUpdateAfter                                 time.Duration // from start to first public update
	UpdateCount                                      int
	LongestGap                                       time.Duration // longest gap between public updates
	Cadence                                          time.Duration
	Duration                                         time.Duration // from start to resolution
	AlertToAck                                       time.Duration // from the first alert to the first acknowledgement (0: none)
}

// TimelineEntry is one line of an RFO timeline.
type TimelineEntry struct {
	At   time.Time
	Text string
}

// NewestFirst returns the updates, newest first, as status pages show them.
func (d *Data) NewestFirst() []Update {
	out := make([]Update, len(d.Updates))
	for i, u := range d.Updates {
		out[len(d.Updates)-1-i] = u
	}
	return out
}

// ServiceNames joins the affected services' names.
func (i Incident) ServiceNames() string {
	names := make([]string, len(i.Services))
	for k, s := range i.Services {
		names[k] = s.Name
	}
	return strings.Join(names, ", ")
}

func (s *Set) funcs() template.FuncMap {
	return template.FuncMap{
		"clock":     s.clock,
		"when":      s.when,
		"date":      s.date,
		"duration":  Duration,
		"since":     func(a, b time.Time) string { return Duration(b.Sub(a)) },
		"title":     StatusTitle,
		"truncate":  truncate,
		"firstLine": firstLine,
		"join":      strings.Join,
		"upper":     strings.ToUpper,
	}
}

// StatusTitle capitalizes a status: "investigating" -> "Investigating".
func StatusTitle(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// clock: "12:00 CEST (10:00 UTC)", the primary zone first, then the others.
func (s *Set) clock(t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	parts := make([]string, len(s.zones))
	for i, z := range s.zones {
		parts[i] = t.In(z).Format("15:04 MST")
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return parts[0] + " (" + strings.Join(parts[1:], ", ") + ")"
}

// When formats a time in the set's zones: "Fri 27 Nov 12:00 CEST (10:00 UTC)".
func (s *Set) When(t time.Time) string { return s.when(t) }

// when: "Fri 27 Nov 12:00 CEST (10:00 UTC)".
func (s *Set) when(t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	return t.In(s.zones[0]).Format("Mon 2 Jan ") + s.clock(t)
}

func (s *Set) date(t time.Time) string { return t.In(s.zones[0]).Format("2006-01-02") }

// Duration formats a duration for people: "45 min", "2 h 5 min", "1 d 3 h".
func Duration(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	m := int(d.Round(time.Minute) / time.Minute)
	switch {
	case m < 1:
		return "under a minute"
	case m < 60:
		return fmt.Sprintf("%d min", m)
	case m < 24*60:
		if m%60 == 0 {
			return fmt.Sprintf("%d h", m/60)
		}
		return fmt.Sprintf("%d h %d min", m/60, m%60)
	}
	h := m / 60
	if h%24 == 0 {
		return fmt.Sprintf("%d d", h/24)
	}
	return fmt.Sprintf("%d d %d h", h/24, h%24)
}

// truncate shortens s to at most n graphemes, ending with "…" when cut.
func truncate(n int, s string) string {
	if uniseg.GraphemeClusterCount(s) <= n {
		return s
	}
	var b strings.Builder
	g := uniseg.NewGraphemes(s)
	for i := 0; i < n-1 && g.Next(); i++ {
		b.WriteString(g.Str())
	}
	return strings.TrimSpace(b.String()) + "…"
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return strings.TrimSpace(s[:i])
	}
	return s
}

// markdownSafe returns a copy of d in which every text the responder typed
// has its "<" written as "&lt;". Markdown shows the entity as "<", but no
// renderer can take it for the start of an HTML tag: the text stays text in
// every venue that renders our Markdown (a forum, Statuspage, a Hugo site
// configured with unsafe HTML), not only on our own pages.
func (d *Data) markdownSafe() *Data {
	c := *d
	esc := func(s string) string { return strings.ReplaceAll(s, "<", "&lt;") }
	c.Incident.Title = esc(d.Incident.Title)
	c.Update.Message = esc(d.Update.Message)
	c.Updates = make([]Update, len(d.Updates))
	for i, u := range d.Updates {
		u.Message = esc(u.Message)
		c.Updates[i] = u
	}
	if d.RFO != nil {
		r := *d.RFO
		r.Summary, r.Impact, r.RootCause, r.Mitigation, r.FollowUp = esc(r.Summary), esc(r.Impact), esc(r.RootCause), esc(r.Mitigation), esc(r.FollowUp)
		r.Timeline = make([]TimelineEntry, len(d.RFO.Timeline))
		for i, e := range d.RFO.Timeline {
			e.Text = esc(e.Text)
			r.Timeline[i] = e
		}
		c.RFO = &r
	}
	return &c
}
