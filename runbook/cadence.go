package runbook

import "time"

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
