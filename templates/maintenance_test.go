package templates

import (
	"strings"
	"testing"
	"time"

	"github.com/incident-cli/incident/internal/golden"
)

// TestWindow: a window in every zone, its dates in the primary one; over
// midnight both dates; across a change of clocks each end keeps its own
// zone's abbreviation.
func TestWindow(t *testing.T) {
	set, err := Load("", zones(t))
	if err != nil {
		t.Fatal(err)
	}
	utc := func(s string) time.Time {
		v, err := time.Parse("2006-01-02 15:04", s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, c := range []struct{ start, end, long, short string }{
		{"2026-12-01 21:00", "2026-12-01 22:00", "Tue 1 Dec 22:00–23:00 CET (21:00–22:00 UTC)", "Tue 1 Dec 22:00–23:00 CET"},
		{"2026-12-01 21:00", "2026-12-02 01:00", "Tue 1 Dec 22:00 – Wed 2 Dec 02:00 CET (21:00–01:00 UTC)", "Tue 1 Dec 22:00 – Wed 2 Dec 02:00 CET"},
		{"2026-10-25 00:00", "2026-10-25 01:30", "Sun 25 Oct 02:00 CEST–02:30 CET (00:00–01:30 UTC)", "Sun 25 Oct 02:00 CEST–02:30 CET"},
	} {
		if got := set.Window(utc(c.start), utc(c.end)); got != c.long {
			t.Errorf("Window(%s, %s) = %q, want %q", c.start, c.end, got, c.long)
		}
		if got := set.ShortWindow(utc(c.start), utc(c.end)); got != c.short {
			t.Errorf("ShortWindow(%s, %s) = %q, want %q", c.start, c.end, got, c.short)
		}
	}
	if got := set.Window(time.Time{}, utc("2026-12-01 22:00")); got != "unknown" {
		t.Errorf("a window without a start reads %q", got)
	}
	if got := StatusTitle("in_progress"); got != "In progress" {
		t.Errorf("StatusTitle(in_progress) = %q", got)
	}
}

// maintenanceSample is a window on IMAP/POP, Tue 1 Dec 22:00–23:00 in Oslo,
// at the given phase (an update of that status is the one rendered).
func maintenanceSample(phase string) *Data {
	start := time.Date(2026, 12, 1, 21, 0, 0, 0, time.UTC)
	status := phase
	if phase == "reminder" {
		status = "scheduled"
	}
	d := &Data{
		Organization: "Example Mail",
		Incident: Incident{ID: "2026-11-27-imap-server-upgrade", Title: "IMAP server upgrade", Status: status,
			Services: []Service{{"imap", "IMAP/POP"}}, StartedAt: start, OpenedAt: start.Add(-4 * 24 * time.Hour),
			Maintenance: &Maintenance{Start: start, End: start.Add(time.Hour), Phase: phase}},
		URL: "https://status.example.com/incidents/2026-11-27-imap-server-upgrade.html",
	}
	d.Updates = []Update{{Number: 1, Status: "scheduled", Message: "We will upgrade the IMAP servers.", Author: "alice", At: d.Incident.OpenedAt}}
	if status != "scheduled" || phase == "reminder" {
		d.Updates = append(d.Updates, Update{Number: 2, Status: status, Message: "The upgrade is " + phase + ".", Author: "incident (automatic)", At: start})
	}
	d.Update = d.Updates[len(d.Updates)-1]
	return d
}

// TestMaintenanceTemplates: the default message of every phase, and the
// posts of a window: each names the phase and shows the window.
func TestMaintenanceTemplates(t *testing.T) {
	set, err := Load("", zones(t))
	if err != nil {
		t.Fatal(err)
	}
	var msgs strings.Builder
	for _, phase := range []string{"scheduled", "reminder", "in_progress", "completed", "cancelled"} {
		msgs.WriteString(phase + ": " + mustRender(t, set, MaintenanceFile, maintenanceSample(phase)))
		d := maintenanceSample(phase)
		for _, name := range []string{TitleFile, SocialFile, "bluesky.txt.tmpl", ForumFile, EmailFile} {
			got := mustRender(t, set, name, d)
			if !strings.Contains(got, d.Incident.Maintenance.Label()) {
				t.Errorf("%s %s does not name the phase (%s):\n%s", phase, name, d.Incident.Maintenance.Label(), got)
			}
			if name != TitleFile && !strings.Contains(got, "Tue 1 Dec 22:00–23:00 CET") {
				t.Errorf("%s %s does not show the window:\n%s", phase, name, got)
			}
		}
	}
	golden.Assert(t, "maintenance.md.tmpl.golden", msgs.String())
	d := maintenanceSample("in_progress")
	golden.Assert(t, "maintenance-status.md.tmpl.golden", mustRender(t, set, StatusFile, d))
	golden.Assert(t, "maintenance-social.txt.tmpl.golden", mustRender(t, set, SocialFile, d))
	golden.Assert(t, "maintenance-email.md.tmpl.golden", mustRender(t, set, EmailFile, maintenanceSample("completed")))
}
