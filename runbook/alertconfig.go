package runbook

import (
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/incident-cli/incident/alerts"
	"github.com/incident-cli/incident/publishers"
	"github.com/incident-cli/incident/templates"
)

// AlertsConfig is the [alerts] table: how monitoring reaches the runbook.
type AlertsConfig struct {
	// Token is the secret `incident serve` requires off loopback: a bearer
	// token, or the password of HTTP basic auth.
	Token publishers.Secret `toml:"token"`
	// PublishAfter is the routes' default automatic first update ("10m";
	// "off" never publishes by itself). Default 10m.
	PublishAfter string `toml:"publish_after"`
	// RatePerMinute limits requests per source (default 120, as incident.io).
	RatePerMinute int     `toml:"rate_per_minute"`
	Routes        []Route `toml:"route"`
}

// alertsKeys are the keys of [alerts].
var alertsKeys = []string{"token", "publish_after", "rate_per_minute", "route"}

// DefaultPublishAfter is when an alert nobody acknowledged is announced.
const DefaultPublishAfter = "10m"

// Route maps alerts to an incident: which service, how severe, what title
// and first message, and when to publish by itself. The first route whose
// source, match and labels all fit an alert takes it.
type Route struct {
	Name   string            `toml:"name"`   // how show and errors name it (default "route N")
	Source string            `toml:"source"` // one source, or any when empty
	Match  string            `toml:"match"`  // a glob on the alert's name (alertname, check label, host/service)
	Labels map[string]string `toml:"labels"` // label name -> glob; every one must match
	// What the incident becomes.
	Service  string `toml:"service"`
	Severity string `toml:"severity"`
	Title    string `toml:"title"`
	Template string `toml:"template"` // the first message's template (default alert.md.tmpl)
	// PublishAfter overrides [alerts] publish_after for this route.
	PublishAfter string `toml:"publish_after"`
	// Escalation names the escalation policy that pages for it ("" the
	// default policy, "off" no paging).
	Escalation string `toml:"escalation"`
	// DuringMaintenance says what an alert on a service inside its
	// maintenance window does: "record" (default: recorded, no page, no
	// automatic update), "page" or "publish" (as outside a window).
	DuringMaintenance string `toml:"during_maintenance"`

	after time.Duration
}

// routeKeys are the keys of [[alerts.route]].
var routeKeys = []string{"name", "source", "match", "labels", "service", "severity", "title", "template", "publish_after", "escalation", "during_maintenance"}

// checkAlerts validates [alerts] against the runbook's services and
// templates.
func (r *Runbook) checkAlerts(c *Config, file string) error {
	a := &c.Alerts
	if a.PublishAfter == "" {
		a.PublishAfter = DefaultPublishAfter
	}
	if _, err := parseAfter(a.PublishAfter); err != nil {
		return &ConfigError{File: file, Msg: "[alerts] publish_after: " + err.Error()}
	}
	if a.RatePerMinute < 0 {
		return &ConfigError{File: file, Msg: "[alerts] rate_per_minute must be positive"}
	}
	if a.RatePerMinute == 0 {
		a.RatePerMinute = 120
	}
	sources := append(alerts.Sources(), alerts.SourceNagios, alerts.SourceCheckmk)
	for i := range a.Routes {
		rt := &a.Routes[i]
		where := fmt.Sprintf("[[alerts.route]] %d", i+1)
		if rt.Name == "" {
			rt.Name = fmt.Sprintf("route %d", i+1)
		} else {
			where += " (" + rt.Name + ")"
		}
		if rt.Source != "" && !slices.Contains(sources, rt.Source) {
			msg := fmt.Sprintf("%s: unknown source %q", where, rt.Source)
			if n := nearest(rt.Source, sources); n != "" {
				msg += fmt.Sprintf("; did you mean %q?", n)
			}
			return &ConfigError{File: file, Msg: msg + " (sources: " + strings.Join(sources, ", ") + ")"}
		}
		for _, g := range append([]string{rt.Match}, mapValues(rt.Labels)...) {
			if _, err := path.Match(g, ""); err != nil {
				return &ConfigError{File: file, Msg: fmt.Sprintf("%s: %q is not a glob pattern (use * and ?)", where, g)}
			}
		}
		if rt.Service != "" {
			if err := r.checkServicesIn(c, []string{rt.Service}); err != nil {
				return &ConfigError{File: file, Msg: where + ": " + err.Error()}
			}
		}
		if rt.Severity != "" && !slices.Contains(Severities, rt.Severity) {
			return &ConfigError{File: file, Msg: fmt.Sprintf("%s: unknown severity %q: use minor, major or critical", where, rt.Severity)}
		}
		if rt.PublishAfter == "" {
			rt.PublishAfter = a.PublishAfter
		}
		var err error
		if rt.after, err = parseAfter(rt.PublishAfter); err != nil {
			return &ConfigError{File: file, Msg: where + ": publish_after: " + err.Error()}
		}
		switch rt.DuringMaintenance {
		case "":
			rt.DuringMaintenance = "record"
		case "record", "page", "publish":
		default:
			return &ConfigError{File: file, Msg: fmt.Sprintf("%s: during_maintenance %q: use record, page or publish", where, rt.DuringMaintenance)}
		}
	}
	return nil
}

// checkServicesIn is CheckServices before the runbook is fully loaded.
func (r *Runbook) checkServicesIn(c *Config, ids []string) error {
	saved := r.Config
	r.Config = c
	defer func() { r.Config = saved }()
	return r.CheckServices(ids)
}

func mapValues(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	slices.Sort(out)
	return out
}

// route returns the first route that takes the alert, or a catch-all
// route (no service, the alert's own summary) when none does.
func (r *Runbook) route(a AlertRecord) Route {
	for _, rt := range r.Config.Alerts.Routes {
		if rt.takes(a) {
			return rt
		}
	}
	after, _ := parseAfter(r.Config.Alerts.PublishAfter)
	if r.Config.Alerts.PublishAfter == "" {
		after, _ = parseAfter(DefaultPublishAfter)
	}
	return Route{Name: "no route", PublishAfter: r.Config.Alerts.PublishAfter, after: after, DuringMaintenance: "record"}
}

// takes reports whether the route matches the alert.
func (rt Route) takes(a AlertRecord) bool {
	if rt.Source != "" && rt.Source != a.Source {
		return false
	}
	if rt.Match != "" && !globMatch(rt.Match, a.Name) && !globMatch(rt.Match, a.Labels["alertname"]) {
		return false
	}
	for k, g := range rt.Labels {
		if !globMatch(g, a.Labels[k]) {
			return false
		}
	}
	return true
}

// globMatch matches a glob against a name, case-insensitively, and lets *
// cross slashes (a Nagios name is "host/service").
func globMatch(glob, name string) bool {
	ok, err := path.Match(strings.ToLower(strings.ReplaceAll(glob, "/", "\x00")), strings.ToLower(strings.ReplaceAll(name, "/", "\x00")))
	return err == nil && ok
}

// alertTemplate is the template of the first message of a route.
func (rt Route) alertTemplate() string {
	if rt.Template != "" {
		return rt.Template
	}
	return templates.AlertFile
}
