package runbook

import (
	"fmt"
	"time"
)

// AutomaticAuthor is the author of what the tool publishes by itself: the
// automatic first update of an alert nobody acknowledged.
const AutomaticAuthor = "incident (automatic)"

// AlertState is one alert of an incident (one source and key) as its
// notifications left it.
type AlertState struct {
	Source, Key, Group string
	Name, Summary      string
	Severity, URL      string
	Labels             map[string]string
	Firing             bool
	FiredAt            time.Time // when it began firing (the source's time when it said, else when it was recorded)
	ChangedAt          time.Time // when it last fired or resolved (recorded)
	ResolvedAt         time.Time // when it resolved, zero while firing
	Notifications      int       // how many changes were recorded
}

// ID is the alert's source and key, the way it is grouped: "nodeping/201205050153W2Q4C".
func (a *AlertState) ID() string { return a.Source + "/" + a.Key }

// Label is how people see it: "nodeping: IMAP check".
func (a *AlertState) Label() string {
	name := a.Name
	if name == "" {
		name = a.Summary
	}
	if name == "" {
		name = a.Key
	}
	return a.Source + ": " + name
}

// alertID is the grouping key of a recorded alert.
func alertID(a *AlertRecord) string { return a.Source + "/" + a.Key }

// foldAlerting applies an alert, ack or dismissed event.
func foldAlerting(inc *Incident, e Event) {
	switch e.Kind {
	case KindAlert:
		a := e.Alert
		if a == nil {
			return
		}
		st := inc.Alert(alertID(a))
		if st == nil {
			st = &AlertState{Source: a.Source, Key: a.Key}
			inc.Alerts = append(inc.Alerts, st)
		}
		st.Group, st.Severity, st.URL = a.Group, a.Severity, a.URL
		if a.Name != "" {
			st.Name = a.Name
		}
		if a.Summary != "" {
			st.Summary = a.Summary
		}
		if a.Labels != nil {
			st.Labels = a.Labels
		}
		st.Notifications++
		st.ChangedAt = e.At
		if a.Firing {
			if !st.Firing {
				st.FiredAt = e.At
				if a.StartsAt != nil && !a.StartsAt.IsZero() && a.StartsAt.Before(e.At) {
					st.FiredAt = *a.StartsAt
				}
			}
			st.Firing, st.ResolvedAt = true, time.Time{}
		} else {
			st.Firing, st.ResolvedAt = false, e.At
			if a.EndsAt != nil && !a.EndsAt.IsZero() && a.EndsAt.Before(e.At) {
				st.ResolvedAt = *a.EndsAt
			}
		}
	case KindAck:
		if inc.AckedAt.IsZero() {
			inc.AckedAt, inc.AckedBy, inc.AckHow = e.At, e.By, e.How
		}
	case KindDismissed:
		if inc.Private() && inc.Open() {
			inc.Status, inc.DismissedAt, inc.DismissedBy, inc.Reason = Dismissed, e.At, e.By, e.Text
		}
	}
}

// Alert returns the incident's alert with this id (source/key), or nil.
func (inc *Incident) Alert(id string) *AlertState {
	for _, a := range inc.Alerts {
		if a.ID() == id {
			return a
		}
	}
	return nil
}

// Firing returns the alerts still firing.
func (inc *Incident) Firing() []*AlertState {
	var out []*AlertState
	for _, a := range inc.Alerts {
		if a.Firing {
			out = append(out, a)
		}
	}
	return out
}

// FirstAlert returns the alert that fired first, or nil.
func (inc *Incident) FirstAlert() *AlertState {
	var first *AlertState
	for _, a := range inc.Alerts {
		if first == nil || (!a.FiredAt.IsZero() && a.FiredAt.Before(first.FiredAt)) {
			first = a
		}
	}
	return first
}

// RecoveredAt is when the last of the incident's alerts resolved, zero while
// one fires (or it has none).
func (inc *Incident) RecoveredAt() time.Time {
	var last time.Time
	for _, a := range inc.Alerts {
		if a.Firing {
			return time.Time{}
		}
		if a.ResolvedAt.After(last) {
			last = a.ResolvedAt
		}
	}
	return last
}

// Acked reports whether a person took the incident over.
func (inc *Incident) Acked() bool { return !inc.AckedAt.IsZero() }

// AutoPostAt is when the automatic first update is due: the route's
// publish_after after the incident was triggered, while it is private,
// unacknowledged and an alert fires. ok is false when none is due.
func (inc *Incident) AutoPostAt() (at time.Time, ok bool) {
	if !inc.FromAlert || inc.PublishAfter <= 0 || !inc.Open() || !inc.Private() || inc.Acked() || len(inc.Firing()) == 0 {
		return time.Time{}, false
	}
	return inc.OpenedAt.Add(inc.PublishAfter), true
}

// parseAfter reads a publish_after value: a duration, or "off" (0).
func parseAfter(s string) (time.Duration, error) {
	switch s {
	case "", "off":
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q is not a duration like \"10m\", or \"off\"", s)
	}
	return d, nil
}
