package runbook

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestAlertsDuringMaintenance: an alert on a service inside a window in
// progress opens its own private incident (the window takes no alert),
// which neither auto-posts nor pages unless its route says so; outside the
// window, on another service, or once the window is over, it does.
func TestAlertsDuringMaintenance(t *testing.T) {
	forum := &fakeChannel{}
	rb, now, window := maintenanceRunbook(t, map[string]*fakeChannel{"forum": forum})
	if rb.inMaintenance(&Incident{Services: []string{"imap"}}, utc("2026-12-01 14:59")) {
		t.Error("in maintenance before the window")
	}
	if !rb.inMaintenance(&Incident{Services: []string{"imap"}}, utc("2026-12-01 15:00")) {
		t.Error("not in maintenance at the start, before the timer started the window")
	}
	*now = utc("2026-12-01 15:00")
	tick(t, rb, *now) // the window starts
	*now = utc("2026-12-01 15:05")
	in := take(t, rb, nodeping(true))
	if in[0].What != "opened" || in[0].Incident == window {
		t.Fatalf("the alert went to %+v", in)
	}
	id := in[0].Incident
	inc := load(t, rb, id)
	if !rb.inMaintenance(inc, *now) {
		t.Fatal("an IMAP alert inside the IMAP window is not in maintenance")
	}
	after := utc("2026-12-01 15:20") // publish_after has passed
	for _, c := range []struct{ mode, due string }{{"record", ""}, {"page", ""}, {"publish", ActionAutoPost}} {
		rb.Config.Alerts.Routes[0].DuringMaintenance = c.mode
		if got := kinds(rb.Due(inc, after)); got != c.due {
			t.Errorf("during_maintenance = %s: due %q, want %q", c.mode, got, c.due)
		}
		if pages := rb.MaintenanceAllows(inc, after, "page"); pages != (c.mode != "record") {
			t.Errorf("during_maintenance = %s: pages %t", c.mode, pages)
		}
	}
	rb.Config.Alerts.Routes[0].DuringMaintenance = "record"
	*now = after
	tick(t, rb, *now)
	if forum.count() != 2 { // the window's announcement and start
		t.Errorf("the alert inside the window reached the forum: %d posts", forum.count())
	}
	if rb.inMaintenance(inc, utc("2026-12-01 16:00")) {
		t.Error("in maintenance at the end of the window")
	}
	if rb.inMaintenance(&Incident{Services: []string{"imap", "smtp"}}, after) {
		t.Error("an incident on IMAP and SMTP is in maintenance while only IMAP is")
	}
	if rb.inMaintenance(load(t, rb, window), after) || rb.inMaintenance(&Incident{}, after) {
		t.Error("a window, or an incident without services, is in maintenance")
	}
	// The window ends and the alert still fires: the automatic first
	// update goes out, once.
	*now = utc("2026-12-01 16:00")
	done := tick(t, rb, *now)
	if got := strings.Fields(doneKinds(done)); !slices.Contains(got, ActionMaintComplete) || !slices.Contains(got, ActionAutoPost) {
		t.Errorf("at the end of the window the tick did %v", got)
	}
	if inc = load(t, rb, id); inc.Private() || inc.Status != Investigating {
		t.Errorf("after the window the alert's incident is %s, private %t", inc.Status, inc.Private())
	}
}

func doneKinds(done []Done) string {
	var out []string
	for _, d := range done {
		out = append(out, d.Action.Kind)
	}
	return strings.Join(out, " ")
}

// TestTwoDaemonsStartMaintenanceOnce: two machines sharing the runbook
// through git tick at the window's start at the same moment: the window is
// started once, on every channel.
func TestTwoDaemonsStartMaintenanceOnce(t *testing.T) {
	forum := &fakeChannel{}
	_, alice, bob := sharedRunbook(t, forum)
	start := time.Now().Add(2 * time.Hour).Truncate(time.Minute)
	var id string
	alice.run(t, func(rb *Runbook) error {
		d, err := rb.ScheduleDraft("IMAP server upgrade", []string{"imap"}, Window{Start: start, End: start.Add(time.Hour)}, "")
		if err != nil {
			return err
		}
		res, err := rb.Publish(context.Background(), "", d, PublishOptions{})
		if err == nil {
			id = res.Incident.ID
		}
		return err
	})
	bob.run(t, func(*Runbook) error { return nil })
	at := start.Add(time.Minute)
	var wg sync.WaitGroup
	for _, l := range []*laptop{alice, bob} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			done, err := l.rb.Tick(context.Background(), at, PublishOptions{})
			if err != nil {
				t.Error(err)
			}
			for _, d := range done {
				if d.Error != "" {
					t.Errorf("%s: %s", l.rb.Host, d.Error)
				}
			}
			l.rb.SyncAfter(context.Background(), "tick")
		}()
	}
	wg.Wait()
	if forum.count() != 2 || forum.calls != 2 {
		t.Fatalf("the forum got %d posts in %d calls; want the announcement and one start", forum.count(), forum.calls)
	}
	alice.run(t, func(*Runbook) error { return nil })
	inc, _ := alice.rb.Store.Load(id)
	if inc.Status != InProgress || len(inc.PublicUpdates()) != 2 {
		t.Fatalf("after both ticks: %s, %d updates", inc.Status, len(inc.PublicUpdates()))
	}
}
