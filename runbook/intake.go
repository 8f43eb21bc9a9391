package runbook

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gofrs/flock"

	"github.com/incident-cli/incident/alerts"
	"github.com/incident-cli/incident/templates"
)

// Intake is what became of one alert.
type Intake struct {
	Alert    string `json:"alert"`    // source/key
	Incident string `json:"incident"` // the incident it belongs to ("" when ignored)
	// What: "opened" (a new triggered incident), "joined" (an incident open
	// on its service took it), "fired", "resolved" (a change on its
	// incident), "repeat" (nothing new: nothing written), "recovered" (its
	// private incident closed by itself), "no incident" (a resolved alert
	// nothing is open for).
	What string `json:"what"`
}

// TakeAlerts records alerts from a monitoring system, in order: each joins
// the incident it already belongs to (by its source and key), else an open
// or triggered incident on its routed service, else it opens a triggered
// incident (private: nothing is published until a person does, or the
// route's publish_after passes). Only what is new is written: a repeated
// notification changes nothing, so a sender's retries are harmless. Every
// event is durable when TakeAlerts returns. A private incident nobody
// acknowledged whose alerts have all resolved closes itself privately.
func (r *Runbook) TakeAlerts(ctx context.Context, as []alerts.Alert) ([]Intake, error) {
	unlock, err := r.intakeLock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	var out []Intake
	touched := map[string]bool{}
	for _, a := range as {
		rec := record(a)
		in, err := r.takeAlert(rec)
		if err != nil {
			return out, err
		}
		out = append(out, in)
		if in.Incident != "" {
			touched[in.Incident] = true
		}
	}
	ids := make([]string, 0, len(touched))
	for id := range touched {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		recovered, err := r.closeIfRecovered(ctx, id)
		if err != nil {
			return out, err
		}
		if recovered {
			for i := range out {
				if out[i].Incident == id && out[i].What == "resolved" {
					out[i].What = "recovered"
				}
			}
		}
	}
	return out, nil
}

// intakeLock serializes, between local processes (the receiver, a
// notification command, tick), the decision which incident an alert joins.
func (r *Runbook) intakeLock(ctx context.Context) (func(), error) {
	if err := r.Store.mkdirAll(r.Store.Dir); err != nil {
		return nil, err
	}
	fl := flock.New(filepath.Join(r.Store.Dir, ".intake.lock"))
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	ok, err := fl.TryLockContext(ctx, 10*time.Millisecond)
	if err != nil || !ok {
		return nil, fmt.Errorf("take alerts: another process holds the intake lock (%v)", err)
	}
	return func() { _ = fl.Unlock() }, nil
}

func record(a alerts.Alert) AlertRecord {
	rec := AlertRecord{Source: a.Source, Key: a.Key, Group: a.Group, Firing: a.Firing, Name: a.Name, Summary: a.Summary,
		Description: a.Description, Severity: a.Severity, Labels: a.Labels, URL: a.URL}
	if !a.StartsAt.IsZero() {
		t := a.StartsAt.UTC()
		rec.StartsAt = &t
	}
	if !a.EndsAt.IsZero() {
		t := a.EndsAt.UTC()
		rec.EndsAt = &t
	}
	return rec
}

func (r *Runbook) takeAlert(a AlertRecord) (Intake, error) {
	in := Intake{Alert: alertID(&a)}
	rt := r.route(a)
	target, err := r.alertTarget(a, rt)
	if err != nil {
		return in, err
	}
	now := r.Now()
	if target == nil {
		if !a.Firing {
			in.What = "no incident"
			return in, nil
		}
		id, err := r.openTriggered(a, rt, now)
		if err != nil {
			return in, err
		}
		in.Incident, in.What = id, "opened"
		return in, nil
	}
	in.Incident = target.ID
	st := target.Alert(alertID(&a))
	if st != nil && st.Firing == a.Firing {
		in.What = "repeat"
		return in, nil
	}
	if st == nil && !a.Firing {
		in.What = "no incident"
		in.Incident = ""
		return in, nil
	}
	e := Event{Kind: KindAlert, At: now, By: a.Source, Host: r.Host, Alert: &a}
	if err := r.Store.Append(target.ID, &e); err != nil {
		return in, err
	}
	switch {
	case st == nil:
		in.What = "joined"
	case a.Firing:
		in.What = "fired"
	default:
		in.What = "resolved"
	}
	return in, nil
}

// alertTarget finds the open incident an alert belongs to: the one that
// has it, else one on its routed service.
func (r *Runbook) alertTarget(a AlertRecord, rt Route) (*Incident, error) {
	sums, err := r.OpenSummaries()
	if err != nil {
		return nil, err
	}
	id := alertID(&a)
	var byService string
	for _, s := range sums {
		if !s.Open() || s.Maintenance != nil {
			continue // a maintenance window takes no alert: one inside it opens its own incident (see inMaintenance)
		}
		if slices.Contains(s.Alerts, id) {
			return r.Store.LoadFresh(s.ID)
		}
		if byService == "" && rt.Service != "" && slices.Contains(s.Services, rt.Service) {
			byService = s.ID
		}
	}
	if byService != "" {
		return r.Store.LoadFresh(byService)
	}
	return nil, nil
}

// openTriggered opens a private incident for a firing alert. The opened
// event carries the alert, so no reader ever sees a triggered incident
// without the alert that triggered it. Its id is derived from the alert when the runbook is
// shared through git, so two daemons that take the same alert at once make
// one incident, whose folders git merges.
func (r *Runbook) openTriggered(a AlertRecord, rt Route, now time.Time) (string, error) {
	title := rt.Title
	if title == "" {
		title = firstNonEmpty(a.Summary, a.Name, a.Key)
	}
	severity := rt.Severity
	if severity == "" {
		severity = severityOf(a.Severity)
	}
	var services []string
	if rt.Service != "" {
		services = []string{rt.Service}
	} else if s := a.Labels["service"]; s != "" && len(r.Config.Services) > 0 && r.CheckServices([]string{s}) == nil {
		services = []string{s}
	}
	started := now
	if a.StartsAt != nil && !a.StartsAt.IsZero() && a.StartsAt.Before(now) {
		started = *a.StartsAt
	}
	open := Event{Kind: KindOpened, At: now, By: a.Source, Host: r.Host, Title: title, Severity: severity,
		Services: services, StartedAt: &started, Status: Triggered, Route: rt.Name, PublishAfter: rt.PublishAfter, Alert: &a}
	base := started.In(r.Zones[0]).Format("2006-01-02") + "-" + Slug(title)
	if r.Store.Unique {
		sum := sha256.Sum256([]byte(alertID(&a) + "@" + base))
		base += "-" + hex.EncodeToString(sum[:])[:4]
	}
	id, unlock, err := r.Store.Create(base, &open)
	if err != nil {
		return "", err
	}
	unlock()
	return id, nil
}

// severityOf maps a monitoring system's severity word to ours.
func severityOf(s string) string {
	switch strings.ToLower(s) {
	case "critical", "crit", "down", "disaster", "emergency", "page":
		return "critical"
	case "warning", "warn", "minor", "info", "low":
		return "minor"
	}
	return "major"
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			return s
		}
	}
	return "Alert"
}

// closeIfRecovered closes a private incident nobody acknowledged once all
// its alerts have resolved: it recovered before anything was published.
// It returns whether it did. The incident's lock keeps it from racing the
// automatic first update.
func (r *Runbook) closeIfRecovered(ctx context.Context, id string) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	unlock, err := r.Store.Lock(ctx, id)
	if err != nil {
		return false, nil // busy (a publish holds it): the timers close it later
	}
	defer unlock()
	inc, err := r.Store.LoadFresh(id)
	if err != nil {
		return false, err
	}
	if !recoverable(inc) {
		return false, nil
	}
	e := Event{Kind: KindDismissed, At: r.Now(), By: AutomaticAuthor, Host: r.Host, How: "recovered",
		Text: "recovered after " + templates.Duration(inc.RecoveredAt().Sub(inc.StartedAt))}
	return true, r.Store.Append(id, &e)
}

// recoverable reports whether a private incident closes by itself: it came
// from alerts, all of them resolved, nothing was published and nobody
// acknowledged.
func recoverable(inc *Incident) bool {
	return inc.FromAlert && inc.Open() && inc.Private() && !inc.Acked() && len(inc.Alerts) > 0 && len(inc.Firing()) == 0
}
