package runbook

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/incident-cli/incident/publishers"
)

// maintenanceRunbook is alertingRunbook (a clock the test moves, a route for
// IMAP alerts) with a window on IMAP scheduled at 12:03 for 15:00–16:00 UTC.
func maintenanceRunbook(t *testing.T, links map[string]*fakeChannel) (*Runbook, *time.Time, string) {
	t.Helper()
	rb, now := alertingRunbook(t, links)
	return rb, now, schedule(t, rb, "IMAP server upgrade", utc("2026-12-01 15:00"), utc("2026-12-01 16:00"), "imap")
}

func schedule(t *testing.T, rb *Runbook, title string, start, end time.Time, services ...string) string {
	t.Helper()
	d, err := rb.ScheduleDraft(title, services, Window{Start: start, End: end}, "")
	if err != nil {
		t.Fatal(err)
	}
	res, err := rb.Publish(context.Background(), "", d, PublishOptions{})
	if err != nil || res.Failed() > 0 {
		t.Fatalf("schedule: %v %+v", err, res)
	}
	return res.Incident.ID
}

func load(t *testing.T, rb *Runbook, id string) *Incident {
	t.Helper()
	inc, err := rb.Store.LoadFresh(id)
	if err != nil {
		t.Fatal(err)
	}
	return inc
}

// stateNow is a service's state on the status page at now.
func stateNow(t *testing.T, rb *Runbook, svc string, now time.Time) string {
	t.Helper()
	sums, err := rb.Summaries()
	if err != nil {
		t.Fatal(err)
	}
	for _, tl := range rb.Timelines(sums, now) {
		if tl.ID == svc {
			return tl.State
		}
	}
	return ""
}

func kinds(as []Action) string {
	var out []string
	for _, a := range as {
		out = append(out, a.Kind)
	}
	return strings.Join(out, " ")
}

// TestMaintenanceByTimers: a window announced on every channel, then its
// reminder an hour before, its start and its completion, each published by
// the timers exactly once, however often they run; a future window never
// changes the service's state, and it is under maintenance only inside.
func TestMaintenanceByTimers(t *testing.T) {
	forum, social := &fakeChannel{}, &fakeChannel{}
	rb, now, id := maintenanceRunbook(t, map[string]*fakeChannel{"forum": forum, "social": social})
	inc := load(t, rb, id)
	m := inc.Maintenance
	if m == nil || m.Phase != Scheduled || inc.Status != Scheduled || !inc.Open() || !m.Start.Equal(utc("2026-12-01 15:00")) || !inc.StartedAt.Equal(m.Start) {
		t.Fatalf("scheduled window = %+v %+v", inc, m)
	}
	if _, ok := rb.UpdateDue(inc); ok || rb.Overdue(inc, utc("2026-12-02 12:00")) != 0 {
		t.Error("a maintenance window keeps a cadence")
	}
	if st := inc.StateOf("imap"); st != Operational {
		t.Errorf("a scheduled window holds IMAP %s", st)
	}
	if !strings.Contains(forum.seen[0].Text, "[Scheduled maintenance] IMAP server upgrade") ||
		!strings.Contains(inc.Updates[0].Event.Message, "We will carry out maintenance of imap on") {
		t.Errorf("announcement: %q / %q", forum.seen[0].Text, inc.Updates[0].Event.Message)
	}
	steps := []struct {
		at    string
		want  string // the action the tick carries out ("" none)
		phase string
		state string // IMAP's state on the page afterwards
	}{
		{"2026-12-01 13:59", "", Scheduled, Operational},
		{"2026-12-01 14:00", ActionMaintRemind, Scheduled, Operational},
		{"2026-12-01 14:30", "", Scheduled, Operational},
		{"2026-12-01 15:00", ActionMaintStart, InProgress, UnderMaintenance},
		{"2026-12-01 15:01", "", InProgress, UnderMaintenance},
		{"2026-12-01 16:00", ActionMaintComplete, Completed, Operational},
		{"2026-12-02 16:00", "", Completed, Operational},
	}
	for _, s := range steps {
		*now = utc(s.at)
		done := tick(t, rb, *now)
		if got := strings.Join(slices.Collect(func(yield func(string) bool) {
			for _, d := range done {
				yield(d.Action.Kind)
			}
		}), " "); got != s.want {
			t.Fatalf("%s: the tick did %q, want %q", s.at, got, s.want)
		}
		if again := tick(t, rb, *now); len(again) != 0 {
			t.Fatalf("%s: a second tick did %+v", s.at, again)
		}
		inc = load(t, rb, id)
		if inc.Maintenance.Phase != s.phase || inc.Status != s.phase {
			t.Errorf("%s: phase %s, status %s, want %s", s.at, inc.Maintenance.Phase, inc.Status, s.phase)
		}
		if st := stateNow(t, rb, "imap", now.Add(time.Second)); st != s.state {
			t.Errorf("%s: IMAP is %s on the page, want %s", s.at, st, s.state)
		}
	}
	if inc.Open() || inc.ResolvedAt.IsZero() || inc.Maintenance.RemindedAt.IsZero() || !inc.Maintenance.StartedAt.Equal(utc("2026-12-01 15:00")) {
		t.Errorf("completed window = %+v %+v", inc, inc.Maintenance)
	}
	for _, u := range inc.Updates[1:] {
		if u.Event.By != AutomaticAuthor || u.Event.Action == "" || u.Event.Text == "" {
			t.Errorf("update #%d: by %q, action %q, why %q", u.Number, u.Event.By, u.Event.Action, u.Event.Text)
		}
	}
	for name, f := range map[string]*fakeChannel{"forum": forum, "social": social} {
		if f.count() != 4 || f.calls != 4 {
			t.Errorf("%s got %d posts in %d calls, want the 4 phases once each", name, f.count(), f.calls)
		}
		for i, label := range []string{"[Scheduled maintenance]", "[Maintenance reminder]", "[Maintenance in progress]", "[Maintenance completed]"} {
			if !strings.HasPrefix(f.seen[i].Text, label) {
				t.Errorf("%s post %d: %q, want %s", name, i+1, f.seen[i].Text, label)
			}
		}
	}
	// The day's bar: an hour under maintenance, no downtime, the window named.
	sums, _ := rb.Summaries()
	day := rb.Timelines(sums, *now)[0].Days[TimelineDays-2]
	if day.Maintenance != time.Hour || day.Downtime() != 0 || day.Worst() != UnderMaintenance ||
		len(day.Incidents) != 1 || day.Incidents[0].Title != "IMAP server upgrade" {
		t.Errorf("1 Dec: %+v", day)
	}
}

// TestMaintenanceDue: what the timers find due as the clock moves, for
// windows a person moved on, reminders off, late announcements and a
// daemon that was down for the whole window.
func TestMaintenanceDue(t *testing.T) {
	start, end := utc("2026-12-01 15:00"), utc("2026-12-01 16:00")
	at := func(s string) time.Time { return utc("2026-12-01 " + s) }
	window := func(opened time.Time, extra ...Event) *Incident {
		evs := []Event{{ID: "1", Kind: KindOpened, At: opened, Title: "Upgrade", Services: []string{"imap"},
			Status: Scheduled, Message: "m", Maintenance: &Window{Start: start, End: end}}}
		return Fold("w", append(evs, extra...))
	}
	upd := func(at, status, action string) Event {
		return Event{ID: at, Kind: KindUpdate, At: utc("2026-12-01 " + at), Status: status, Message: status, Action: action}
	}
	early := window(at("09:00"), upd("14:20", InProgress, ""))
	cancelled := window(at("09:00"), upd("12:00", Cancelled, ""))
	doneEarly := window(at("09:00"), upd("14:20", InProgress, ""), upd("15:30", Completed, ""))
	late := window(at("14:30"))
	reminded := window(at("09:00"), upd("14:00", Scheduled, ActionMaintRemind))
	tests := []struct {
		name   string
		inc    *Incident
		remind string // remind_before ("" the default)
		at     map[string]string
	}{
		{"announced in time", window(at("09:00")), "", map[string]string{"13:59": "", "14:00": ActionMaintRemind, "14:59": ActionMaintRemind,
			"15:00": ActionMaintStart, "15:59": ActionMaintStart, "16:00": ActionMaintComplete}},
		{"reminded", reminded, "", map[string]string{"14:30": "", "15:00": ActionMaintStart, "16:00": ActionMaintComplete}},
		{"remind_before 15m", window(at("09:00")), "15m", map[string]string{"14:00": "", "14:45": ActionMaintRemind}},
		{"reminders off", window(at("09:00")), "off", map[string]string{"14:00": "", "14:59": "", "15:00": ActionMaintStart}},
		{"announced less than an hour before", late, "", map[string]string{"14:40": "", "15:00": ActionMaintStart}},
		{"a person started early", early, "", map[string]string{"14:30": "", "15:00": "", "15:59": "", "16:00": ActionMaintComplete}},
		{"a person completed early", doneEarly, "", map[string]string{"15:45": "", "16:00": "", "17:00": ""}},
		{"cancelled", cancelled, "", map[string]string{"14:00": "", "15:00": "", "16:00": ""}},
		// Nothing ran from before the start to after the end: the window is
		// completed, never announced as in progress after it ended.
		{"the daemon was down", window(at("09:00")), "", map[string]string{"16:05": ActionMaintComplete}},
	}
	rb := testRunbook(t, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rb.Config.Maintenance.RemindBefore = OffDuration{}
			if tt.remind != "" {
				if err := rb.Config.Maintenance.RemindBefore.UnmarshalText([]byte(tt.remind)); err != nil {
					t.Fatal(err)
				}
			}
			for clock, want := range tt.at {
				if got := kinds(rb.Due(tt.inc, at(clock))); got != want {
					t.Errorf("at %s: due %q, want %q", clock, got, want)
				}
			}
		})
	}
}

// TestMaintenanceByHand: a person starts a window early and completes it;
// another is cancelled; the commands refuse what a window cannot do, and
// incidents' commands refuse windows, changing nothing.
func TestMaintenanceByHand(t *testing.T) {
	forum := &fakeChannel{}
	rb, now, id := maintenanceRunbook(t, map[string]*fakeChannel{"forum": forum})
	ctx := context.Background()
	move := func(id, status, msg string) (*Result, error) {
		d, err := rb.MaintenanceDraft(load(t, rb, id), status, msg)
		if err != nil {
			return nil, err
		}
		return rb.Publish(ctx, id, d, PublishOptions{})
	}
	refuse := func(what string, err error, want string) {
		t.Helper()
		var ue *UsageError
		if err == nil || !strings.Contains(err.Error(), want) || !errors.As(err, &ue) {
			t.Errorf("%s: %v, want a usage error saying %q", what, err, want)
		}
	}
	_, err := move(id, Completed, "")
	refuse("complete before the start", err, "has not started")
	_, err = rb.Publish(ctx, id, Draft{Via: "update", Status: Identified, Message: "x"}, PublishOptions{})
	refuse("update a window", err, "is a maintenance window: `incident maintenance start|complete|cancel")
	_, err = rb.Publish(ctx, id, Draft{Via: "close", Status: Resolved, Message: "x"}, PublishOptions{})
	refuse("close a window", err, "is a maintenance window")
	_, err = rb.Publish(ctx, id, Draft{Via: "maintenance", Status: InProgress, Message: "x", States: map[string]string{"imap": MajorOutage}}, PublishOptions{})
	refuse("states on a window", err, "sets its services' states itself")
	_, err = rb.Publish(ctx, id, Draft{Via: "maintenance", Status: Scheduled, Message: "again"}, PublishOptions{})
	refuse("a second announcement", err, "moves to in_progress, completed or cancelled")
	if forum.count() != 1 {
		t.Fatalf("refusals posted: %d posts", forum.count())
	}

	*now = utc("2026-12-01 14:40") // 20 minutes early, after the reminder
	tick(t, rb, *now)
	if res, err := move(id, InProgress, ""); err != nil || res.Failed() > 0 {
		t.Fatalf("start early: %v %+v", err, res)
	}
	_, err = move(id, Cancelled, "")
	refuse("cancel in progress", err, "cannot be cancelled")
	_, err = move(id, InProgress, "")
	refuse("start twice", err, "already in progress")
	if st := stateNow(t, rb, "imap", now.Add(time.Second)); st != UnderMaintenance {
		t.Errorf("started early, IMAP is %s", st)
	}
	*now = utc("2026-12-01 15:00")
	if done := tick(t, rb, *now); len(done) != 0 {
		t.Errorf("the timer started a window a person had started: %+v", done)
	}
	*now = utc("2026-12-01 15:20")
	if res, err := move(id, Completed, "Done early: the new servers are in."); err != nil || res.Failed() > 0 {
		t.Fatalf("complete: %v %+v", err, res)
	}
	*now = utc("2026-12-01 16:00")
	if done := tick(t, rb, *now); len(done) != 0 {
		t.Errorf("the timer completed a window a person had completed: %+v", done)
	}
	_, err = move(id, Completed, "")
	refuse("complete twice", err, "already completed")
	if n := forum.count(); n != 4 {
		t.Errorf("the forum got %d posts, want announcement, reminder, start, completion", n)
	}
	inc := load(t, rb, id)
	if spans := Spans(inc); len(spans) != 1 || spans[0].From.Round(time.Second) != utc("2026-12-01 14:40") || !spans[0].To.Equal(utc("2026-12-01 15:20")) || spans[0].State != UnderMaintenance {
		t.Errorf("spans of a window started early and completed early: %+v", spans)
	}

	// Cancelled before it starts: no reminder, no start, nothing due.
	other := schedule(t, rb, "Webmail move", utc("2026-12-03 10:00"), utc("2026-12-03 11:00"), "imap")
	if res, err := move(other, Cancelled, ""); err != nil || res.Failed() > 0 {
		t.Fatalf("cancel: %v %+v", err, res)
	}
	inc = load(t, rb, other)
	if inc.Open() || inc.Status != Cancelled || !strings.Contains(inc.Updates[1].Event.Message, "has been cancelled") || len(Spans(inc)) != 0 {
		t.Errorf("cancelled window: %s %q %+v", inc.Status, inc.Updates[1].Event.Message, Spans(inc))
	}
	for _, clock := range []string{"2026-12-03 09:00", "2026-12-03 10:00", "2026-12-03 11:00"} {
		if due := rb.Due(inc, utc(clock)); len(due) != 0 {
			t.Errorf("%s: a cancelled window has %s due", clock, kinds(due))
		}
	}
	// An incident is not a window.
	inc = open(t, rb).Incident
	if _, err := rb.MaintenanceDraft(inc, InProgress, ""); err == nil || !strings.Contains(err.Error(), "not a maintenance window") {
		t.Errorf("start an incident: %v", err)
	}
}

// TestScheduleRefuses: a window must have services, end after it starts,
// start in the future, and carry no states or severity; nothing is
// written when it does not.
func TestScheduleRefuses(t *testing.T) {
	rb, now := alertingRunbook(t, nil)
	later := now.Add(2 * time.Hour)
	for _, c := range []struct {
		name     string
		services []string
		start    time.Time
		end      time.Time
		want     string
	}{
		{"no services", nil, later, later.Add(time.Hour), "name the services"},
		{"end before start", []string{"imap"}, later, later.Add(-time.Hour), "before it starts"},
		{"in the past", []string{"imap"}, now.Add(-time.Hour), later, "starts in the past"},
	} {
		d, err := rb.ScheduleDraft("Upgrade", c.services, Window{Start: c.start, End: c.end}, "We upgrade.")
		if err == nil {
			_, err = rb.Publish(context.Background(), "", d, PublishOptions{})
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	d, _ := rb.ScheduleDraft("Upgrade", []string{"imap"}, Window{Start: later, End: later.Add(time.Hour)}, "")
	d.Severity = "major"
	if _, err := rb.Publish(context.Background(), "", d, PublishOptions{}); err == nil || !strings.Contains(err.Error(), "no severity") {
		t.Errorf("a severity: %v", err)
	}
	if ids, _ := rb.Store.IDs(); len(ids) != 0 {
		t.Errorf("refused windows were recorded: %v", ids)
	}
}

// TestMaintenanceAndAnIncident: a window in the future leaves the state to
// a real incident; in progress it is the better of the two for as long as
// both last (the worst counts), and the window's own state after.
func TestMaintenanceAndAnIncident(t *testing.T) {
	rb, now, _ := maintenanceRunbook(t, nil)
	ctx := context.Background()
	res, err := rb.Publish(ctx, "", Draft{Via: "open", Title: "IMAP down", Services: []string{"imap"}, Severity: "critical",
		Status: Investigating, Message: "IMAP is down."}, PublishOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if st := stateNow(t, rb, "imap", now.Add(time.Second)); st != MajorOutage {
		t.Errorf("a window to come hides the outage: %s", st)
	}
	*now = utc("2026-12-01 15:00")
	tick(t, rb, *now)
	if st := stateNow(t, rb, "imap", now.Add(time.Second)); st != MajorOutage {
		t.Errorf("in the window, during the outage: %s", st)
	}
	*now = utc("2026-12-01 15:10")
	if _, err := rb.Publish(ctx, res.Incident.ID, Draft{Via: "close", Status: Resolved, Message: "IMAP works."}, PublishOptions{}); err != nil {
		t.Fatal(err)
	}
	if st := stateNow(t, rb, "imap", now.Add(time.Second)); st != UnderMaintenance {
		t.Errorf("in the window, after the outage: %s", st)
	}
	*now = utc("2026-12-01 16:00")
	tick(t, rb, *now)
	sums, _ := rb.Summaries()
	day := rb.Timelines(sums, utc("2026-12-01 18:00"))[0].Days[TimelineDays-1]
	if day.Major.Round(time.Second) != 3*time.Hour+7*time.Minute || day.Maintenance.Round(time.Second) != 50*time.Minute || day.Worst() != MajorOutage {
		t.Errorf("1 Dec: major outage %s (want 3 h 7 min, from the opening to the close), maintenance %s (want the 50 min after the outage)",
			day.Major, day.Maintenance)
	}
}

// TestMaintenanceRecordsLoad: a window's events write and read back, and a
// post carries the window to channels.
func TestMaintenanceRecordsLoad(t *testing.T) {
	rb, _, id := maintenanceRunbook(t, nil)
	inc := load(t, rb, id)
	pi := rb.postIncident(inc)
	if pi.Maintenance == nil || !pi.Maintenance.End.Equal(utc("2026-12-01 16:00")) || pi.States["imap"] != publishers.Operational {
		t.Errorf("post incident: %+v %+v", pi.Maintenance, pi.States)
	}
	sum := Summarize(inc)
	if sum.Maintenance == nil || sum.Maintenance.Phase != Scheduled || !sum.Open() || sum.Incident().Maintenance == nil {
		t.Errorf("summary: %+v", sum.Maintenance)
	}
}

// TestMaintenanceConfig: [maintenance] remind_before takes a duration or
// "off"; anything else is an error naming the file and line.
func TestMaintenanceConfig(t *testing.T) {
	for _, c := range []struct {
		config string
		want   time.Duration
		err    string
	}{
		{"", DefaultRemindBefore, ""},
		{"[maintenance]\nremind_before = \"2h\"\n", 2 * time.Hour, ""},
		{"[maintenance]\nremind_before = \"off\"\n", 0, ""},
		{"[maintenance]\nremind_before = \"soon\"\n", 0, "incident.toml:2:18: \"soon\" is not a duration like \"60m\", or \"off\""},
		{"[maintenance]\nremind_befor = \"1h\"\n", 0, "did you mean `remind_before`?"},
	} {
		rb, err := Open(writeRunbook(t, c.config), Options{Getenv: func(string) string { return "" }, StateDir: t.TempDir()})
		switch {
		case c.err != "":
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: %v, want %q", c.config, err, c.err)
			}
		case err != nil:
			t.Errorf("%q: %v", c.config, err)
		case rb.remindBefore() != c.want:
			t.Errorf("%q: remind_before %s, want %s", c.config, rb.remindBefore(), c.want)
		}
	}
}

// TestNoRFOForAWindow: a finished window has no Reason For Outage.
func TestNoRFOForAWindow(t *testing.T) {
	rb, now, id := maintenanceRunbook(t, nil)
	*now = utc("2026-12-01 16:00")
	tick(t, rb, *now)
	_, err := rb.PublishRFO(context.Background(), id, RFOText{Summary: "s", RootCause: "r", Mitigation: "m", FollowUp: "f"}, RFOOptions{})
	var ue *UsageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "is a maintenance window: it has no Reason For Outage") {
		t.Errorf("an RFO for a window: %v", err)
	}
}
