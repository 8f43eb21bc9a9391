package runbook

import (
	"fmt"
	"time"
)

// UpdateDue says when an incident's next public update is due: first_update_within
// after the problem began while there is none, then cadence after the last.
// Resolved incidents are never due, nor are maintenance windows: they keep
// no cadence.
func (r *Runbook) UpdateDue(inc *Incident) (due time.Time, ok bool) {
	if !inc.Open() || inc.Maintenance != nil {
		return time.Time{}, false
	}
	last := inc.LastPublic()
	if last.IsZero() {
		start := inc.StartedAt
		if start.IsZero() {
			start = inc.OpenedAt
		}
		return start.Add(r.Config.FirstUpdateWithin.Duration), true
	}
	return last.Add(r.Config.Cadence.Duration), true
}

// Overdue reports how long past due an incident's next update is (0 when not).
func (r *Runbook) Overdue(inc *Incident, now time.Time) time.Duration {
	due, ok := r.UpdateDue(inc)
	if !ok || now.Before(due) {
		return 0
	}
	return now.Sub(due)
}

// StatusSince returns when the incident took its current status: the first
// of the public updates, newest back, that all have it (zero when none).
func (inc *Incident) StatusSince() time.Time {
	ups := inc.PublicUpdates()
	var since time.Time
	for i := len(ups) - 1; i >= 0 && ups[i].Event.Status == inc.Status; i-- {
		since = ups[i].Event.At
	}
	return since
}

// Stale reports whether an open incident has gone without a public update
// for longer than monitoring_max, whatever its status (an incident left in
// "monitoring" for days leaves customers guessing), and how long it has
// been in its status.
func (r *Runbook) Stale(s Summary, now time.Time) (inStatus time.Duration, stale bool) {
	if !s.Open() {
		return 0, false
	}
	last := s.LastPublic
	if last.IsZero() {
		last = s.OpenedAt
	}
	limit := r.Config.MonitoringMax.Duration
	if limit <= 0 {
		limit = DefaultMonitoringMax
	}
	if now.Sub(last) <= limit {
		return 0, false
	}
	since := s.StatusSince
	if since.IsZero() {
		since = last
	}
	return now.Sub(since), true
}

// StaleText says what to do about a stale incident: "monitoring for 3
// days: close it or update it".
func StaleText(status string, inStatus time.Duration) string {
	return fmt.Sprintf("%s for %s: close it or update it", status, LongDuration(inStatus))
}

// LongDuration is a duration in whole hours under two days, else in whole
// days: "26 hours", "3 days".
func LongDuration(d time.Duration) string {
	switch h := int(d / time.Hour); {
	case h < 1:
		return "under an hour"
	case h == 1:
		return "1 hour"
	case h < 48:
		return fmt.Sprintf("%d hours", h)
	default:
		return fmt.Sprintf("%d days", h/24)
	}
}
