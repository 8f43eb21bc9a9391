package webhook

import (
	"encoding/json"
	"time"

	"github.com/incident-cli/incident/publishers"
)

// document is the JSON body of a delivery; the package doc shows it.
type document struct {
	Kind     publishers.Kind   `json:"kind"`
	Key      string            `json:"key"`
	Title    string            `json:"title"`
	Text     string            `json:"text"`
	Link     string            `json:"link"`
	Texts    map[string]string `json:"texts"`
	Incident incident          `json:"incident"`
	Update   update            `json:"update"`
	ThreadID string            `json:"thread_id,omitempty"`
	ParentID string            `json:"parent_id,omitempty"`
}

type incident struct {
	ID        string               `json:"id"`
	Title     string               `json:"title"`
	Status    string               `json:"status"`
	Severity  string               `json:"severity"`
	Services  []publishers.Service `json:"services"`
	Accounts  int                  `json:"accounts"`
	StartedAt time.Time            `json:"started_at,omitzero"`
	// Maintenance is the window of a scheduled maintenance (nil for an
	// incident).
	Maintenance *window `json:"maintenance,omitempty"`
}

type window struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

type update struct {
	Number  int       `json:"number"`
	Status  string    `json:"status"`
	Message string    `json:"message"`
	At      time.Time `json:"at,omitzero"`
	Author  string    `json:"author"`
}

// encode builds the body for a post. "text" is escaped as Slack's mrkdwn
// requires (&, < and > as entities), so that text a person or a monitoring
// system typed cannot be read as <!channel>, <@user> or a <url|label> link
// that shows one address and opens another; every other field holds the
// text exactly (a program escapes it for its own venue).
func encode(p publishers.Post) ([]byte, error) {
	in := p.Incident
	d := document{
		Kind: p.Kind, Key: p.Key, Title: p.Title, Text: publishers.EscapeText(p.Text), Link: p.Link, Texts: p.Texts,
		Incident: incident{
			ID: in.ID, Title: in.Title, Status: in.Status, Severity: in.Severity,
			Services: in.Services, Accounts: in.Accounts, StartedAt: in.StartedAt.UTC(),
		},
	}
	if m := in.Maintenance; m != nil {
		d.Incident.Maintenance = &window{Start: m.Start.UTC(), End: m.End.UTC()}
	}
	if d.Kind == "" {
		d.Kind = publishers.KindUpdate
	}
	if d.Texts == nil {
		d.Texts = map[string]string{}
	}
	if d.Incident.Services == nil {
		d.Incident.Services = []publishers.Service{}
	}
	var u *publishers.Update
	if p.Kind == publishers.KindRFO && in.RFO != nil {
		u = in.RFO
	} else if len(in.Updates) > 0 {
		u = &in.Updates[len(in.Updates)-1]
	}
	if u != nil {
		d.Update = update{Number: u.Number, Status: u.Status, Message: u.Message, At: u.At.UTC(), Author: u.Author}
	}
	if p.Thread != nil {
		d.ThreadID = p.Thread.ID
	}
	if p.Parent != nil {
		d.ParentID = p.Parent.ID
	}
	return json.Marshal(d)
}
