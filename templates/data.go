package templates

import (
	"fmt"
	"strings"
	"text/template"
	"time"
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
	Related                     []Related // earlier incidents this one is related to (a recurrence), oldest first
	// Maintenance is set for a scheduled maintenance window (nil for an
	// incident): its Status is then scheduled, in_progress, completed or
	// cancelled.
	Maintenance *Maintenance
}

// Related is an earlier incident an incident is related to.
type Related struct {
	ID, Title string
	URL       string // its status post ("" when it has none)
	StartedAt time.Time
}

// Maintenance is a scheduled maintenance window as templates see it.
type Maintenance struct {
	Start, End time.Time
	// Phase is what the update being rendered announces: scheduled,
	// reminder, in_progress, completed or cancelled.
	Phase string
}

// Label is how a post names the phase: "Scheduled maintenance",
// "Maintenance reminder", "Maintenance in progress", "Maintenance
// completed", "Maintenance cancelled".
func (m *Maintenance) Label() string {
	switch m.Phase {
	case "reminder":
		return "Maintenance reminder"
	case "in_progress":
		return "Maintenance in progress"
	case "completed":
		return "Maintenance completed"
	case "cancelled":
		return "Maintenance cancelled"
	}
	return "Scheduled maintenance"
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
		"clock":       s.clock,
		"when":        s.when,
		"window":      s.Window,
		"shortWindow": s.ShortWindow,
		"date":        s.date,
		"duration":    Duration,
		"since":       func(a, b time.Time) string { return Duration(b.Sub(a)) },
		"title":       StatusTitle,
		"truncate":    truncate,
		"firstLine":   firstLine,
		"join":        strings.Join,
		"upper":       strings.ToUpper,
	}
}

// StatusTitle capitalizes a status: "investigating" -> "Investigating",
// "in_progress" -> "In progress".
func StatusTitle(s string) string {
	if s == "" {
		return s
	}
	s = strings.ReplaceAll(s, "_", " ")
	return strings.ToUpper(s[:1]) + s[1:]
}

// Window formats a maintenance window in the set's zones, the primary one
// with its dates: "Tue 1 Dec 22:00–23:00 CET (21:00–22:00 UTC)", or, over
// midnight, "Tue 1 Dec 22:00 – Wed 2 Dec 02:00 CET (21:00–01:00 UTC)".
func (s *Set) Window(start, end time.Time) string {
	if start.IsZero() || end.IsZero() {
		return "unknown"
	}
	first := span(start, end, s.zones[0], true)
	if len(s.zones) == 1 {
		return first
	}
	rest := make([]string, 0, len(s.zones)-1)
	for _, z := range s.zones[1:] {
		rest = append(rest, span(start, end, z, false))
	}
	return first + " (" + strings.Join(rest, ", ") + ")"
}

// ShortWindow is Window in the primary zone only: "Tue 1 Dec 22:00–23:00
// CET", for texts that must be short.
func (s *Set) ShortWindow(start, end time.Time) string {
	if start.IsZero() || end.IsZero() {
		return "unknown"
	}
	return span(start, end, s.zones[0], true)
}

// span writes start to end in one zone: "Tue 1 Dec 22:00–23:00 CET" with
// dates, "21:00–22:00 UTC" without; each end keeps its own zone
// abbreviation when the clocks change in between ("02:00 CEST–02:30 CET").
func span(start, end time.Time, z *time.Location, dates bool) string {
	a, b := start.In(z), end.In(z)
	from, to, sep := a.Format("15:04"), b.Format("15:04"), "–"
	if dates {
		from = a.Format("Mon 2 Jan 15:04")
		if a.Year() != b.Year() || a.YearDay() != b.YearDay() {
			to, sep = b.Format("Mon 2 Jan 15:04"), " – "
		}
	}
	za, zb := a.Format("MST"), b.Format("MST")
	if za != zb {
		return from + " " + za + sep + to + " " + zb
	}
	return from + sep + to + " " + za
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

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return strings.TrimSpace(s[:i])
	}
	return s
}

// markdownSafe returns a copy of d in which every text a person or a
// monitoring system typed (titles, messages, service names, authors, RFO
// sections and timeline) is escaped by MarkdownText: the text stays text in
// every venue that renders our Markdown (a forum, Statuspage, a Hugo site
// configured with unsafe HTML), not only on our own pages.
func (d *Data) markdownSafe() *Data {
	c := *d
	esc := MarkdownText
	c.Incident.Title = esc(d.Incident.Title)
	c.Incident.Services = make([]Service, len(d.Incident.Services))
	for i, s := range d.Incident.Services {
		s.Name = esc(s.Name)
		c.Incident.Services[i] = s
	}
	c.Update.Message, c.Update.Author = esc(d.Update.Message), esc(d.Update.Author)
	c.Incident.Related = make([]Related, len(d.Incident.Related))
	for i, r := range d.Incident.Related {
		r.Title = esc(r.Title)
		c.Incident.Related[i] = r
	}
	c.Updates = make([]Update, len(d.Updates))
	for i, u := range d.Updates {
		u.Message, u.Author = esc(u.Message), esc(u.Author)
		c.Updates[i] = u
	}
	if d.RFO != nil {
		r := *d.RFO
		r.Summary, r.Impact, r.RootCause, r.Mitigation, r.FollowUp = esc(r.Summary), esc(r.Impact), esc(r.RootCause), esc(r.Mitigation), esc(r.FollowUp)
		r.Sections = make([]RFOSection, len(d.RFO.Sections))
		for i, x := range d.RFO.Sections {
			x.Heading, x.Body = esc(x.Heading), esc(x.Body)
			r.Sections[i] = x
		}
		r.Timeline = make([]TimelineEntry, len(d.RFO.Timeline))
		for i, e := range d.RFO.Timeline {
			e.Text = esc(e.Text)
			r.Timeline[i] = e
		}
		c.RFO = &r
	}
	return &c
}
