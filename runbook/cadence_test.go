package runbook

import (
	"testing"
	"time"
)

// TestStale: an open incident is stale once its last public update is
// older than monitoring_max, whatever its status, and says how long it has
// been in that status.
func TestStale(t *testing.T) {
	t0 := time.Date(2026, 4, 16, 8, 0, 0, 0, time.UTC)
	h := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Hour) }
	up := func(at time.Time, status string) Event {
		return Event{Kind: KindUpdate, At: at, Status: status, Message: "x", ID: at.Format(time.RFC3339Nano)}
	}
	opened := Event{Kind: KindOpened, At: h(0), Title: "IMAP", Status: Investigating, Message: "x", ID: "0"}
	tests := []struct {
		name     string
		events   []Event
		max      time.Duration
		now      time.Time
		stale    bool
		inStatus time.Duration
		text     string
	}{
		{"fresh", []Event{opened}, 24 * time.Hour, h(23), false, 0, ""},
		{"exactly at the limit", []Event{opened}, 24 * time.Hour, h(24), false, 0, ""},
		{"investigating for a day", []Event{opened}, 24 * time.Hour, h(25), true, 25 * time.Hour, "investigating for 25 hours: close it or update it"},
		{"monitoring since its first monitoring update", []Event{opened, up(h(2), Monitoring), up(h(5), Monitoring)}, 24 * time.Hour, h(2 + 72), true, 72 * time.Hour, "monitoring for 3 days: close it or update it"},
		{"a recent update", []Event{opened, up(h(2), Monitoring), up(h(70), Monitoring)}, 24 * time.Hour, h(72), false, 0, ""},
		{"a stricter limit", []Event{opened, up(h(1), Identified)}, time.Hour, h(3), true, 2 * time.Hour, "identified for 2 hours: close it or update it"},
		{"resolved", []Event{opened, up(h(1), Resolved)}, time.Hour, h(100), false, 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rb := &Runbook{Config: &Config{MonitoringMax: Duration{tc.max}}}
			s := Summarize(Fold("x", tc.events))
			in, stale := rb.Stale(s, tc.now)
			if stale != tc.stale || in != tc.inStatus {
				t.Fatalf("Stale = %v, %v; want %v, %v", in, stale, tc.inStatus, tc.stale)
			}
			if stale {
				if got := StaleText(s.Status, in); got != tc.text {
					t.Errorf("StaleText = %q, want %q", got, tc.text)
				}
			}
		})
	}
}

func TestLongDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		30 * time.Minute: "under an hour", time.Hour: "1 hour", 25*time.Hour + 59*time.Minute: "25 hours",
		47 * time.Hour: "47 hours", 48 * time.Hour: "2 days", 80 * time.Hour: "3 days",
	} {
		if got := LongDuration(d); got != want {
			t.Errorf("LongDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

// TestMonitoringMaxConfig: the default is 24h, and the key is read.
func TestMonitoringMaxConfig(t *testing.T) {
	for src, want := range map[string]time.Duration{"": DefaultMonitoringMax, "monitoring_max = \"3h\"\n": 3 * time.Hour} {
		rb, err := Open(writeRunbook(t, src), Options{Getenv: func(string) string { return "" }, StateDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		if got := rb.Config.MonitoringMax.Duration; got != want {
			t.Errorf("%q: monitoring_max = %v, want %v", src, got, want)
		}
	}
	if _, err := Open(writeRunbook(t, "monitoring_maxx = \"3h\"\n"), Options{Getenv: func(string) string { return "" }, StateDir: t.TempDir()}); err == nil {
		t.Error("a misspelt monitoring_max was accepted")
	}
}
