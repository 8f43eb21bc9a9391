package runbook

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/incident-cli/incident/publishers"
)

func utc(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		panic(err)
	}
	return t
}

// TestSpans: an incident's spans from its updates, from its start to its
// resolution; a reopen starts again; kept states make one span.
func TestSpans(t *testing.T) {
	start := utc("2026-11-20 09:40")
	events := []Event{
		{ID: "1", Kind: KindOpened, At: utc("2026-11-20 10:00"), StartedAt: &start, Title: "IMAP", Services: []string{"imap", "smtp"},
			Severity: "major", Status: Investigating, Message: "a", States: map[string]string{"imap": PartialOutage, "smtp": Operational}},
		{ID: "2", Kind: KindUpdate, At: utc("2026-11-20 10:30"), Status: Identified, Message: "b", States: map[string]string{"imap": MajorOutage, "smtp": DegradedPerformance}},
		{ID: "3", Kind: KindNote, At: utc("2026-11-20 10:45"), Text: "private"},
		{ID: "4", Kind: KindUpdate, At: utc("2026-11-20 11:00"), Status: Monitoring, Message: "c", States: map[string]string{"imap": MajorOutage, "smtp": DegradedPerformance}},
		{ID: "5", Kind: KindUpdate, At: utc("2026-11-20 12:00"), Status: Resolved, Message: "d"},
		{ID: "6", Kind: KindUpdate, At: utc("2026-11-20 14:00"), Status: Identified, Message: "e"}, // a reopen, written before states: the default
	}
	got := Spans(Fold("x", events))
	want := []Span{
		{Service: "imap", State: PartialOutage, From: start, To: utc("2026-11-20 10:30")},
		{Service: "imap", State: MajorOutage, From: utc("2026-11-20 10:30"), To: utc("2026-11-20 12:00")},
		{Service: "smtp", State: DegradedPerformance, From: utc("2026-11-20 10:30"), To: utc("2026-11-20 12:00")},
		{Service: "imap", State: PartialOutage, From: utc("2026-11-20 14:00")},
		{Service: "smtp", State: PartialOutage, From: utc("2026-11-20 14:00")},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("spans:\n got %+v\nwant %+v", got, want)
	}
	// A private incident (no public update) has none.
	if sp := Spans(Fold("y", []Event{{ID: "1", Kind: KindOpened, At: start, Services: []string{"imap"}}})); sp != nil {
		t.Errorf("private incident spans = %+v", sp)
	}
}

// day is what a test expects of one day of a service's bars.
type day struct {
	major, partial, degraded time.Duration
	incidents                int
}

func sum(id string, start time.Time, updates int, spans ...Span) Summary {
	var svcs []string
	for _, sp := range spans {
		svcs = append(svcs, sp.Service)
	}
	return Summary{ID: id, Title: "Incident " + id, Services: svcs, StartedAt: start, OpenedAt: start, Updates: updates, Spans: spans}
}

// TestTimelines checks the bars and the uptime against hand-computed cases,
// in Europe/Oslo (CET, UTC+1; CEST, UTC+2 in summer).
func TestTimelines(t *testing.T) {
	oslo, err := time.LoadLocation("Europe/Oslo")
	if err != nil {
		t.Fatal(err)
	}
	old := utc("2026-01-01 00:00") // a since long before the window: uptime over 90 days (129,600 minutes)
	now := utc("2026-11-27 12:00")
	cases := []struct {
		name   string
		now    time.Time
		since  time.Time
		sums   []Summary
		days   map[string]day // local date -> expected day
		uptime float64
		state  string
		noData int // days before the service's data begins
	}{
		{
			name: "one partial outage of 2 h: 36 min of downtime", since: old,
			sums:   []Summary{sum("a", utc("2026-11-20 10:00"), 3, Span{"imap", PartialOutage, utc("2026-11-20 10:00"), utc("2026-11-20 12:00")})},
			days:   map[string]day{"2026-11-20": {partial: 2 * time.Hour, incidents: 1}, "2026-11-19": {}, "2026-11-21": {}},
			uptime: 99.97, // 1 - 36/129600 = 99.9722 %
		},
		{
			name: "overlap counts once at the worst: 60 min major + 0.3 × 60 min partial", since: old,
			sums: []Summary{
				sum("a", utc("2026-11-20 10:00"), 2, Span{"imap", MajorOutage, utc("2026-11-20 10:00"), utc("2026-11-20 11:00")}),
				sum("b", utc("2026-11-20 10:30"), 2, Span{"imap", PartialOutage, utc("2026-11-20 10:30"), utc("2026-11-20 12:00")}),
			},
			days:   map[string]day{"2026-11-20": {major: time.Hour, partial: time.Hour, incidents: 2}},
			uptime: 99.93, // 1 - 78/129600 = 99.9398 %
		},
		{
			name: "across midnight in Oslo: 23:30-00:30 CET is two days", since: old,
			sums:   []Summary{sum("a", utc("2026-11-20 22:30"), 2, Span{"imap", MajorOutage, utc("2026-11-20 22:30"), utc("2026-11-20 23:30")})},
			days:   map[string]day{"2026-11-20": {major: 30 * time.Minute, incidents: 1}, "2026-11-21": {major: 30 * time.Minute, incidents: 1}},
			uptime: 99.95, // 1 - 60/129600 = 99.9537 %
		},
		{
			name: "an open incident runs to now", since: old,
			sums:   []Summary{sum("a", utc("2026-11-27 09:00"), 1, Span{"imap", MajorOutage, utc("2026-11-27 09:00"), time.Time{}})},
			days:   map[string]day{"2026-11-27": {major: 3 * time.Hour, incidents: 1}},
			uptime: 99.86, // 1 - 180/129600 = 99.8611 %
			state:  MajorOutage,
		},
		{
			name: "degraded performance only: no downtime", since: old,
			sums:   []Summary{sum("a", utc("2026-11-20 08:00"), 2, Span{"imap", DegradedPerformance, utc("2026-11-20 08:00"), utc("2026-11-20 13:00")})},
			days:   map[string]day{"2026-11-20": {degraded: 5 * time.Hour, incidents: 1}},
			uptime: 100,
		},
		{
			name: "a private incident counts nothing", since: old,
			sums:   []Summary{sum("a", utc("2026-11-20 08:00"), 0, Span{"imap", MajorOutage, utc("2026-11-20 08:00"), time.Time{}})},
			days:   map[string]day{"2026-11-20": {}, "2026-11-27": {}},
			uptime: 100,
		},
		{
			name: "no data before the first mention; uptime over the service's age",
			sums: []Summary{sum("a", utc("2026-11-20 10:00"), 3, Span{"imap", PartialOutage, utc("2026-11-20 10:00"), utc("2026-11-20 12:00")})},
			days: map[string]day{"2026-11-20": {partial: 2 * time.Hour, incidents: 1}},
			// age 7 d 2 h = 10,200 min: 1 - 36/10200 = 99.647 %
			uptime: 99.64, noData: 82, // 30 Aug to 19 Nov
		},
		{
			name: "a since date", since: time.Date(2026, 11, 25, 0, 0, 0, 0, oslo),
			days: map[string]day{"2026-11-25": {}}, uptime: 100, noData: 87,
		},
		{
			name: "no incident and no since: no data at all", days: map[string]day{"2026-11-27": {}}, uptime: 100, noData: 90,
		},
		{
			name: "spring forward: 29 March in Oslo has 23 hours", since: old, now: utc("2026-04-10 12:00"),
			sums: []Summary{sum("a", utc("2026-03-28 20:00"), 2, Span{"imap", MajorOutage, utc("2026-03-28 20:00"), utc("2026-03-30 02:00")})},
			// 28 Mar 21:00-24:00 CET = 3 h; 29 Mar = 23 h; 30 Mar 00:00-04:00 CEST = 4 h
			days:   map[string]day{"2026-03-28": {major: 3 * time.Hour, incidents: 1}, "2026-03-29": {major: 23 * time.Hour, incidents: 1}, "2026-03-30": {major: 4 * time.Hour, incidents: 1}},
			uptime: 98.61, // 30 h = 1800 min: 1 - 1800/129600 = 98.6111 %
		},
		{
			name: "fall back: 25 October in Oslo has 25 hours", since: old, now: utc("2026-11-01 12:00"),
			sums:   []Summary{sum("a", utc("2026-10-24 12:00"), 2, Span{"imap", PartialOutage, utc("2026-10-24 12:00"), utc("2026-10-26 12:00")})},
			days:   map[string]day{"2026-10-24": {partial: 10 * time.Hour, incidents: 1}, "2026-10-25": {partial: 25 * time.Hour, incidents: 1}, "2026-10-26": {partial: 13 * time.Hour, incidents: 1}},
			uptime: 99.33, // 48 h partial = 2880 min × 0.3 = 864 min: 1 - 864/129600 = 99.3333 %
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			at := now
			if !c.now.IsZero() {
				at = c.now
			}
			tls := timelines([]timelineService{{ID: "imap", Name: "IMAP/POP", Since: c.since}}, c.sums, at, oslo)
			if len(tls) != 1 {
				t.Fatalf("%d timelines", len(tls))
			}
			tl := tls[0]
			if len(tl.Days) != TimelineDays {
				t.Fatalf("%d days", len(tl.Days))
			}
			last := tl.Days[TimelineDays-1].Start
			if y, m, d := at.In(oslo).Date(); last.Year() != y || last.Month() != m || last.Day() != d || last.Hour() != 0 || last.Location() != oslo {
				t.Errorf("the last day starts %s, want today's midnight in Oslo", last)
			}
			noData := 0
			for _, d := range tl.Days {
				if d.NoData {
					noData++
				}
				want, ok := c.days[d.Start.Format("2006-01-02")]
				if !ok {
					continue
				}
				got := day{major: d.Major, partial: d.Partial, degraded: d.Degraded, incidents: len(d.Incidents)}
				if got != want {
					t.Errorf("%s: got %+v, want %+v", d.Start.Format("Mon 2 Jan"), got, want)
				}
			}
			if noData != c.noData {
				t.Errorf("%d days without data, want %d", noData, c.noData)
			}
			if fmt.Sprintf("%.2f", tl.Uptime) != fmt.Sprintf("%.2f", c.uptime) {
				t.Errorf("uptime %.2f, want %.2f", tl.Uptime, c.uptime)
			}
			if want := c.state; tl.State != want && !(want == "" && tl.State == Operational) {
				t.Errorf("state %s, want %s", tl.State, want)
			}
		})
	}
}

// TestTimelineDowntime: Day.Downtime is major + 0.3 × partial, and the worst
// state of a day is the worst it held.
func TestTimelineDowntime(t *testing.T) {
	d := publishers.Day{Major: time.Hour, Partial: time.Hour, Degraded: 3 * time.Hour}
	if d.Downtime() != 78*time.Minute || d.Worst() != MajorOutage {
		t.Errorf("downtime %s, worst %s", d.Downtime(), d.Worst())
	}
	if (publishers.Day{Degraded: time.Minute}).Worst() != DegradedPerformance || (publishers.Day{}).Worst() != Operational {
		t.Error("worst of a degraded day / a quiet day")
	}
}
