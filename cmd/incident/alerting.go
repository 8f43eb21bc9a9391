package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/incident-cli/incident/runbook"
	"github.com/incident-cli/incident/templates"
)

// alertingText says where an alert-born or alerted incident stands, for
// staff: "alerting since 12:03 (nodeping: IMAP check), auto-post in 7 min".
func (a *app) alertingText(inc *runbook.Incident) string {
	now := a.rb.Now()
	var parts []string
	switch {
	case inc.Status == runbook.Dismissed:
		return "closed privately: " + clean(inc.Reason)
	case len(inc.Firing()) > 0:
		first := inc.FirstAlert()
		parts = append(parts, fmt.Sprintf("alerting since %s (%s)", a.clock(first.FiredAt), clean(first.Label())))
	case !inc.RecoveredAt().IsZero():
		s := "alerts recovered " + templates.Duration(now.Sub(inc.RecoveredAt())) + " ago"
		if !inc.Private() && inc.Open() {
			s += ": update or close"
		}
		parts = append(parts, s)
	}
	if inc.Private() && inc.Open() {
		parts = append(parts, "private: nothing published yet")
	}
	switch at, ok := inc.AutoPostAt(); {
	case ok && !a.rb.MaintenanceAllows(inc, now, "publish"):
		parts = append(parts, "inside a maintenance window: no automatic update")
	case ok && at.After(now):
		parts = append(parts, "auto-post in "+templates.Duration(at.Sub(now)))
	case ok:
		parts = append(parts, "auto-post due now")
	case inc.Acked():
		parts = append(parts, fmt.Sprintf("acknowledged by %s at %s", clean(inc.AckedBy), a.clock(inc.AckedAt)))
	case inc.FromAlert && inc.Private() && inc.PublishAfter == 0:
		parts = append(parts, "no automatic update (publish_after = \"off\")")
	}
	return strings.Join(parts, ", ")
}

// alertingSummary is alertingText from a summary (status reads only
// summaries, to stay fast).
func (a *app) alertingSummary(s runbook.Summary, now time.Time) string {
	var parts []string
	switch {
	case s.Firing > 0:
		parts = append(parts, fmt.Sprintf("alerting since %s (%s)", a.clock(s.AlertingAt), clean(s.AlertLabel)))
	case !s.RecoveredAt.IsZero():
		t := "alerts recovered " + templates.Duration(now.Sub(s.RecoveredAt)) + " ago"
		if !s.Private {
			t += ": update or close"
		}
		parts = append(parts, t)
	}
	if s.Private {
		parts = append(parts, "private: nothing published yet")
	}
	switch {
	case !s.AutoPostAt.IsZero() && s.AutoPostAt.After(now):
		parts = append(parts, "auto-post in "+templates.Duration(s.AutoPostAt.Sub(now)))
	case !s.AutoPostAt.IsZero():
		parts = append(parts, "auto-post due now")
	case !s.AckedAt.IsZero():
		parts = append(parts, fmt.Sprintf("acknowledged by %s at %s", clean(s.AckedBy), a.clock(s.AckedAt)))
	}
	return strings.Join(parts, ", ")
}
