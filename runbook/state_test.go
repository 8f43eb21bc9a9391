package runbook

import (
	"context"
	"errors"
	"maps"
	"strings"
	"testing"
	"time"
)

func TestParseStates(t *testing.T) {
	cases := []struct {
		in   []string
		want map[string]string
		err  string
	}{
		{in: nil},
		{in: []string{"imap=partial_outage"}, want: map[string]string{"imap": PartialOutage}},
		{in: []string{"imap=Partial outage", "smtp=major-outage"}, want: map[string]string{"imap": PartialOutage, "smtp": MajorOutage}},
		{in: []string{"imap=operational"}, want: map[string]string{"imap": Operational}},
		{in: []string{"imap"}, err: `--state "imap": write it as SERVICE=STATE`},
		{in: []string{"=major_outage"}, err: "write it as SERVICE=STATE"},
		{in: []string{"imap=partial"}, err: `unknown state "partial"`},
		{in: []string{"imap=major_outag"}, err: `did you mean "major_outage"?`},
		{in: []string{"imap=down"}, err: "(states: operational, under_maintenance, degraded_performance, partial_outage, major_outage)"},
		{in: []string{"imap=major_outage", "imap=operational"}, err: `--state names service "imap" twice`},
	}
	for _, c := range cases {
		got, err := ParseStates(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("ParseStates(%q) = %v, want an error containing %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || !maps.Equal(got, c.want) {
			t.Errorf("ParseStates(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
}

// TestStatesRecordedAndFolded walks one incident through open, updates,
// close and reopen, and checks the states each update records and passes
// to channels: the severity's default, an explicit state, carried forward,
// a new default when the severity changes, operational at close.
func TestStatesRecordedAndFolded(t *testing.T) {
	forum := &fakeChannel{}
	rb := testRunbook(t, map[string]*fakeChannel{"forum": forum})
	ctx := context.Background()
	publish := func(id string, d Draft) *Incident {
		t.Helper()
		res, err := rb.Publish(ctx, id, d, PublishOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Failed() != 0 {
			t.Fatalf("%s: %+v", d.Via, res.Channels)
		}
		return res.Incident
	}
	inc := publish("", Draft{Via: "open", Title: "Mail delays", Services: []string{"imap", "smtp"}, Severity: "minor",
		Status: Investigating, Message: "We are investigating."})
	id := inc.ID
	steps := []struct {
		d    Draft
		want map[string]string
	}{
		{Draft{}, map[string]string{"imap": DegradedPerformance, "smtp": DegradedPerformance}}, // the open itself
		{Draft{Via: "update", Status: Identified, Message: "IMAP is down.", States: map[string]string{"imap": MajorOutage}},
			map[string]string{"imap": MajorOutage, "smtp": DegradedPerformance}},
		{Draft{Via: "update", Status: Identified, Message: "Still on it."},
			map[string]string{"imap": MajorOutage, "smtp": DegradedPerformance}},
		{Draft{Via: "update", Status: Identified, Message: "Worse.", Severity: "critical", States: map[string]string{"imap": PartialOutage}},
			map[string]string{"imap": PartialOutage, "smtp": MajorOutage}},
		{Draft{Via: "close", Status: Resolved, Message: "Fixed."}, map[string]string{"imap": Operational, "smtp": Operational}},
		{Draft{Via: "reopen", Status: Identified, Message: "It came back."}, map[string]string{"imap": MajorOutage, "smtp": MajorOutage}},
	}
	for i, s := range steps {
		if i > 0 {
			inc = publish(id, s.d)
		}
		u := inc.Updates[len(inc.Updates)-1]
		if !maps.Equal(u.Event.States, s.want) || !maps.Equal(u.States, s.want) || !maps.Equal(inc.States, s.want) {
			t.Errorf("step %d: recorded %v, folded %v / %v, want %v", i, u.Event.States, u.States, inc.States, s.want)
		}
		var last map[string]string
		for _, p := range forum.posts {
			if strings.HasSuffix(p.Key, u.Event.ID+"/forum") {
				last = p.Incident.States
				if got := p.Incident.Updates[len(p.Incident.Updates)-1].States; !maps.Equal(got, s.want) {
					t.Errorf("step %d: the channel's update states = %v", i, got)
				}
			}
		}
		if !maps.Equal(last, s.want) {
			t.Errorf("step %d: the channel was told %v, want %v", i, last, s.want)
		}
	}
}

// TestStatesOfOlderRecords: an update written before states existed folds
// to the severity's default (all operational once resolved).
func TestStatesOfOlderRecords(t *testing.T) {
	at := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	events := []Event{
		{ID: "1", Kind: KindOpened, At: at, Title: "IMAP", Services: []string{"imap"}, Severity: "critical", Status: Investigating, Message: "x"},
		{ID: "2", Kind: KindUpdate, At: at.Add(time.Hour), Status: Monitoring, Message: "y"},
	}
	inc := Fold("x", events)
	if inc.States["imap"] != MajorOutage || inc.Updates[0].States["imap"] != MajorOutage || inc.StateOf("imap") != MajorOutage {
		t.Errorf("states = %v, %v", inc.States, inc.Updates[0].States)
	}
	events = append(events, Event{ID: "3", Kind: KindUpdate, At: at.Add(2 * time.Hour), Status: Resolved, Message: "z"})
	inc = Fold("x", events)
	if inc.States["imap"] != Operational || inc.StateOf("imap") != Operational || inc.StateOf("smtp") != Operational {
		t.Errorf("resolved states = %v", inc.States)
	}
	// A service added since the last update takes the severity's default.
	inc = Fold("x", append(events[:2:2], Event{ID: "4", Kind: KindChanged, At: at.Add(3 * time.Hour), Services: []string{"imap", "smtp"}}))
	if inc.StateOf("smtp") != MajorOutage {
		t.Errorf("added service: %s", inc.StateOf("smtp"))
	}
}

func TestStatesRefused(t *testing.T) {
	rb := testRunbook(t, nil)
	rb.Config.Services = []Service{{ID: "imap"}, {ID: "smtp"}}
	ctx := context.Background()
	res, err := rb.Publish(ctx, "", Draft{Via: "open", Title: "IMAP", Services: []string{"imap"}, Status: Investigating, Message: "x"}, PublishOptions{})
	if err != nil {
		t.Fatal(err)
	}
	id := res.Incident.ID
	cases := []struct {
		d   Draft
		err string
	}{
		{Draft{Via: "update", Status: Identified, Message: "y", States: map[string]string{"imapp": MajorOutage}}, `state imapp=major_outage: unknown service "imapp"; did you mean "imap"?`},
		{Draft{Via: "update", Status: Identified, Message: "y", States: map[string]string{"smtp": MajorOutage}}, "smtp is not among the incident's services (imap)"},
		{Draft{Via: "update", Status: Identified, Message: "y", States: map[string]string{"imap": "down"}}, "unknown state"},
		{Draft{Via: "close", Status: Resolved, Message: "y", States: map[string]string{"imap": PartialOutage}}, "closing resolves the incident and sets every service operational"},
	}
	for _, c := range cases {
		_, err := rb.Publish(ctx, id, c.d, PublishOptions{})
		var ue *UsageError
		if err == nil || !strings.Contains(err.Error(), c.err) || !errors.As(err, &ue) {
			t.Errorf("%s %v: err = %v, want a usage error containing %q", c.d.Via, c.d.States, err, c.err)
		}
	}
	inc, _ := rb.Store.Load(id)
	if len(inc.Updates) != 1 {
		t.Errorf("a refused draft was recorded: %d updates", len(inc.Updates))
	}
	// Closing with an explicit operational state is fine.
	if _, err := rb.Publish(ctx, id, Draft{Via: "close", Status: Resolved, Message: "y", States: map[string]string{"imap": Operational}}, PublishOptions{}); err != nil {
		t.Error(err)
	}
}
