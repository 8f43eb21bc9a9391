package hugo

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/incident-cli/incident/publishers"
	"github.com/incident-cli/incident/publishers/publisherstest"
)

// TestMaintenanceWindow: a window is a cState notice (its maintenance),
// dated at its start, and resolved once completed or cancelled, so cState
// stops showing the service under maintenance.
func TestMaintenanceWindow(t *testing.T) {
	c, site := newChannel(t, "")
	start := time.Date(2026, 12, 1, 21, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		status string
		want   []string
	}{
		{"scheduled", []string{"date: 2026-12-01T21:00:00Z\n", "resolved: false\n", "severity: notice\n"}},
		{"in_progress", []string{"resolved: false\n", "severity: notice\n"}},
		{"completed", []string{"resolved: true\nresolvedWhen: 2026-12-01T22:00:00Z\n", "severity: notice\n"}},
		{"cancelled", []string{"resolved: true\n", "severity: notice\n"}},
	} {
		p := publisherstest.Post(1, "The window's post.")
		p.Incident.Status, p.Incident.Severity, p.Incident.StartedAt = tc.status, "", start
		p.Incident.Maintenance = &publishers.Maintenance{Start: start, End: start.Add(time.Hour)}
		p.Incident.States = map[string]string{"imap": publishers.Operational}
		if p.Incident.Closed() {
			p.Incident.ResolvedAt = start.Add(time.Hour)
		}
		rec, err := c.Publish(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		got := read(t, site, rec.ID)
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: the page lacks %q:\n%s", tc.status, w, got)
			}
		}
	}
}
