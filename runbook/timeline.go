package runbook

import (
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/incident-cli/incident/publishers"
)

// TimelineDays is how many days a service's bars show, today included.
const TimelineDays = 90

// uptimeWindow is the span the uptime percentage covers (or the service's
// age, when it is younger).
const uptimeWindow = TimelineDays * 24 * time.Hour

// Span is a stretch of time in which one public incident held one service
// in a state other than operational.
type Span struct {
	Service string    `json:"service"`
	State   string    `json:"state"`
	From    time.Time `json:"from"`
	To      time.Time `json:"to,omitzero"` // zero: the incident is open and still holds it so
}

// Spans computes an incident's spans from its public updates: each update's
// states hold from that update to the next (the first from the incident's
// start, when that was earlier), and end when the incident is resolved. An
// incident with no public update (a private one) has none.
func Spans(inc *Incident) []Span {
	ups := inc.PublicUpdates()
	var out []Span
	for i, u := range ups {
		if closedStatus(u.Event.Status) {
			continue
		}
		from := u.Event.At
		if i == 0 && !inc.StartedAt.IsZero() && inc.StartedAt.Before(from) {
			from = inc.StartedAt
		}
		var to time.Time
		if i+1 < len(ups) {
			to = ups[i+1].Event.At
		}
		for _, svc := range sortedKeys(u.States) {
			st := u.States[svc]
			if st == Operational {
				continue
			}
			// Adjacent updates that keep a state make one span.
			if j := slices.IndexFunc(out, func(s Span) bool { return s.Service == svc && s.To.Equal(from) }); j >= 0 && out[j].State == st {
				out[j].To = to
				continue
			}
			out = append(out, Span{Service: svc, State: st, From: from, To: to})
		}
	}
	return out
}

// Date is a calendar date in incident.toml (since = 2024-03-01, or as a
// string), read in the runbook's primary zone.
type Date struct{ Year, Month, Day int }

// UnmarshalTOML reads a TOML local date or a "2024-03-01" string.
func (d *Date) UnmarshalTOML(v any) error {
	var t time.Time
	switch x := v.(type) {
	case time.Time:
		t = x
	case string:
		var err error
		if t, err = time.Parse("2006-01-02", x); err != nil {
			return fmt.Errorf("%q is not a date: write it like 2024-03-01", x)
		}
	default:
		return fmt.Errorf("%v is not a date: write it like 2024-03-01", v)
	}
	d.Year, d.Month, d.Day = t.Year(), int(t.Month()), t.Day()
	return nil
}

// IsZero reports whether no date was given.
func (d Date) IsZero() bool { return d.Year == 0 }

// In returns the date's midnight in loc.
func (d Date) In(loc *time.Location) time.Time {
	return time.Date(d.Year, time.Month(d.Month), d.Day, 0, 0, 0, 0, loc)
}

// timelineService is a service whose timeline is computed.
type timelineService struct {
	ID, Name string
	Since    time.Time // from config; zero: its first mention in the record
}

// Timelines computes every service's timeline at now from the incidents'
// summaries: the runbook's services in its order, then any other service a
// public incident names, by id. Days are days in the runbook's primary zone.
func (r *Runbook) Timelines(sums []Summary, now time.Time) []publishers.ServiceTimeline {
	var svcs []timelineService
	listed := map[string]bool{}
	for _, s := range r.Config.Services {
		ts := timelineService{ID: s.ID, Name: r.ServiceName(s.ID)}
		if !s.Since.IsZero() {
			ts.Since = s.Since.In(r.Zones[0])
		}
		svcs = append(svcs, ts)
		listed[s.ID] = true
	}
	var others []string
	for _, s := range sums {
		for _, svc := range s.Services {
			if s.Updates > 0 && !listed[svc] {
				listed[svc] = true
				others = append(others, svc)
			}
		}
	}
	slices.Sort(others)
	for _, id := range others {
		svcs = append(svcs, timelineService{ID: id, Name: r.ServiceName(id)})
	}
	return timelines(svcs, sums, now, r.Zones[0])
}

// segment is a stretch of time in which a service was in one state: the
// worst that any incident held it in.
type segment struct {
	state    string
	from, to time.Time
}

// timelines is Timelines for a given list of services and zone.
func timelines(svcs []timelineService, sums []Summary, now time.Time, loc *time.Location) []publishers.ServiceTimeline {
	// The record's start: a service no public incident names has data
	// from then on.
	var recordStart time.Time
	for _, s := range sums {
		if t := mention(s); s.Updates > 0 && (recordStart.IsZero() || t.Before(recordStart)) {
			recordStart = t
		}
	}
	today := time.Date(now.In(loc).Year(), now.In(loc).Month(), now.In(loc).Day(), 0, 0, 0, 0, loc)
	out := make([]publishers.ServiceTimeline, 0, len(svcs))
	for _, svc := range svcs {
		tl := publishers.ServiceTimeline{ID: svc.ID, Name: svc.Name, State: publishers.Operational, Since: svc.Since}
		var spans []Span
		var refs []publishers.DayIncident // the incident of each span
		first := time.Time{}
		for _, s := range sums {
			if s.Updates == 0 || !slices.Contains(s.Services, svc.ID) {
				continue // private incidents count nothing
			}
			if t := mention(s); first.IsZero() || t.Before(first) {
				first = t
			}
			for _, sp := range s.Spans {
				if sp.Service == svc.ID && !sp.From.After(now) { // a state set at now holds now
					spans = append(spans, sp)
					refs = append(refs, publishers.DayIncident{ID: s.ID, Title: s.Title})
					if sp.To.IsZero() {
						tl.State = publishers.Worse(tl.State, sp.State)
					}
				}
			}
		}
		if tl.Since.IsZero() {
			tl.Since = first
		}
		if tl.Since.IsZero() {
			tl.Since = recordStart
		}
		segs := worst(spans, now)
		for _, sg := range segs {
			if sg.to.Equal(now) {
				tl.Changed = later(tl.Changed, sg.from)
			} else {
				tl.Changed = later(tl.Changed, sg.to)
			}
		}
		tl.Days = days(segs, spans, refs, today, now, tl.Since, loc)
		tl.Uptime = uptime(segs, now, tl.Since)
		out = append(out, tl)
	}
	return out
}

// mention is when an incident first speaks of its services: its start, or
// its opening if that was earlier.
func mention(s Summary) time.Time {
	if !s.OpenedAt.IsZero() && (s.StartedAt.IsZero() || s.OpenedAt.Before(s.StartedAt)) {
		return s.OpenedAt
	}
	return s.StartedAt
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// worst merges one service's spans into segments holding, at each moment,
// the worst state any span holds; open spans run to now.
func worst(spans []Span, now time.Time) []segment {
	type edge struct {
		at   time.Time
		rank int
		d    int // +1 a span starts, -1 it ends
	}
	var edges []edge
	for _, sp := range spans {
		to := sp.To
		if to.IsZero() || to.After(now) {
			to = now
		}
		if !to.After(sp.From) {
			continue
		}
		r := publishers.StateRank(sp.State)
		edges = append(edges, edge{sp.From, r, +1}, edge{to, r, -1})
	}
	sort.Slice(edges, func(i, j int) bool { return edges[i].at.Before(edges[j].at) })
	var count [8]int
	var out []segment
	for i, e := range edges {
		count[e.rank] += e.d
		if i+1 == len(edges) || !edges[i+1].at.After(e.at) {
			continue // more edges at this moment
		}
		top := 0
		for r := len(count) - 1; r > 0; r-- {
			if count[r] > 0 {
				top = r
				break
			}
		}
		if top == 0 {
			continue
		}
		st := publishers.States[top]
		next := edges[i+1].at
		if n := len(out); n > 0 && out[n-1].state == st && out[n-1].to.Equal(e.at) {
			out[n-1].to = next
			continue
		}
		out = append(out, segment{state: st, from: e.at, to: next})
	}
	return out
}

// days cuts the segments into the bars' days, oldest first, the last today.
func days(segs []segment, spans []Span, refs []publishers.DayIncident, today, now, since time.Time, loc *time.Location) []publishers.Day {
	out := make([]publishers.Day, TimelineDays)
	for k := range out {
		start := time.Date(today.Year(), today.Month(), today.Day()-(TimelineDays-1-k), 0, 0, 0, 0, loc)
		end := time.Date(start.Year(), start.Month(), start.Day()+1, 0, 0, 0, 0, loc)
		if end.After(now) {
			end = now
		}
		d := publishers.Day{Start: start, NoData: since.IsZero() || !end.After(since)}
		for _, sg := range segs {
			a, b := later(sg.from, start), sg.to
			if end.Before(b) {
				b = end
			}
			if !b.After(a) {
				continue
			}
			switch sg.state {
			case publishers.MajorOutage:
				d.Major += b.Sub(a)
			case publishers.PartialOutage:
				d.Partial += b.Sub(a)
			case publishers.DegradedPerformance:
				d.Degraded += b.Sub(a)
			case publishers.UnderMaintenance:
				d.Maintenance += b.Sub(a)
			}
		}
		for i, sp := range spans {
			to := sp.To
			if to.IsZero() {
				to = now
			}
			if sp.From.Before(end) && to.After(start) && !slices.Contains(d.Incidents, refs[i]) {
				d.Incidents = append(d.Incidents, refs[i])
			}
		}
		out[k] = d
	}
	return out
}

// uptime is 1 - downtime / min(90 days, the service's age), as a
// percentage floored to two decimals, so that any downtime shows.
func uptime(segs []segment, now, since time.Time) float64 {
	start := now.Add(-uptimeWindow)
	if since.After(start) {
		start = since
	}
	total := now.Sub(start).Milliseconds()
	if total <= 0 {
		return 100
	}
	var down int64 // milliseconds
	for _, sg := range segs {
		a := later(sg.from, start)
		if !sg.to.After(a) {
			continue
		}
		ms := sg.to.Sub(a).Milliseconds()
		switch sg.state {
		case publishers.MajorOutage:
			down += ms * 10
		case publishers.PartialOutage:
			down += ms * 3
		}
	}
	// down is in tenths of milliseconds of downtime.
	hundredths := (total*10 - down) * 10000 / (total * 10)
	return float64(max(hundredths, 0)) / 100
}
