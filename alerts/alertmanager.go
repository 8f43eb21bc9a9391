package alerts

import (
	"fmt"
	"strings"
)

// amPayload is the Alertmanager webhook payload (version "4"); Grafana sends
// the same envelope with orgId and version "1".
type amPayload struct {
	Version            string            `json:"version"`
	GroupKey           string            `json:"groupKey"`
	TruncatedAlerts    int               `json:"truncatedAlerts"`
	Status             string            `json:"status"`
	Receiver           string            `json:"receiver"`
	GroupLabels        map[string]string `json:"groupLabels"`
	CommonLabels       map[string]string `json:"commonLabels"`
	CommonAnnotations  map[string]string `json:"commonAnnotations"`
	ExternalURL        string            `json:"externalURL"`
	NotificationReason string            `json:"notification_reason"`
	OrgID              *int64            `json:"orgId"` // Grafana
	Alerts             *[]amAlert        `json:"alerts"`
}

type amAlert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     string            `json:"startsAt"`
	EndsAt       string            `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
	// Grafana's additions.
	SilenceURL   string `json:"silenceURL"`
	DashboardURL string `json:"dashboardURL"`
	PanelURL     string `json:"panelURL"`
}

const amWhat = `an Alertmanager webhook payload ({"version":"4","groupKey":...,"alerts":[...]})`

// parseAlertmanager reads an Alertmanager webhook payload (version "4", any
// Alertmanager since 0.16, with or without 0.32's notification_reason).
// Key is each alert's fingerprint, Group the payload's groupKey.
func parseAlertmanager(body []byte) ([]Alert, error) {
	var p amPayload
	if err := decode(SourceAlertmanager, body, &p, false, amWhat); err != nil {
		return nil, err
	}
	if p.Version != "4" {
		msg := fmt.Sprintf("version %s; Alertmanager's webhook sends version \"4\"", quote(p.Version))
		if p.OrgID != nil {
			msg += " (this is a Grafana payload: post it to /alerts/grafana)"
		}
		return nil, &InputError{Source: SourceAlertmanager, Field: "version", Msg: msg}
	}
	return amAlerts(SourceAlertmanager, p, p.GroupKey)
}

// amAlerts maps the alerts of an Alertmanager-shaped payload.
func amAlerts(source string, p amPayload, group string) ([]Alert, error) {
	if p.Alerts == nil {
		return nil, &InputError{Source: source, Field: "alerts", Msg: `missing; the payload lists its alerts in "alerts"`}
	}
	if len(*p.Alerts) > MaxAlerts {
		return nil, tooMany(source, len(*p.Alerts))
	}
	out := make([]Alert, 0, len(*p.Alerts))
	for i, in := range *p.Alerts {
		field := func(name string) string { return fmt.Sprintf("alerts[%d].%s", i, name) }
		a := Alert{Group: group, Labels: in.Labels}
		switch in.Status {
		case "firing":
			a.Firing = true
		case "resolved":
		default:
			return nil, &InputError{Source: source, Field: field("status"),
				Msg: fmt.Sprintf("%s; want \"firing\" or \"resolved\"", quote(in.Status))}
		}
		var err error
		if a.StartsAt, err = parseTime(source, field("startsAt"), in.StartsAt); err != nil {
			return nil, err
		}
		if a.EndsAt, err = parseTime(source, field("endsAt"), in.EndsAt); err != nil {
			return nil, err
		}
		a.Key = strings.TrimSpace(in.Fingerprint)
		if a.Key == "" {
			a.Key = fingerprint(in.Labels)
		}
		a.Name = in.Labels["alertname"]
		a.Summary = firstOf(in.Annotations["summary"], in.Annotations["message"], in.Annotations["title"])
		if strings.TrimSpace(a.Summary) == "" {
			a.Summary = a.Name
			if inst := in.Labels["instance"]; inst != "" {
				a.Summary += " (" + inst + ")"
			}
		}
		a.Description = in.Annotations["description"]
		a.Severity = in.Labels["severity"]
		a.URL = firstURL(in.GeneratorURL, in.PanelURL, in.DashboardURL)
		out = append(out, a)
	}
	return out, nil
}

// fingerprint is Prometheus's fingerprint of a label set (FNV-1a 64 over the
// sorted names and values, each followed by 0xff), as Alertmanager and
// Grafana send it, for a payload that leaves it out.
func fingerprint(labels map[string]string) string {
	const (
		offset64 = 14695981039346656037
		prime64  = 1099511628211
		sep      = 0xff
	)
	h := uint64(offset64)
	add := func(s string) {
		for i := 0; i < len(s); i++ {
			h ^= uint64(s[i])
			h *= prime64
		}
		h ^= sep
		h *= prime64
	}
	for _, k := range sortedKeys(labels) {
		add(k)
		add(labels[k])
	}
	return fmt.Sprintf("%016x", h)
}

// firstOf returns the first of ss that is not blank.
func firstOf(ss ...string) string {
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			return s
		}
	}
	return ""
}

// firstURL returns the first of urls that survives cleanURL.
func firstURL(urls ...string) string {
	for _, u := range urls {
		if c := cleanURL(u); c != "" {
			return c
		}
	}
	return ""
}
