package runbook

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/incident-cli/incident/alerts"
)

// alertingRunbook is testRunbook with a route for IMAP alerts and a clock
// the test moves.
func alertingRunbook(t *testing.T, links map[string]*fakeChannel) (*Runbook, *time.Time) {
	t.Helper()
	rb := testRunbook(t, links)
	now := time.Date(2026, 12, 1, 12, 3, 0, 0, time.UTC)
	rb.now = func() time.Time { return now }
	rb.Config.Alerts.Routes = []Route{{Name: "imap", Source: "nodeping", Match: "IMAP*", Service: "imap", Severity: "major",
		Title: "IMAP/POP connection problems", PublishAfter: "10m", after: 10 * time.Minute, DuringMaintenance: "record"}}
	return rb, &now
}

func nodeping(firing bool) alerts.Alert {
	return alerts.Alert{Source: "nodeping", Key: "201205050153W2Q4C-K", Firing: firing, Name: "IMAP check", Summary: "IMAP check is down"}
}

func take(t *testing.T, rb *Runbook, as ...alerts.Alert) []Intake {
	t.Helper()
	in, err := rb.TakeAlerts(context.Background(), as)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func tick(t *testing.T, rb *Runbook, now time.Time) []Done {
	t.Helper()
	done, err := rb.Tick(context.Background(), now, PublishOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range done {
		if d.Error != "" {
			t.Fatalf("%s on %s: %s", d.Action.Kind, d.Action.Incident, d.Error)
		}
	}
	return done
}

// A down then up before publish_after: the incident closes by itself,
// privately, and nothing is published anywhere.
func TestFlapClosesPrivately(t *testing.T) {
	forum := &fakeChannel{}
	rb, now := alertingRunbook(t, map[string]*fakeChannel{"forum": forum})
	in := take(t, rb, nodeping(true))
	if len(in) != 1 || in[0].What != "opened" {
		t.Fatalf("intake = %+v", in)
	}
	id := in[0].Incident
	inc, _ := rb.Store.Load(id)
	if inc.Status != Triggered || !inc.Private() || inc.Title != "IMAP/POP connection problems" || inc.Services[0] != "imap" {
		t.Fatalf("triggered incident = %+v", inc)
	}
	*now = now.Add(3 * time.Minute)
	if in := take(t, rb, nodeping(false)); in[0].What != "recovered" {
		t.Fatalf("recovery = %+v", in)
	}
	inc, _ = rb.Store.Load(id)
	if inc.Status != Dismissed || inc.Reason != "recovered after 3 min" {
		t.Fatalf("after recovery: %s %q", inc.Status, inc.Reason)
	}
	*now = now.Add(time.Hour)
	if done := tick(t, rb, *now); len(done) != 0 {
		t.Fatalf("tick after recovery did %+v", done)
	}
	if forum.calls != 0 {
		t.Fatalf("a flap reached the forum")
	}
	if sums, _ := rb.OpenSummaries(); len(sums) != 0 {
		t.Fatalf("open after recovery: %+v", sums)
	}
}

// A down that lasts past publish_after: one automatic [Investigating] on
// every channel, recorded as automatic with its reason; repeats and later
// ticks add nothing.
func TestAutoPostOnce(t *testing.T) {
	forum := &fakeChannel{}
	rb, now := alertingRunbook(t, map[string]*fakeChannel{"forum": forum})
	id := take(t, rb, nodeping(true))[0].Incident
	*now = now.Add(5 * time.Minute)
	if in := take(t, rb, nodeping(true)); in[0].What != "repeat" || in[0].Incident != id {
		t.Fatalf("repeat = %+v", in)
	}
	evs, _ := rb.Store.Events(id)
	if len(evs) != 1 || evs[0].Alert == nil {
		t.Fatalf("a repeat wrote an event, or the opened event lacks its alert: %+v", evs)
	}
	if done := tick(t, rb, *now); len(done) != 0 {
		t.Fatalf("tick before publish_after did %+v", done)
	}
	*now = now.Add(5 * time.Minute)
	done := tick(t, rb, *now)
	if len(done) != 1 || done[0].Action.Kind != ActionAutoPost || done[0].Result.Failed() != 0 {
		t.Fatalf("tick at publish_after: %+v", done)
	}
	inc, _ := rb.Store.Load(id)
	u := inc.PublicUpdates()
	if inc.Status != Investigating || len(u) != 1 || u[0].Event.By != AutomaticAuthor || !strings.Contains(u[0].Event.Text, "no one acknowledged within 10 min") {
		t.Fatalf("after the automatic update: %s, %+v", inc.Status, u)
	}
	if !strings.Contains(u[0].Event.Message, "problems with imap") || !strings.Contains(u[0].Event.Message, "monitoring detected them at Tue 1 Dec 12:03") {
		t.Errorf("message = %q", u[0].Event.Message)
	}
	if inc.Acked() {
		t.Error("the automatic update counts as an acknowledgement")
	}
	*now = now.Add(time.Minute)
	if done := tick(t, rb, *now); len(done) != 0 {
		t.Fatalf("a second tick did %+v", done)
	}
	if forum.count() != 1 {
		t.Fatalf("forum posts = %d", forum.count())
	}
	// Recovery of a public incident is recorded; nothing is resolved by itself.
	*now = now.Add(time.Minute)
	take(t, rb, nodeping(false))
	inc, _ = rb.Store.Load(id)
	if !inc.Open() || inc.RecoveredAt().IsZero() {
		t.Fatalf("after recovery of a public incident: %s, recovered %v", inc.Status, inc.RecoveredAt())
	}
}

// A person acknowledges in time: no automatic update.
func TestAckStopsTheCountdown(t *testing.T) {
	forum := &fakeChannel{}
	rb, now := alertingRunbook(t, map[string]*fakeChannel{"forum": forum})
	id := take(t, rb, nodeping(true))[0].Incident
	*now = now.Add(2 * time.Minute)
	inc, err := rb.Ack(context.Background(), id, "cli", "")
	if err != nil || !inc.Acked() {
		t.Fatalf("ack: %v", err)
	}
	if _, ok := inc.AutoPostAt(); ok {
		t.Fatal("the countdown runs after ack")
	}
	*now = now.Add(time.Hour)
	if done := tick(t, rb, *now); len(done) != 0 || forum.calls != 0 {
		t.Fatalf("tick after ack did %+v", done)
	}
	// An acknowledged incident does not close by itself when it recovers.
	take(t, rb, nodeping(false))
	if inc, _ := rb.Store.Load(id); inc.Status != Triggered {
		t.Fatalf("acknowledged incident after recovery: %s", inc.Status)
	}
}

func TestDismiss(t *testing.T) {
	rb, _ := alertingRunbook(t, nil)
	id := take(t, rb, nodeping(true))[0].Incident
	if _, err := rb.Dismiss(context.Background(), id, ""); err == nil {
		t.Fatal("dismiss without a reason")
	}
	inc, err := rb.Dismiss(context.Background(), id, "flap")
	if err != nil || inc.Status != Dismissed || inc.Reason != "flap" {
		t.Fatalf("dismiss: %v %+v", err, inc)
	}
	// The alert firing again later opens a new incident.
	if in := take(t, rb, nodeping(true)); in[0].What != "opened" || in[0].Incident == id {
		t.Fatalf("after dismiss: %+v", in)
	}
	// A public incident is closed publicly, never dismissed.
	res := open(t, rb)
	if _, err := rb.Dismiss(context.Background(), res.Incident.ID, "x"); err == nil || !strings.Contains(err.Error(), "incident close") {
		t.Fatalf("dismiss of a public incident: %v", err)
	}
}

// A second alert on a service that already has an incident joins it; a
// resolved alert nothing is open for is ignored.
func TestGrouping(t *testing.T) {
	rb, _ := alertingRunbook(t, nil)
	id := take(t, rb, nodeping(true))[0].Incident
	other := alerts.Alert{Source: "nodeping", Key: "POP3-check", Firing: true, Name: "IMAP and POP3 check"}
	if in := take(t, rb, other); in[0].What != "joined" || in[0].Incident != id {
		t.Fatalf("second alert on imap: %+v", in)
	}
	stray := alerts.Alert{Source: "alertmanager", Key: "fbab788ec4c1018b", Firing: false, Name: "DiskFull"}
	if in := take(t, rb, stray); in[0].What != "no incident" || in[0].Incident != "" {
		t.Fatalf("stray recovery: %+v", in)
	}
	// An alert no route takes opens an incident with its own summary.
	disk := alerts.Alert{Source: "alertmanager", Key: "c6eadffa33fcdf37", Firing: true, Name: "DiskFull", Summary: "Disk /var is 95% full", Severity: "warning"}
	in := take(t, rb, disk)
	inc, _ := rb.Store.Load(in[0].Incident)
	if in[0].What != "opened" || inc.Title != "Disk /var is 95% full" || inc.Severity != "minor" || len(inc.Services) != 0 || inc.Route != "no route" {
		t.Fatalf("unrouted alert: %+v, %+v", in, inc)
	}
	inc, _ = rb.Store.Load(id)
	if len(inc.Alerts) != 2 {
		t.Fatalf("alerts = %d", len(inc.Alerts))
	}
}
