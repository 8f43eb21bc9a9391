// Package statuspage publishes the canonical status update to an Atlassian
// Statuspage page through its REST API v1 (incidents, components and
// incident postmortems), authenticated with "Authorization: OAuth KEY".
//
// A maintenance window (Post.Incident.Maintenance) is a scheduled
// maintenance: created with scheduled_for and scheduled_until and with
// Statuspage's own reminder and automatic transitions off (the runbook
// publishes them); its statuses are scheduled, in_progress and completed
// (a cancelled window is completed, with the cancellation as its text); its
// components are under_maintenance only while it is in progress.
//
// Threading: the first update creates a Statuspage incident named Post.Title
// whose first incident update is Post.Text. Later updates PATCH that incident
// with the new status and only the latest update's message (Statuspage lists
// the updates itself), the title, the impact and the affected components. The
// RFO becomes the incident's postmortem: the draft is saved, then published.
// The incident's shortlink is the public URL.
//
// Idempotency: a new incident carries metadata {"incident":{"id":..,"key":..}}.
// Before creating one, Publish lists the page's incidents matching the title
// (GET /incidents?q=) and returns the one carrying this incident id, so a
// create whose answer was lost is not repeated. Because every PATCH with a
// body adds an incident update, Publish first reads the incident and skips the
// PATCH when its newest incident update already has this status and message
// and was made no earlier than five minutes before the update was written
// (an earlier attempt whose answer was lost). A postmortem already published
// with the same body is not published again.
package statuspage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/incident-cli/incident/publishers"
)

// DefaultURL is the Statuspage API's base URL.
const DefaultURL = "https://api.statuspage.io"

// Limits documented for incidents.
const (
	MaxName = 255   // characters in an incident's name
	MaxBody = 25000 // characters in an incident update's body
)

// Config is the [status_page] table of an Atlassian Statuspage page.
type Config struct {
	Name   string            `toml:"name"`
	URL    string            `toml:"url"`     // API base URL, https://api.statuspage.io by default
	PageID string            `toml:"page_id"` // the page's id, from the API info page
	APIKey publishers.Secret `toml:"api_key"` // reference to the API key
	// Components maps a runbook service id to a Statuspage component id
	// ([status_page.components]).
	Components map[string]string `toml:"components"`
	// ComponentStatus overrides the component status set for an incident
	// status ([status_page.component_status], e.g. monitoring = "operational").
	ComponentStatus map[string]string `toml:"component_status"`
}

// Keys lists the config keys, for "did you mean" hints.
var Keys = publishers.KeysOf(Config{})

var (
	incidentStatuses  = []string{"investigating", "identified", "monitoring", "resolved"}
	componentStatuses = []string{"operational", "under_maintenance", "degraded_performance", "partial_outage", "major_outage"}
)

type channel struct {
	cfg    Config
	pages  string // {url}/v1/pages/{page_id}
	env    publishers.Env
	client *publishers.Client
}

// New builds the Statuspage channel from its config table.
func New(cfg toml.Primitive, md toml.MetaData, env publishers.Env) (publishers.Publisher, error) {
	var c Config
	if err := md.PrimitiveDecode(cfg, &c); err != nil {
		return nil, fmt.Errorf("statuspage: %w", err)
	}
	if c.URL == "" {
		c.URL = DefaultURL
	}
	u, err := publishers.CheckBaseURL(c.URL)
	if err != nil {
		return nil, fmt.Errorf("statuspage: %w", err)
	}
	if c.PageID == "" {
		return nil, errors.New("statuspage: `page_id` is required (shown on the API info page of Statuspage's management interface)")
	}
	if strings.ContainsAny(c.PageID, "/?#% ") {
		return nil, fmt.Errorf("statuspage: `page_id` %q is not a page id", c.PageID)
	}
	if c.APIKey.IsZero() {
		return nil, errors.New("statuspage: `api_key` is required (a reference such as env:STATUSPAGE_API_KEY)")
	}
	known := map[string]bool{}
	for _, s := range env.Services {
		known[s.ID] = true
	}
	for _, svc := range sortedKeys(c.Components) {
		if len(env.Services) > 0 && !known[svc] {
			return nil, fmt.Errorf("statuspage: `components` maps service %q, which no [[service]] in the runbook has", svc)
		}
		if c.Components[svc] == "" {
			return nil, fmt.Errorf("statuspage: `components` gives service %q an empty component id", svc)
		}
	}
	for _, st := range sortedKeys(c.ComponentStatus) {
		if !slices.Contains(incidentStatuses, st) {
			return nil, fmt.Errorf("statuspage: `component_status` key %q is not an incident status (%s)", st, strings.Join(incidentStatuses, ", "))
		}
		if !slices.Contains(componentStatuses, c.ComponentStatus[st]) {
			return nil, fmt.Errorf("statuspage: `component_status` %s = %q is not a component status (%s)", st, c.ComponentStatus[st], strings.Join(componentStatuses, ", "))
		}
	}
	ch := &channel{cfg: c, pages: u.String() + "/v1/pages/" + url.PathEscape(c.PageID), env: env}
	ch.client = &publishers.Client{
		HTTP:      env.HTTP,
		UserAgent: env.UserAgent,
		Message:   errorMessage,
		Hint:      publishers.Hints(c.APIKey),
		Authorize: ch.authorize,
		Now:       env.Now,
	}
	return ch, nil
}

func (c *channel) authorize(r *http.Request) error {
	key, err := c.env.Secrets.Resolve(r.Context(), c.cfg.APIKey)
	if err != nil {
		return err
	}
	r.Header.Set("Authorization", "OAuth "+key)
	return nil
}

// Publish creates or updates the incident, or publishes its postmortem.
func (c *channel) Publish(ctx context.Context, p publishers.Post) (publishers.Receipt, error) {
	if p.Incident.ID == "" {
		return publishers.Receipt{}, publishers.Permanent(errors.New("publish incident: the post has no incident id"))
	}
	switch {
	case p.Kind == publishers.KindRFO:
		return c.publishPostmortem(ctx, p)
	case p.Thread == nil:
		return c.create(ctx, p)
	default:
		return c.update(ctx, p)
	}
}

// Verify lists the page's components (GET /v1/pages/{page_id}/components),
// which needs a valid key and page id, and checks that every component id in
// `components` is on the page.
func (c *channel) Verify(ctx context.Context) (string, error) {
	var comps []struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	if _, err := c.client.Do(ctx, "list components", http.MethodGet, c.pages+"/components", nil, &comps); err != nil {
		return "", err
	}
	have := map[string]bool{}
	for _, comp := range comps {
		have[comp.ID] = true
	}
	var missing []string
	for _, svc := range sortedKeys(c.cfg.Components) {
		if id := c.cfg.Components[svc]; !have[id] {
			missing = append(missing, fmt.Sprintf("%s = %q", svc, id))
		}
	}
	if len(missing) > 0 {
		return "", publishers.Permanent(fmt.Errorf("list components: page %s has no component %s; check [status_page.components]", c.cfg.PageID, strings.Join(missing, ", ")))
	}
	return fmt.Sprintf("page %s (%d components)", c.cfg.PageID, len(comps)), nil
}

// componentStatus is the status a service's component takes: the
// [status_page.component_status] for the incident's status when configured,
// operational once resolved, else the service's state as of this update
// (the update's --state, or its severity's default).
func (c *channel) componentStatus(inc publishers.Incident, svc string) string {
	if s, ok := c.cfg.ComponentStatus[inc.Status]; ok && inc.Maintenance == nil {
		return s
	}
	if inc.Closed() {
		return "operational"
	}
	if s := inc.States[svc]; slices.Contains(componentStatuses, s) {
		return s
	}
	// A post that carries no states (built by hand): by severity.
	switch {
	case inc.Status == "monitoring":
		return "degraded_performance"
	case inc.Severity == "critical":
		return "major_outage"
	}
	return "partial_outage"
}

// components maps the incident's services to component ids and statuses.
// Services without a component are left out; services sharing a component
// give it the worst of their states. A maintenance window still to come
// names its components but sets no status: it must not touch the state an
// incident holds them in (cState #205 gets this wrong).
func (c *channel) components(inc publishers.Incident) ([]string, map[string]string) {
	var ids []string
	m := map[string]string{}
	for _, s := range inc.Services {
		id, ok := c.cfg.Components[s.ID]
		if !ok {
			continue
		}
		st := c.componentStatus(inc, s.ID)
		if prev, seen := m[id]; seen {
			m[id] = publishers.Worse(prev, st)
			continue
		}
		ids = append(ids, id)
		m[id] = st
	}
	if len(ids) == 0 {
		return nil, nil
	}
	if inc.Maintenance != nil && inc.Status == "scheduled" {
		return ids, nil
	}
	return ids, m
}

// impact maps the runbook's severity to Statuspage's impact_override.
func impact(severity string) string {
	switch severity {
	case "minor", "major", "critical":
		return severity
	}
	return ""
}

// errorMessage reads Statuspage's error bodies: the documented
// {"message":"..."} and the {"error":"..."} or {"error":["..."]} seen in practice.
func errorMessage(b []byte) string {
	var e struct {
		Message string          `json:"message"`
		Error   json.RawMessage `json:"error"`
	}
	if json.Unmarshal(b, &e) != nil {
		return ""
	}
	if e.Message != "" {
		return e.Message
	}
	var s string
	if json.Unmarshal(e.Error, &s) == nil && s != "" {
		return s
	}
	var list []string
	if json.Unmarshal(e.Error, &list) == nil {
		return strings.Join(list, "; ")
	}
	return ""
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
