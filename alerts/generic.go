package alerts

import (
	"bytes"
	"fmt"
	"strings"
)

// genericAlert is our own alert format, for scripts and systems with a
// configurable webhook, modelled on incident.io's and PagerDuty's events:
//
//	{"source": "backup-cron", "dedup_key": "backup/db1", "status": "firing",
//	 "title": "Nightly backup of db1 failed", "description": "...",
//	 "service": "db", "severity": "critical", "labels": {"host": "db1"},
//	 "url": "https://ci.example.com/job/42",
//	 "starts_at": "2026-11-26T02:00:00Z", "ends_at": "..."}
//
// A payload is one object or an array of them. dedup_key and status are
// required, title too while firing; a field this struct does not know is an
// error, so a typo is caught, not ignored.
type genericAlert struct {
	Source      string            `json:"source"`
	DedupKey    string            `json:"dedup_key"`
	Status      string            `json:"status"`
	Title       string            `json:"title"`
	Description string            `json:"description"`
	Service     string            `json:"service"`
	Severity    string            `json:"severity"`
	Labels      map[string]string `json:"labels"`
	URL         string            `json:"url"`
	StartsAt    string            `json:"starts_at"`
	EndsAt      string            `json:"ends_at"`
}

const genericWhat = `generic alert JSON: {"dedup_key":"...","status":"firing|resolved","title":"...", ...} or an array of them (see the README)`

// parseGeneric reads a generic alert payload. Key is dedup_key and Name the
// title; source and service become the labels "source" and "service"
// (overriding labels of the same name).
func parseGeneric(body []byte) ([]Alert, error) {
	var in []genericAlert
	trimmed := bytes.TrimSpace(body)
	array := len(trimmed) > 0 && trimmed[0] == '['
	if array {
		if err := decode(SourceGeneric, body, &in, true, genericWhat); err != nil {
			return nil, err
		}
	} else {
		var one genericAlert
		if err := decode(SourceGeneric, body, &one, true, genericWhat); err != nil {
			return nil, err
		}
		in = []genericAlert{one}
	}
	if len(in) > MaxAlerts {
		return nil, tooMany(SourceGeneric, len(in))
	}
	out := make([]Alert, 0, len(in))
	for i, g := range in {
		field := func(name string) string {
			if array {
				return fmt.Sprintf("[%d].%s", i, name)
			}
			return name
		}
		a, err := g.alert(field)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

func (g genericAlert) alert(field func(string) string) (Alert, error) {
	a := Alert{Key: g.DedupKey, Name: g.Title, Summary: g.Title, Description: g.Description,
		Severity: g.Severity, URL: g.URL}
	if strings.TrimSpace(g.DedupKey) == "" {
		return a, &InputError{Source: SourceGeneric, Field: field("dedup_key"),
			Msg: "missing; every alert needs a dedup_key that stays the same from firing to resolved"}
	}
	switch strings.ToLower(strings.TrimSpace(g.Status)) {
	case "firing":
		a.Firing = true
		if strings.TrimSpace(g.Title) == "" {
			return a, &InputError{Source: SourceGeneric, Field: field("title"), Msg: "missing; a firing alert needs a title for people"}
		}
	case "resolved":
		if strings.TrimSpace(a.Name) == "" {
			a.Name = g.DedupKey
		}
	case "":
		return a, &InputError{Source: SourceGeneric, Field: field("status"), Msg: `missing; send "firing" or "resolved"`}
	default:
		return a, &InputError{Source: SourceGeneric, Field: field("status"),
			Msg: fmt.Sprintf("%s; send \"firing\" or \"resolved\"", quote(g.Status))}
	}
	var err error
	if a.StartsAt, err = parseTime(SourceGeneric, field("starts_at"), g.StartsAt); err != nil {
		return a, err
	}
	if a.EndsAt, err = parseTime(SourceGeneric, field("ends_at"), g.EndsAt); err != nil {
		return a, err
	}
	if len(g.Labels) > 0 || g.Source != "" || g.Service != "" {
		a.Labels = make(map[string]string, len(g.Labels)+2)
		for k, v := range g.Labels {
			a.Labels[k] = v
		}
		if strings.TrimSpace(g.Source) != "" {
			a.Labels["source"] = g.Source
		}
		if strings.TrimSpace(g.Service) != "" {
			a.Labels["service"] = g.Service
		}
	}
	return a, nil
}
