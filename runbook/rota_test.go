package runbook

import (
	"testing"
	"time"
)

func mustShift(t *testing.T, s RotaShift) *RotaShift {
	t.Helper()
	if err := s.check(time.UTC); err != nil {
		t.Fatal(err)
	}
	return &s
}

// The rota resolves the person by time and zone: office hours on weekdays
// in Oslo, a night window across midnight, a weekly rotation handing over
// at 09:00 local time (also across a DST change), a 12-hour rotation, and
// the first shift that covers a moment wins.
func TestRotaResolvesByTimeAndZone(t *testing.T) {
	oslo, _ := time.LoadLocation("Europe/Oslo")
	ny, _ := time.LoadLocation("America/New_York")
	office := mustShift(t, RotaShift{Person: "alice", Days: []string{"mon", "tue", "wed", "thu", "friday"}, From: "08:00", To: "18:00", Zone: "Europe/Oslo"})
	night := mustShift(t, RotaShift{Person: "nina", Days: []string{"fri"}, From: "22:00", To: "06:00", Zone: "America/New_York"})
	weekly := mustShift(t, RotaShift{People: []string{"bob", "carol", "dave"}, Every: "weekly", Start: "2026-01-05 09:00", Zone: "Europe/Oslo"})
	halves := mustShift(t, RotaShift{People: []string{"erin", "frank"}, Every: "12h", Start: "2026-01-05 08:00", Zone: "Europe/Oslo"})
	cases := []struct {
		shift *RotaShift
		at    time.Time
		want  string // "" for not covered
	}{
		{office, time.Date(2026, 12, 1, 8, 0, 0, 0, oslo), "alice"},   // Tuesday 08:00
		{office, time.Date(2026, 12, 1, 7, 59, 0, 0, oslo), ""},       // before
		{office, time.Date(2026, 12, 1, 17, 59, 0, 0, oslo), "alice"}, // last minute
		{office, time.Date(2026, 12, 1, 18, 0, 0, 0, oslo), ""},       // to is not included
		{office, time.Date(2026, 12, 4, 12, 0, 0, 0, oslo), "alice"},  // Friday ("friday")
		{office, time.Date(2026, 12, 5, 12, 0, 0, 0, oslo), ""},       // Saturday
		{office, time.Date(2026, 12, 1, 7, 30, 0, 0, time.UTC), "alice"},
		{night, time.Date(2026, 12, 4, 23, 0, 0, 0, ny), "nina"}, // Friday night
		{night, time.Date(2026, 12, 5, 5, 59, 0, 0, ny), "nina"}, // Saturday morning: Friday's window
		{night, time.Date(2026, 12, 5, 6, 0, 0, 0, ny), ""},
		{night, time.Date(2026, 12, 5, 23, 0, 0, 0, ny), ""}, // Saturday night: not a Friday
		{night, time.Date(2026, 12, 5, 4, 30, 0, 0, time.UTC), "nina"},
		{weekly, time.Date(2026, 1, 5, 9, 0, 0, 0, oslo), "bob"},
		{weekly, time.Date(2026, 1, 12, 8, 59, 0, 0, oslo), "bob"},
		{weekly, time.Date(2026, 1, 12, 9, 0, 0, 0, oslo), "carol"},
		{weekly, time.Date(2026, 1, 19, 9, 0, 0, 0, oslo), "dave"},
		{weekly, time.Date(2026, 1, 26, 9, 0, 0, 0, oslo), "bob"},
		{weekly, time.Date(2026, 1, 5, 8, 0, 0, 0, oslo), "dave"}, // before the start: the turn before
		// Summer time began on 29 March: the handover stays at 09:00 in Oslo.
		{weekly, time.Date(2026, 3, 30, 8, 59, 0, 0, oslo), "dave"}, // turn 11
		{weekly, time.Date(2026, 3, 30, 9, 0, 0, 0, oslo), "bob"},   // turn 12
		{halves, time.Date(2026, 1, 5, 19, 59, 0, 0, oslo), "erin"},
		{halves, time.Date(2026, 1, 5, 20, 0, 0, 0, oslo), "frank"},
		{halves, time.Date(2026, 1, 6, 8, 0, 0, 0, oslo), "erin"},
	}
	for _, c := range cases {
		got, ok := c.shift.at(c.at)
		if ok != (c.want != "") || got != c.want {
			t.Errorf("%s at %s: %q %v, want %q", c.shift.Person+c.shift.Every, c.at.Format(time.RFC3339), got, ok, c.want)
		}
	}

	rb := &Runbook{Escalation: &Escalation{Rota: []*RotaShift{office, weekly}}}
	for at, want := range map[time.Time]string{
		time.Date(2026, 12, 1, 12, 0, 0, 0, oslo): "alice", // office hours: the first shift
		time.Date(2026, 12, 1, 20, 0, 0, 0, oslo): "dave",  // the rotation: turn 47 since 5 Jan
		time.Date(2026, 12, 5, 12, 0, 0, 0, oslo): "dave",
	} {
		if got := rb.OnCall(at); got != want {
			t.Errorf("OnCall(%s) = %q, want %q", at, got, want)
		}
	}
	if got := (&Runbook{}).OnCall(time.Now()); got != "" {
		t.Errorf("no rota: %q", got)
	}
}

// Quiet hours: paceEnd counts only time outside them, activeTime measures
// it.
func TestQuietPace(t *testing.T) {
	oslo, _ := time.LoadLocation("Europe/Oslo")
	w, err := newWindow(nil, "22:00", "07:00", "Europe/Oslo", time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	at := func(d, h, m int) time.Time { return time.Date(2026, 12, d, h, m, 0, 0, oslo) }
	cases := []struct {
		start time.Time
		d     time.Duration
		want  time.Time
	}{
		{at(1, 12, 0), 5 * time.Minute, at(1, 12, 5)},
		{at(1, 21, 58), 5 * time.Minute, at(2, 7, 3)}, // 2 min before, 3 after
		{at(1, 23, 10), 0, at(2, 7, 0)},
		{at(1, 23, 10), 15 * time.Minute, at(2, 7, 15)},
		{at(2, 6, 59), 0, at(2, 7, 0)},
		{at(2, 7, 0), 0, at(2, 7, 0)},
		{at(1, 12, 0), 11 * time.Hour, at(2, 8, 0)}, // 10 h before 22:00, 1 h after 07:00
	}
	for _, c := range cases {
		if got := paceEnd(&w, c.start, c.d); !got.Equal(c.want) {
			t.Errorf("paceEnd(%s, %s) = %s, want %s", c.start, c.d, got.In(oslo), c.want)
		}
		if c.d > 0 {
			if got := activeTime(&w, c.start, c.want); got != c.d {
				t.Errorf("activeTime(%s, %s) = %s, want %s", c.start, c.want, got, c.d)
			}
		}
	}
	if got := paceEnd(nil, at(1, 23, 0), time.Minute); !got.Equal(at(1, 23, 1)) {
		t.Errorf("no quiet hours: %s", got)
	}
}
