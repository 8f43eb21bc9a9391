package static

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/incident-cli/incident/publishers"
	"github.com/incident-cli/incident/publishers/publisherstest"
)

// windowPost is a post of a maintenance window on IMAP/POP, 1 Dec 21:00–22:00
// UTC, announced at publisherstest.Now, moved to status by later updates.
func windowPost(statuses ...string) publishers.Post {
	start := time.Date(2026, 12, 1, 21, 0, 0, 0, time.UTC)
	inc := publishers.Incident{ID: "2026-11-27-imap-upgrade", Title: `IMAP <b>upgrade</b>`, Status: "scheduled",
		Services: []publishers.Service{{ID: "imap", Name: "IMAP/POP"}}, StartedAt: start, OpenedAt: publisherstest.Now,
		States:      map[string]string{"imap": publishers.Operational},
		Maintenance: &publishers.Maintenance{Start: start, End: start.Add(time.Hour)}}
	inc.Updates = []publishers.Update{{Number: 1, Status: "scheduled", Message: "We upgrade the IMAP servers.",
		HTML: "<p>We upgrade the IMAP servers.</p>", At: publisherstest.Now, States: inc.States}}
	for i, st := range statuses {
		state := publishers.Operational
		if st == "in_progress" {
			state = publishers.UnderMaintenance
		}
		at := start.Add(time.Duration(i) * time.Hour)
		inc.Status, inc.States = st, map[string]string{"imap": state}
		inc.Updates = append(inc.Updates, publishers.Update{Number: i + 2, Status: st, Message: "Now " + st + ".",
			HTML: "<p>Now " + st + ".</p>", At: at, States: inc.States})
		if st == "completed" || st == "cancelled" {
			inc.ResolvedAt = at
		}
	}
	return publishers.Post{Key: inc.ID + "/k/status", Kind: publishers.KindUpdate, Title: "[Maintenance] " + inc.Title,
		HTML: "<p>the window's post</p>", Incident: inc}
}

// TestMaintenanceOnThePage: a window to come is in the Scheduled
// Maintenance box (window, message, "Posted on"), escaped, in
// summary.json's scheduled_maintenances and status.json's maintenance, and
// nowhere among incidents or history; in progress it is on top, its
// service under maintenance; once completed it is a past incident and in
// the month's history.
func TestMaintenanceOnThePage(t *testing.T) {
	env := publisherstest.Env(t, "status page", nil)
	env.Window = func(a, b time.Time) string { return a.Format("Mon 2 Jan 15:04") + "–" + b.Format("15:04 MST") }
	env.When = func(t time.Time) string { return t.Format("Mon 2 Jan 15:04 MST") }
	prim, md := publisherstest.Decode(t, "type = \"static\"\n")
	pub, err := New(prim, md, env)
	if err != nil {
		t.Fatal(err)
	}
	p := pub.(*Publisher)
	src := withSource(p)
	read := func(name string) string {
		b, _ := os.ReadFile(filepath.Join(p.Dir(), name))
		return string(b)
	}
	section := func(page, heading string) string {
		i := strings.Index(page, ">"+heading+"</h2>")
		if i < 0 {
			return ""
		}
		j := strings.Index(page[i:], "</section>")
		return page[i : i+j]
	}

	src.publish(t, windowPost())
	index := read("index.html")
	box := section(index, "Scheduled Maintenance")
	for _, want := range []string{`href="incidents/2026-11-27-imap-upgrade.html">IMAP &lt;b&gt;upgrade&lt;/b&gt;</a>`,
		"Tue 1 Dec 21:00–22:00 UTC", "<p>We upgrade the IMAP servers.</p>", "Posted on Fri 27 Nov 10:15 UTC", "Scheduled maintenance"} {
		if !strings.Contains(box, want) {
			t.Errorf("the Scheduled Maintenance box lacks %q:\n%s", want, box)
		}
	}
	if strings.Contains(index, "Open incidents") || strings.Contains(index, "Maintenance in progress") ||
		strings.Contains(index, "<b>") || !strings.Contains(index, "All Systems Operational") {
		t.Errorf("a window to come shows as more than a window to come:\n%s", index)
	}
	if past := index[strings.Index(index, "Past incidents"):]; strings.Contains(past, "imap-upgrade") {
		t.Errorf("a window to come is among past incidents:\n%s", past)
	}
	if _, err := os.Stat(filepath.Join(p.Dir(), "history", "2026-12.html")); err == nil {
		t.Error("a window to come has a month of history")
	}
	var sum struct {
		Incidents             []json.RawMessage
		ScheduledMaintenances []struct {
			ID, Status, Impact string
			ScheduledFor       string `json:"scheduled_for"`
			ScheduledUntil     string `json:"scheduled_until"`
			Components         []struct{ ID, Status string }
			IncidentUpdates    []struct{ Status, Body string } `json:"incident_updates"`
		} `json:"scheduled_maintenances"`
	}
	if err := json.Unmarshal([]byte(read("api/v2/summary.json")), &sum); err != nil {
		t.Fatal(err)
	}
	if len(sum.Incidents) != 0 || len(sum.ScheduledMaintenances) != 1 {
		t.Fatalf("summary.json: %d incidents, %d scheduled maintenances", len(sum.Incidents), len(sum.ScheduledMaintenances))
	}
	sm := sum.ScheduledMaintenances[0]
	if sm.Status != "scheduled" || sm.Impact != "maintenance" || sm.ScheduledFor != "2026-12-01T21:00:00.000Z" || sm.ScheduledUntil != "2026-12-01T22:00:00.000Z" ||
		len(sm.Components) != 1 || sm.Components[0].Status != "operational" || len(sm.IncidentUpdates) != 1 {
		t.Errorf("scheduled maintenance: %+v", sm)
	}
	var site Site
	if err := json.Unmarshal([]byte(read("status.json")), &site); err != nil {
		t.Fatal(err)
	}
	if len(site.Incidents) != 0 || len(site.Maintenance) != 1 || site.Maintenance[0].Maintenance == nil || site.Status != "operational" {
		t.Errorf("status.json: status %s, %d incidents, maintenance %+v", site.Status, len(site.Incidents), site.Maintenance)
	}

	// In progress: on top, IMAP under maintenance, the banner says so.
	src.publish(t, windowPost("in_progress"))
	index = read("index.html")
	top := section(index, "Maintenance in progress")
	if !strings.Contains(top, "Maintenance in progress</span>") || !strings.Contains(top, "Under maintenance") ||
		!strings.Contains(top, "<p>Now in_progress.</p>") || !strings.Contains(index, "Service Under Maintenance") ||
		strings.Contains(index, ">Scheduled Maintenance</h2>") {
		t.Errorf("a window in progress:\n%s", index)
	}
	if !strings.Contains(read("api/v2/summary.json"), `"indicator": "maintenance"`) {
		t.Error("summary.json's indicator is not maintenance")
	}

	// Completed: a past incident with its updates, in its month's history.
	src.publish(t, windowPost("in_progress", "completed"))
	index = read("index.html")
	if strings.Contains(index, "Maintenance in progress") || strings.Contains(index, ">Scheduled Maintenance</h2>") {
		t.Errorf("a completed window is still in a box:\n%s", index)
	}
	if !strings.Contains(read("history/2026-12.html"), "imap-upgrade") {
		t.Error("the completed window is not in December's history")
	}
	if !strings.Contains(read("feed.atom"), "[Maintenance completed] IMAP &lt;b&gt;upgrade&lt;/b&gt;") {
		t.Errorf("the feed does not name the phase:\n%s", read("feed.atom"))
	}
}
