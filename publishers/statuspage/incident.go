package statuspage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/incident-cli/incident/publishers"
)

// skew is how much earlier than the update's own time an incident update
// found on Statuspage may have been made and still count as this update's
// earlier attempt (clocks differ).
const skew = 5 * time.Minute

// incident is the part of a Statuspage incident this channel reads.
type incident struct {
	ID        string                     `json:"id"`
	Name      string                     `json:"name"`
	Status    string                     `json:"status"`
	Shortlink string                     `json:"shortlink"`
	Metadata  map[string]json.RawMessage `json:"metadata"`
	Updates   []incidentUpdate           `json:"incident_updates"`
}

type incidentUpdate struct {
	ID        string `json:"id"`
	Status    string `json:"status"`
	Body      string `json:"body"`
	CreatedAt string `json:"created_at"`
}

// incidentFields is the "incident" object of a create or update.
type incidentFields struct {
	Name           string                       `json:"name,omitempty"`
	Status         string                       `json:"status,omitempty"`
	Body           string                       `json:"body,omitempty"`
	ImpactOverride string                       `json:"impact_override,omitempty"`
	ComponentIDs   []string                     `json:"component_ids,omitempty"`
	Components     map[string]string            `json:"components,omitempty"`
	Metadata       map[string]map[string]string `json:"metadata,omitempty"`
	*scheduledFields
}

// scheduledFields make a new incident a scheduled maintenance. Statuspage's
// own reminder and automatic transitions are turned off: the runbook
// publishes the reminder, the start and the completion itself, on every
// channel at once, and each would otherwise reach subscribers twice.
type scheduledFields struct {
	ScheduledFor                     string `json:"scheduled_for"`
	ScheduledUntil                   string `json:"scheduled_until"`
	ScheduledRemindPrior             bool   `json:"scheduled_remind_prior"`
	ScheduledAutoInProgress          bool   `json:"scheduled_auto_in_progress"`
	ScheduledAutoCompleted           bool   `json:"scheduled_auto_completed"`
	AutoTransitionToMaintenanceState bool   `json:"auto_transition_to_maintenance_state"`
	AutoTransitionToOperationalState bool   `json:"auto_transition_to_operational_state"`
}

// scheduled is the fields of a new maintenance window, nil for an incident.
func scheduled(inc publishers.Incident) *scheduledFields {
	m := inc.Maintenance
	if m == nil {
		return nil
	}
	return &scheduledFields{ScheduledFor: m.Start.UTC().Format(time.RFC3339), ScheduledUntil: m.End.UTC().Format(time.RFC3339)}
}

// status is the incident's status in Statuspage's words: a cancelled
// maintenance window is completed there (Statuspage has no cancelled; the
// update's text says it was called off).
func status(inc publishers.Incident) string {
	if inc.Maintenance != nil && inc.Status == "cancelled" {
		return "completed"
	}
	return inc.Status
}

type incidentRequest struct {
	Incident incidentFields `json:"incident"`
}

func (c *channel) create(ctx context.Context, p publishers.Post) (publishers.Receipt, error) {
	const op = "create incident"
	if err := checkLengths(op, name(p.Title), p.Text); err != nil {
		return publishers.Receipt{}, err
	}
	if !p.Fresh { // an earlier attempt may have created it
		found, err := c.find(ctx, name(p.Title), p.Incident.ID)
		if err != nil {
			return publishers.Receipt{}, err
		}
		if found != nil {
			return c.receipt(*found, "", "update"), nil
		}
	}
	ids, comps := c.components(p.Incident)
	req := incidentRequest{Incident: incidentFields{
		Name:            name(p.Title),
		Status:          status(p.Incident),
		Body:            p.Text,
		ImpactOverride:  impact(p.Incident.Severity),
		ComponentIDs:    ids,
		Components:      comps,
		Metadata:        map[string]map[string]string{"incident": {"id": p.Incident.ID, "key": p.Key, "update": p.Key}},
		scheduledFields: scheduled(p.Incident),
	}}
	var out incident
	if _, err := c.client.Do(ctx, op, http.MethodPost, c.pages+"/incidents", req, &out); err != nil {
		return publishers.Receipt{}, err
	}
	if out.ID == "" {
		return publishers.Receipt{}, fmt.Errorf("%s: the answer holds no incident id", op)
	}
	return c.receipt(out, "", "update"), nil
}

func (c *channel) update(ctx context.Context, p publishers.Post) (publishers.Receipt, error) {
	const op = "update incident"
	body := p.Text
	var at time.Time
	if n := len(p.Incident.Updates); n > 0 {
		body, at = updateBody(p.Incident.Updates[n-1]), p.Incident.Updates[n-1].At
	}
	if err := checkLengths(op, name(p.Title), body); err != nil {
		return publishers.Receipt{}, err
	}
	u, err := c.incidentURL(op, p.Thread.ID)
	if err != nil {
		return publishers.Receipt{}, err
	}
	// The incident's metadata names the last update we posted, by its key:
	// an earlier attempt whose answer was lost is told from a new update
	// that happens to say the same thing ("We are still investigating.").
	// A Fresh post (the first attempt at an update just recorded) has no
	// earlier attempt: it skips the read and writes our namespace afresh.
	meta := map[string]string{}
	if !p.Fresh {
		var cur incident
		if _, err := c.client.Do(ctx, "read incident", http.MethodGet, u, nil, &cur); err != nil {
			return publishers.Receipt{}, err
		}
		meta = metadataOf(cur)
		if last, ok := meta["update"]; ok {
			if last == p.Key {
				return c.receipt(cur, p.Thread.URL, "update"), nil
			}
		} else if applied(cur, status(p.Incident), body, at) { // an incident from before keys were kept
			return c.receipt(cur, p.Thread.URL, "update"), nil
		}
	}
	meta["id"], meta["update"] = p.Incident.ID, p.Key
	ids, comps := c.components(p.Incident)
	req := incidentRequest{Incident: incidentFields{
		Name:           name(p.Title),
		Status:         status(p.Incident),
		Body:           body,
		ImpactOverride: impact(p.Incident.Severity),
		ComponentIDs:   ids,
		Components:     comps,
		Metadata:       map[string]map[string]string{"incident": meta},
	}}
	var out incident
	if _, err := c.client.Do(ctx, op, http.MethodPatch, u, req, &out); err != nil {
		return publishers.Receipt{}, err
	}
	if out.ID == "" {
		out.ID = p.Thread.ID
	}
	return c.receipt(out, p.Thread.URL, "update"), nil
}

// name is an incident's name as Statuspage shows it: the rendered title is
// plain text holding what the responder typed, and Statuspage renders names
// as HTML, so &, < and > are escaped.
func name(title string) string { return publishers.EscapeText(title) }

// updateBody is the body of a later incident update: the update's message,
// escaped for Markdown like every text the templates render (Statuspage
// renders bodies as Markdown, HTML included), so a typed tag or a
// javascript: link stays text.
func updateBody(u publishers.Update) string {
	if u.Markdown != "" {
		return u.Markdown
	}
	return publishers.EscapeText(u.Message)
}

// applied reports whether the incident's newest update is this one, posted by
// an earlier attempt whose answer was lost, judged by its status, text and
// time: only for incidents whose metadata does not name the last update.
func applied(inc incident, status, body string, at time.Time) bool {
	if len(inc.Updates) == 0 {
		return false
	}
	latest := inc.Updates[0] // Statuspage lists incident updates newest first
	made, _ := time.Parse(time.RFC3339, latest.CreatedAt)
	for _, u := range inc.Updates[1:] {
		if t, err := time.Parse(time.RFC3339, u.CreatedAt); err == nil && t.After(made) {
			latest, made = u, t
		}
	}
	if latest.Status != status || strings.TrimSpace(latest.Body) != strings.TrimSpace(body) {
		return false
	}
	return at.IsZero() || !made.IsZero() && !made.Before(at.Add(-skew))
}

// find returns the incident created for incidentID, looking through the
// page's incidents whose text matches q.
func (c *channel) find(ctx context.Context, q, incidentID string) (*incident, error) {
	v := url.Values{"q": {q}, "limit": {"100"}}
	var list []incident
	if _, err := c.client.Do(ctx, "look up incident", http.MethodGet, c.pages+"/incidents?"+v.Encode(), nil, &list); err != nil {
		return nil, err
	}
	for i := range list {
		if metadataID(list[i]) == incidentID {
			return &list[i], nil
		}
	}
	return nil, nil
}

// metadataOf returns our namespace of the incident's metadata, as strings.
func metadataOf(inc incident) map[string]string {
	var m map[string]any
	out := map[string]string{}
	if json.Unmarshal(inc.Metadata["incident"], &m) != nil {
		return out
	}
	for k, v := range m {
		if s, ok := v.(string); ok {
			out[k] = s
		}
	}
	return out
}

func metadataID(inc incident) string {
	var m map[string]any
	if json.Unmarshal(inc.Metadata["incident"], &m) != nil {
		return ""
	}
	id, _ := m["id"].(string)
	return id
}

func (c *channel) incidentURL(op, id string) (string, error) {
	if id == "" || strings.ContainsAny(id, "/?#% ") {
		return "", publishers.Permanent(fmt.Errorf("%s: recorded incident id %q is not a Statuspage incident id", op, id))
	}
	return c.pages + "/incidents/" + url.PathEscape(id), nil
}

// receipt builds the receipt; fallbackURL is used when the answer has no
// shortlink (a PATCH answer always should).
func (c *channel) receipt(inc incident, fallbackURL, kind string) publishers.Receipt {
	link := inc.Shortlink
	if link == "" {
		link = fallbackURL
	}
	return publishers.Receipt{ID: inc.ID, URL: link, At: c.env.Now(), Meta: map[string]string{"kind": kind}}
}

func checkLengths(op, name, body string) error {
	if strings.TrimSpace(name) == "" {
		return publishers.Permanent(fmt.Errorf("%s: the title is empty", op))
	}
	if n := utf8.RuneCountInString(name); n > MaxName {
		return publishers.Permanent(fmt.Errorf("%s: the title is %d characters; Statuspage allows %d", op, n, MaxName))
	}
	if n := utf8.RuneCountInString(body); n > MaxBody {
		return publishers.Permanent(fmt.Errorf("%s: the text is %d characters; Statuspage allows %d per incident update", op, n, MaxBody))
	}
	return nil
}

// postmortem is the part of a Statuspage postmortem this channel reads.
type postmortem struct {
	Body        string `json:"body"`
	BodyDraft   string `json:"body_draft"`
	PublishedAt string `json:"published_at"`
}

// publishPostmortem makes the RFO the incident's postmortem: PUT the draft,
// then PUT .../postmortem/publish. Subscribers are notified the first time
// only; Statuspage's own tweet is never sent (the twitter channel links to it).
func (c *channel) publishPostmortem(ctx context.Context, p publishers.Post) (publishers.Receipt, error) {
	if strings.TrimSpace(p.Text) == "" {
		return publishers.Receipt{}, publishers.Permanent(errors.New("publish postmortem: the RFO text is empty"))
	}
	id, link := "", ""
	switch {
	case p.Thread != nil:
		id, link = p.Thread.ID, p.Thread.URL
	case p.Parent != nil:
		id, link = p.Parent.ID, p.Parent.URL
	default:
		found, err := c.find(ctx, p.Incident.Title, p.Incident.ID)
		if err != nil {
			return publishers.Receipt{}, err
		}
		if found == nil {
			return publishers.Receipt{}, publishers.Permanent(fmt.Errorf("publish postmortem: no Statuspage incident was published for %s; publish an update first", p.Incident.ID))
		}
		id, link = found.ID, found.Shortlink
	}
	u, err := c.incidentURL("publish postmortem", id)
	if err != nil {
		return publishers.Receipt{}, err
	}
	done := publishers.Receipt{ID: id, URL: link, At: c.env.Now(), Meta: map[string]string{"kind": "postmortem"}}

	var cur postmortem
	_, err = c.client.Do(ctx, "read postmortem", http.MethodGet, u+"/postmortem", nil, &cur)
	var he *publishers.HTTPError
	switch {
	case err == nil && cur.PublishedAt != "" && strings.TrimSpace(cur.Body) == strings.TrimSpace(p.Text):
		return c.withLink(ctx, u, done)
	case err != nil && !(errors.As(err, &he) && he.Status == http.StatusNotFound):
		return publishers.Receipt{}, err
	}
	draft := map[string]any{"postmortem": map[string]string{"body_draft": p.Text}}
	if _, err := c.client.Do(ctx, "save postmortem draft", http.MethodPut, u+"/postmortem", draft, nil); err != nil {
		return publishers.Receipt{}, err
	}
	publish := map[string]any{"postmortem": map[string]bool{
		"notify_subscribers": cur.PublishedAt == "",
		"notify_twitter":     false,
	}}
	if _, err := c.client.Do(ctx, "publish postmortem", http.MethodPut, u+"/postmortem/publish", publish, nil); err != nil {
		return publishers.Receipt{}, err
	}
	return c.withLink(ctx, u, done)
}

// withLink fills in the incident's shortlink when the receipts did not carry it.
func (c *channel) withLink(ctx context.Context, incidentURL string, r publishers.Receipt) (publishers.Receipt, error) {
	if r.URL != "" {
		return r, nil
	}
	var inc incident
	if _, err := c.client.Do(ctx, "read incident", http.MethodGet, incidentURL, nil, &inc); err != nil {
		return publishers.Receipt{}, err
	}
	r.URL = inc.Shortlink
	return r, nil
}
