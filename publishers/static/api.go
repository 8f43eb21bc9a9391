package static

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/incident-cli/incident/publishers"
)

// The Statuspage public API's schema (api/v2/summary.json and
// api/v2/status.json), so tools that read Statuspage pages read this one.
// Ids are the runbook's: the incident id, "ID-N" for update N, the service
// id for a component, a slug of the organization for the page.
type (
	spPage struct {
		ID        string `json:"id"`
		Name      string `json:"name"`
		URL       string `json:"url"`
		TimeZone  string `json:"time_zone"`
		UpdatedAt string `json:"updated_at"`
	}
	spStatus struct {
		Indicator   string `json:"indicator"` // none, minor, major, critical (maintenance while one is in progress)
		Description string `json:"description"`
	}
	spComponent struct {
		ID                 string  `json:"id"`
		Name               string  `json:"name"`
		Status             string  `json:"status"`
		CreatedAt          string  `json:"created_at"`
		UpdatedAt          string  `json:"updated_at"`
		Position           int     `json:"position"`
		Description        *string `json:"description"`
		Showcase           bool    `json:"showcase"`
		StartDate          *string `json:"start_date"`
		GroupID            *string `json:"group_id"`
		PageID             string  `json:"page_id"`
		Group              bool    `json:"group"`
		OnlyShowIfDegraded bool    `json:"only_show_if_degraded"`
	}
	spAffected struct {
		Code      string `json:"code"`
		Name      string `json:"name"`
		OldStatus string `json:"old_status"`
		NewStatus string `json:"new_status"`
	}
	spUpdate struct {
		ID                   string       `json:"id"`
		Status               string       `json:"status"`
		Body                 string       `json:"body"`
		IncidentID           string       `json:"incident_id"`
		CreatedAt            string       `json:"created_at"`
		UpdatedAt            string       `json:"updated_at"`
		DisplayAt            string       `json:"display_at"`
		AffectedComponents   []spAffected `json:"affected_components"`
		DeliverNotifications bool         `json:"deliver_notifications"`
		CustomTweet          *string      `json:"custom_tweet"`
		TweetID              *string      `json:"tweet_id"`
	}
	spIncident struct {
		ID              string        `json:"id"`
		Name            string        `json:"name"`
		Status          string        `json:"status"`
		CreatedAt       string        `json:"created_at"`
		UpdatedAt       string        `json:"updated_at"`
		MonitoringAt    *string       `json:"monitoring_at"`
		ResolvedAt      *string       `json:"resolved_at"`
		Impact          string        `json:"impact"`
		Shortlink       string        `json:"shortlink"`
		StartedAt       string        `json:"started_at"`
		PageID          string        `json:"page_id"`
		IncidentUpdates []spUpdate    `json:"incident_updates"`
		Components      []spComponent `json:"components"`
	}
	// spMaintenance is a scheduled maintenance: an incident with its
	// window.
	spMaintenance struct {
		spIncident
		ScheduledFor   string `json:"scheduled_for"`
		ScheduledUntil string `json:"scheduled_until"`
	}
	spSummary struct {
		Page                  spPage          `json:"page"`
		Components            []spComponent   `json:"components"`
		Incidents             []spIncident    `json:"incidents"`
		ScheduledMaintenances []spMaintenance `json:"scheduled_maintenances"`
		Status                spStatus        `json:"status"`
	}
	spStatusFile struct {
		Page   spPage   `json:"page"`
		Status spStatus `json:"status"`
	}
)

func spTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z07:00") }

func spTimePtr(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := spTime(t)
	return &s
}

// writeJSON writes status.json and the Statuspage-schema files.
func (p *Publisher) writeJSON(d *SiteData, w *files) error {
	files := map[string]any{"status.json": p.statusJSON(d)}
	sum := p.summary(d)
	files["api/v2/summary.json"] = sum
	files["api/v2/status.json"] = spStatusFile{Page: sum.Page, Status: sum.Status}
	for _, name := range []string{"status.json", "api/v2/summary.json", "api/v2/status.json"} {
		b, err := json.MarshalIndent(files[name], "", "  ")
		if err != nil {
			return err
		}
		if err := w.write(p.dir, name, append(b, '\n')); err != nil {
			return err
		}
	}
	return nil
}

// summary builds api/v2/summary.json: the page, every component, the
// unresolved incidents with their updates, the maintenance windows to come
// or in progress (soonest first), and the page's status.
func (p *Publisher) summary(d *SiteData) spSummary {
	pageID := strings.ReplaceAll(strings.ToLower(strings.TrimSpace(p.org)), " ", "-")
	page := spPage{ID: pageID, Name: p.org, URL: p.baseURL, TimeZone: d.Zone.String(), UpdatedAt: spTime(d.Now)}
	worst := d.worstState()
	s := spSummary{Page: page, Components: []spComponent{}, Incidents: []spIncident{}, ScheduledMaintenances: []spMaintenance{},
		Status: spStatus{Indicator: indicator(worst), Description: banner(worst)}}
	comps := map[string]spComponent{}
	for i, tl := range d.Services {
		c := spComponent{ID: tl.ID, Name: tl.Name, Status: tl.State, Position: i + 1, PageID: pageID, Showcase: true,
			CreatedAt: spTime(tl.Since), UpdatedAt: spTime(tl.Changed)}
		if tl.Since.IsZero() {
			c.CreatedAt = spTime(d.Now)
		} else {
			day := tl.Since.In(d.Zone).Format("2006-01-02")
			c.StartDate = &day
		}
		if tl.Changed.IsZero() {
			c.UpdatedAt = c.CreatedAt
		}
		s.Components = append(s.Components, c)
		comps[tl.ID] = c
	}
	for _, e := range d.Open() {
		s.Incidents = append(s.Incidents, spIncidentOf(e, pageID, comps))
	}
	for _, e := range d.Windows() {
		s.ScheduledMaintenances = append(s.ScheduledMaintenances, spMaintenance{spIncident: spIncidentOf(e, pageID, comps),
			ScheduledFor: spTime(e.Maintenance.Start), ScheduledUntil: spTime(e.Maintenance.End)})
	}
	return s
}

func spIncidentOf(e Entry, pageID string, comps map[string]spComponent) spIncident {
	x := spIncident{ID: e.ID, Name: e.Title, Status: e.Status, CreatedAt: spTime(e.OpenedAt), UpdatedAt: spTime(e.LastUpdate),
		Impact: e.Impact(), Shortlink: e.URL, StartedAt: spTime(e.StartedAt), PageID: pageID,
		IncidentUpdates: []spUpdate{}, Components: []spComponent{}}
	if e.LastUpdate.IsZero() {
		x.UpdatedAt = x.CreatedAt
	}
	if e.ResolvedAt != nil {
		x.ResolvedAt = spTimePtr(*e.ResolvedAt)
	}
	names := map[string]string{}
	for _, s := range e.Services {
		names[s.ID] = s.Name
		c, ok := comps[s.ID]
		if !ok {
			c = spComponent{ID: s.ID, Name: s.Name, PageID: pageID, CreatedAt: x.CreatedAt, UpdatedAt: x.UpdatedAt}
		}
		c.Status = e.StateOf(s.ID)
		x.Components = append(x.Components, c)
	}
	// Updates are newest first; each names the components whose state it
	// changed from the update before it.
	for i, u := range e.Updates {
		var prev map[string]string
		if i+1 < len(e.Updates) {
			prev = e.Updates[i+1].States
		}
		su := spUpdate{ID: e.ID + "-" + strconv.Itoa(u.Number), Status: u.Status, Body: u.Message, IncidentID: e.ID,
			CreatedAt: spTime(u.At), UpdatedAt: spTime(u.At), DisplayAt: spTime(u.At), AffectedComponents: []spAffected{},
			DeliverNotifications: true}
		for _, svc := range e.Services {
			now, was := u.States[svc.ID], prev[svc.ID]
			if now == "" {
				continue
			}
			if was == "" {
				was = publishers.Operational
			}
			if now != was || i+1 == len(e.Updates) {
				su.AffectedComponents = append(su.AffectedComponents, spAffected{Code: svc.ID, Name: names[svc.ID], OldStatus: was, NewStatus: now})
			}
		}
		if u.Status == "monitoring" {
			x.MonitoringAt = spTimePtr(u.At) // the earliest, as the loop goes back in time
		}
		x.IncidentUpdates = append(x.IncidentUpdates, su)
	}
	return x
}
