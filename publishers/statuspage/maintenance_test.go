package statuspage

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/incident-cli/incident/publishers"
	"github.com/incident-cli/incident/publishers/publisherstest"
)

// windowPost is update n of a maintenance window on IMAP/POP whose statuses
// run through phases (the first is scheduled).
func windowPost(phases ...string) publishers.Post {
	start := time.Date(2026, 12, 1, 21, 0, 0, 0, time.UTC)
	inc := publishers.Incident{ID: "2026-11-27-imap-upgrade", Title: "IMAP server upgrade",
		Services: []publishers.Service{{ID: "imap", Name: "IMAP/POP"}}, StartedAt: start, OpenedAt: publisherstest.Now,
		Maintenance: &publishers.Maintenance{Start: start, End: start.Add(time.Hour)}}
	for i, st := range append([]string{"scheduled"}, phases...) {
		state := "operational"
		if st == "in_progress" {
			state = "under_maintenance"
		}
		inc.Status, inc.States = st, map[string]string{"imap": state}
		inc.Updates = append(inc.Updates, publishers.Update{Number: i + 1, Status: st, Message: "Phase " + st + ".",
			At: publisherstest.Now.Add(time.Duration(i) * time.Hour), States: inc.States})
	}
	if inc.Closed() {
		inc.ResolvedAt = inc.Updates[len(inc.Updates)-1].At
	}
	n := len(inc.Updates)
	return publishers.Post{Key: inc.ID + "/upd" + string(rune('0'+n)) + "/status", Kind: publishers.KindUpdate,
		Title: "[Maintenance] IMAP server upgrade", Text: "Phase scheduled.", Incident: inc}
}

// TestMaintenance: a window becomes a scheduled maintenance with its window
// and with Statuspage's own reminder and transitions off; its components are
// untouched while it is to come, under maintenance while in progress,
// operational once completed; the reminder is an update of its own; a
// cancelled window is completed there, saying so.
func TestMaintenance(t *testing.T) {
	f := newFakeStatuspage(t)
	c := newChannel(t, f, "")
	ctx := context.Background()
	r1, err := c.Publish(ctx, windowPost())
	if err != nil {
		t.Fatal(err)
	}
	inc := f.Incidents()[0]
	sc := inc.Scheduled
	if sc == nil || !sc.For.Equal(time.Date(2026, 12, 1, 21, 0, 0, 0, time.UTC)) || !sc.Until.Equal(time.Date(2026, 12, 1, 22, 0, 0, 0, time.UTC)) {
		t.Fatalf("the window was not scheduled: %+v", inc)
	}
	for name, v := range map[string]*bool{"scheduled_remind_prior": sc.RemindPrior, "scheduled_auto_in_progress": sc.AutoInProgress,
		"scheduled_auto_completed": sc.AutoCompleted, "auto_transition_to_maintenance_state": sc.AutoToMaintenance,
		"auto_transition_to_operational_state": sc.AutoToOperational} {
		if v == nil || *v {
			t.Errorf("%s was not sent as false (%v): Statuspage would post that phase a second time", name, v)
		}
	}
	if inc.Status != "scheduled" || inc.Impact != "maintenance" || len(inc.Components) != 0 {
		t.Errorf("a window to come: status %s, impact %s, components %v (a window to come must not set them)", inc.Status, inc.Impact, inc.Components)
	}
	steps := []struct {
		phases    []string
		status    string
		component string
	}{
		{[]string{"scheduled"}, "scheduled", ""}, // the reminder
		{[]string{"scheduled", "in_progress"}, "in_progress", "under_maintenance"},
		{[]string{"scheduled", "in_progress", "completed"}, "completed", "operational"},
	}
	for i, s := range steps {
		p := windowPost(s.phases...)
		p.Thread, p.Parent = &r1, &r1
		if _, err := c.Publish(ctx, p); err != nil {
			t.Fatalf("%v: %v", s.phases, err)
		}
		// A retry of the same post (its answer lost) adds nothing.
		if _, err := c.Publish(ctx, p); err != nil {
			t.Fatalf("%v again: %v", s.phases, err)
		}
		inc = f.Incidents()[0]
		if len(inc.Updates) != i+2 || inc.Status != s.status || inc.Components["cmp_imap"] != s.component ||
			inc.Updates[0].Body != "Phase "+s.phases[len(s.phases)-1]+"." {
			t.Errorf("after %v: %d updates, status %s, IMAP %q, latest %q", s.phases, len(inc.Updates), inc.Status, inc.Components["cmp_imap"], inc.Updates[0].Body)
		}
	}

	// Cancelled: Statuspage has no such status; it is completed, and says why.
	r2, err := c.Publish(ctx, func() publishers.Post { p := windowPost(); p.Incident.ID += "-2"; return p }())
	if err != nil {
		t.Fatal(err)
	}
	p := windowPost("cancelled")
	p.Incident.ID += "-2"
	p.Thread, p.Parent = &r2, &r2
	if _, err := c.Publish(ctx, p); err != nil {
		t.Fatal(err)
	}
	inc = f.Incidents()[1]
	if inc.Status != "completed" || inc.Updates[0].Body != "Phase cancelled." || inc.Components["cmp_imap"] != "operational" {
		t.Errorf("cancelled window on Statuspage: %+v", inc)
	}
}

// TestMaintenanceFake: the fake refuses what Statuspage refuses of a
// scheduled maintenance: no window, an end before the start, a realtime
// status on it, a maintenance status on a realtime incident.
func TestMaintenanceFake(t *testing.T) {
	f := newFakeStatuspage(t)
	c := newChannel(t, f, "")
	ctx := context.Background()
	for _, tc := range []struct{ body, want string }{
		{`{"incident":{"name":"x","status":"scheduled"}}`, "Scheduled for can't be blank"},
		{`{"incident":{"name":"x","status":"scheduled","scheduled_for":"2026-12-01T21:00:00Z","scheduled_until":"2026-12-01T20:00:00Z"}}`, "Scheduled until must be after scheduled for"},
		{`{"incident":{"name":"x","status":"investigating","scheduled_for":"2026-12-01T21:00:00Z"}}`, "can only be set on a scheduled incident"},
	} {
		_, err := c.client.Do(ctx, "create incident", http.MethodPost, c.pages+"/incidents", json.RawMessage(tc.body), nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.body, err, tc.want)
		}
	}
	r, err := c.Publish(ctx, windowPost())
	if err != nil {
		t.Fatal(err)
	}
	p := windowPost("in_progress")
	p.Incident.Status = "identified"
	p.Thread, p.Parent = &r, &r
	if _, err := c.Publish(ctx, p); err == nil || !strings.Contains(err.Error(), "Status is not included in the list") {
		t.Errorf("a realtime status on a maintenance: %v", err)
	}
	q := post(1)
	rq, err := c.Publish(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	q = post(2)
	q.Incident.Status = "in_progress"
	q.Thread, q.Parent = &rq, &rq
	if _, err := c.Publish(ctx, q); err == nil || !strings.Contains(err.Error(), "Status is not included in the list") {
		t.Errorf("a maintenance status on an incident: %v", err)
	}
}
