package static

import (
	"slices"
	"strings"
	"time"

	"github.com/incident-cli/incident/publishers"
)

// SiteData is what the site's shared pages show (the index, the history
// pages, the feeds and the JSON files). The runbook computes it from the
// records each time they are written, under the site's lock (see
// Publisher.SetSource): the page never reads the records itself, and never
// trusts what an earlier run wrote.
type SiteData struct {
	Now  time.Time
	Zone *time.Location // the runbook's primary zone: days of the bars, past incidents, history
	// Services are the services' timelines, in the runbook's order.
	Services []publishers.ServiceTimeline
	// Incidents are every public incident, newest first (by start). Those
	// the shared pages show with their updates (open ones, the History
	// most recent, the last PastDays days', and what the feeds need) carry
	// them; the others have none (the history pages need only titles).
	Incidents []Entry
	// Subscribe is where people subscribe by email (an address or a URL,
	// from a channel implementing publishers.Subscriber), "" when nowhere.
	Subscribe string
}

// Source computes the SiteData. The runbook sets it (SetSource); it is
// called with the site's lock held.
type Source func() (*SiteData, error)

// PastDays is how many days the index's "Past incidents" covers, today
// included.
const PastDays = 15

// Site is status.json: the machine-readable state of the page. Its schema is
// stable: fields are only ever added.
type Site struct {
	Organization string         `json:"organization"`
	URL          string         `json:"url,omitempty"`
	Generated    time.Time      `json:"generated"`
	Status       string         `json:"status"`      // operational, degraded, outage
	Indicator    string         `json:"indicator"`   // Statuspage's none, minor, major, critical (or maintenance)
	Description  string         `json:"description"` // the banner: "All Systems Operational", ...
	Services     []ServiceState `json:"services"`
	Incidents    []Entry        `json:"incidents"` // open first, then recent history, newest first
	// Maintenance lists the maintenance windows to come or in progress,
	// soonest first (finished ones are among Incidents).
	Maintenance []Entry `json:"maintenance"`
}

// ServiceState is one service's current state.
type ServiceState struct {
	ID     string  `json:"id"`
	Name   string  `json:"name"`
	Status string  `json:"status"` // operational, degraded, outage, recovering
	State  string  `json:"state"`  // operational, under_maintenance, degraded_performance, partial_outage, major_outage
	Uptime float64 `json:"uptime_90d"`
	Since  string  `json:"since,omitempty"` // the first day with data, in the primary zone (YYYY-MM-DD)
}

// Entry is one incident on the page.
type Entry struct {
	ID         string               `json:"id"`
	Title      string               `json:"title"`
	Status     string               `json:"status"`
	Severity   string               `json:"severity,omitempty"`
	Services   []publishers.Service `json:"services"`
	States     map[string]string    `json:"states,omitempty"` // service id -> state now (all operational once resolved)
	Accounts   int                  `json:"accounts,omitempty"`
	StartedAt  time.Time            `json:"started_at"`
	OpenedAt   time.Time            `json:"opened_at"`
	ResolvedAt *time.Time           `json:"resolved_at,omitempty"`
	LastUpdate time.Time            `json:"last_update,omitzero"` // the latest public update
	URL        string               `json:"url"`
	RFOURL     string               `json:"rfo_url,omitempty"`
	Updates    []EntryUpdate        `json:"updates"` // newest first
	// Maintenance is set for a scheduled maintenance window: its Status is
	// scheduled, in_progress, completed or cancelled.
	Maintenance *EntryWindow `json:"maintenance,omitempty"`
}

// EntryWindow is a maintenance window's announced start and end.
type EntryWindow struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// EntryUpdate is one public update.
type EntryUpdate struct {
	Number  int               `json:"number"`
	Status  string            `json:"status"`
	Message string            `json:"message"`
	HTML    string            `json:"html"`
	At      time.Time         `json:"at"`
	States  map[string]string `json:"states,omitempty"` // service id -> state this update set
}

// EntryOf makes an incident's entry with its updates, newest first.
func EntryOf(inc publishers.Incident, url string) Entry {
	e := Entry{ID: inc.ID, Title: inc.Title, Status: inc.Status, Severity: inc.Severity, Services: inc.Services,
		States: inc.States, Accounts: inc.Accounts, StartedAt: inc.StartedAt, OpenedAt: inc.OpenedAt, URL: url}
	if e.Services == nil {
		e.Services = []publishers.Service{}
	}
	if !inc.ResolvedAt.IsZero() {
		t := inc.ResolvedAt
		e.ResolvedAt = &t
	}
	if m := inc.Maintenance; m != nil {
		e.Maintenance = &EntryWindow{Start: m.Start, End: m.End}
	}
	e.Updates = []EntryUpdate{}
	for i := len(inc.Updates) - 1; i >= 0; i-- {
		u := inc.Updates[i]
		e.Updates = append(e.Updates, EntryUpdate{Number: u.Number, Status: u.Status, Message: u.Message, HTML: u.HTML, At: u.At, States: u.States})
	}
	if len(inc.Updates) > 0 {
		e.LastUpdate = inc.Updates[len(inc.Updates)-1].At
	}
	return e
}

// Open reports whether the incident is not resolved (a maintenance
// window: not completed or cancelled).
func (e Entry) Open() bool { return e.ResolvedAt == nil }

// Upcoming reports whether the entry is a maintenance window to come or in
// progress: it shows in the Scheduled Maintenance box, not among incidents,
// past incidents or history.
func (e Entry) Upcoming() bool { return e.Maintenance != nil && e.Open() }

// InProgress reports whether the entry is a maintenance window in progress.
func (e Entry) InProgress() bool { return e.Upcoming() && e.Status == "in_progress" }

// Label is how the page names an update's status: the status ("Identified"),
// or for a maintenance window Statuspage's words for its phase
// ("Scheduled maintenance", "Maintenance in progress", ...).
func (e Entry) Label(status string) string {
	if e.Maintenance == nil {
		return titleCase(status)
	}
	switch status {
	case "scheduled":
		return "Scheduled maintenance"
	case "cancelled":
		return "Maintenance cancelled"
	}
	return "Maintenance " + strings.ReplaceAll(status, "_", " ")
}

// StateOf returns the state the incident holds a service in now.
func (e Entry) StateOf(svc string) string {
	if !e.Open() || e.States[svc] == "" {
		return publishers.Operational
	}
	return e.States[svc]
}

// Impact is Statuspage's impact of the incident: its severity (minor,
// major, critical), else what the worst state it set says (none when it
// held no service down).
func (e Entry) Impact() string {
	if e.Maintenance != nil {
		return "maintenance"
	}
	switch e.Severity {
	case "minor", "major", "critical":
		return e.Severity
	}
	worst := publishers.Operational
	for _, st := range e.States {
		worst = publishers.Worse(worst, st)
	}
	for _, u := range e.Updates {
		for _, st := range u.States {
			worst = publishers.Worse(worst, st)
		}
	}
	return indicator(worst)
}

// indicator maps a state to Statuspage's status indicator and impact words.
func indicator(state string) string {
	switch state {
	case publishers.MajorOutage:
		return "critical"
	case publishers.PartialOutage:
		return "major"
	case publishers.DegradedPerformance:
		return "minor"
	case publishers.UnderMaintenance:
		return "maintenance"
	}
	return "none"
}

// banner is Statuspage's words for a page whose worst component is in
// state (its mapping for a single component; how Statuspage blends several
// is not documented, so the worst decides).
func banner(state string) string {
	switch state {
	case publishers.MajorOutage:
		return "Major System Outage"
	case publishers.PartialOutage:
		return "Partial System Outage"
	case publishers.DegradedPerformance:
		return "Partially Degraded Service"
	case publishers.UnderMaintenance:
		return "Service Under Maintenance"
	}
	return "All Systems Operational"
}

// worstState is the worst state of any service.
func (d *SiteData) worstState() string {
	worst := publishers.Operational
	for _, s := range d.Services {
		worst = publishers.Worse(worst, s.State)
	}
	return worst
}

// Open returns the open incidents, newest first (maintenance windows are
// not among them: see Windows).
func (d *SiteData) Open() []Entry {
	var out []Entry
	for _, e := range d.Incidents {
		if e.Open() && e.Maintenance == nil {
			out = append(out, e)
		}
	}
	return out
}

// Windows returns the maintenance windows to come or in progress, soonest
// first.
func (d *SiteData) Windows() []Entry {
	var out []Entry
	for _, e := range d.Incidents {
		if e.Upcoming() {
			out = append(out, e)
		}
	}
	slices.SortStableFunc(out, func(a, b Entry) int { return a.Maintenance.Start.Compare(b.Maintenance.Start) })
	return out
}

// InProgress returns the maintenance windows in progress, soonest first.
func (d *SiteData) InProgress() []Entry {
	var out []Entry
	for _, e := range d.Windows() {
		if e.InProgress() {
			out = append(out, e)
		}
	}
	return out
}

// Scheduled returns the maintenance windows to come, soonest first.
func (d *SiteData) Scheduled() []Entry {
	var out []Entry
	for _, e := range d.Windows() {
		if !e.InProgress() {
			out = append(out, e)
		}
	}
	return out
}

// historic returns the incidents the history and past incidents show,
// newest first: every one but the maintenance windows to come or in
// progress.
func (d *SiteData) historic() []Entry {
	var out []Entry
	for _, e := range d.Incidents {
		if !e.Upcoming() {
			out = append(out, e)
		}
	}
	return out
}

// recent returns the open incidents and the History most recent resolved
// ones (by start), finished maintenance windows among them: what
// status.json lists.
func (d *SiteData) recent() []Entry {
	out := d.Open()
	n := 0
	for _, e := range d.historic() {
		if !e.Open() && n < History {
			out = append(out, e)
			n++
		}
	}
	return out
}

// legacy is status.json's older words for a service: outage, degraded,
// recovering (every open incident naming it is monitoring) or operational.
func legacy(state string, monitoringOnly bool) string {
	switch {
	case state == publishers.MajorOutage:
		return "outage"
	case state == publishers.Operational:
		return "operational"
	case monitoringOnly:
		return "recovering"
	}
	return "degraded"
}

// statusJSON builds status.json.
func (p *Publisher) statusJSON(d *SiteData) *Site {
	s := &Site{Organization: p.org, Generated: d.Now.UTC(), Incidents: d.recent(), Services: []ServiceState{}, Maintenance: d.Windows()}
	if s.Maintenance == nil {
		s.Maintenance = []Entry{}
	}
	if p.baseURL != "" {
		s.URL = p.baseURL + "/"
	}
	if s.Incidents == nil {
		s.Incidents = []Entry{}
	}
	open := d.Open()
	s.Status = "operational"
	for _, tl := range d.Services {
		monitoringOnly, named := true, false
		for _, e := range open {
			if slices.ContainsFunc(e.Services, func(x publishers.Service) bool { return x.ID == tl.ID }) {
				named = true
				monitoringOnly = monitoringOnly && e.Status == "monitoring"
			}
		}
		st := ServiceState{ID: tl.ID, Name: tl.Name, State: tl.State, Status: legacy(tl.State, named && monitoringOnly), Uptime: tl.Uptime}
		if !tl.Since.IsZero() {
			st.Since = tl.Since.In(d.Zone).Format("2006-01-02")
		}
		s.Services = append(s.Services, st)
		switch {
		case st.Status == "outage":
			s.Status = "outage"
		case st.Status != "operational" && s.Status == "operational":
			s.Status = "degraded"
		}
	}
	if s.Status == "operational" && len(open) > 0 {
		s.Status = "degraded"
	}
	worst := d.worstState()
	s.Indicator, s.Description = indicator(worst), banner(worst)
	return s
}
