package static

import (
	"fmt"
	"strings"
	"time"

	"github.com/incident-cli/incident/publishers"
)

// serviceRow is one service on the index: its state, its 90-day bars and
// its uptime.
type serviceRow struct {
	ID, Name, State string
	Label           string // the bars' accessible name
	Uptime          string // "99.91 % uptime", or that there is no data yet
	Days            []dayCell
}

// dayCell is one bar: an SVG rect 3 wide, 5 apart, as Statuspage draws
// them, with a <title> that browsers show without JavaScript.
type dayCell struct {
	X     int
	Class string // the day's worst state, or nodata
	Title string
}

func row(s publishers.ServiceTimeline, zone *time.Location) serviceRow {
	r := serviceRow{ID: s.ID, Name: s.Name, State: s.State}
	if s.Since.IsZero() {
		r.Uptime = "no data yet"
	} else {
		r.Uptime = fmt.Sprintf("%.2f %% uptime", s.Uptime)
	}
	r.Label = fmt.Sprintf("%s over the last %d days: %s", s.Name, len(s.Days), r.Uptime)
	for i, d := range s.Days {
		c := dayCell{X: 5 * i, Class: d.Worst(), Title: dayTitle(d, zone)}
		if d.NoData {
			c.Class = "nodata"
		}
		r.Days = append(r.Days, c)
	}
	return r
}

// dayTitle is a bar's tooltip: "Tue 20 Nov · Partial outage 1 h 12 min ·
// IMAP/POP login failures", "Tue 20 Nov · No downtime recorded on this
// day.", "Tue 20 Nov · No data exists for this day."
func dayTitle(d publishers.Day, zone *time.Location) string {
	parts := []string{d.Start.In(zone).Format("Mon 2 Jan")}
	if d.NoData {
		return parts[0] + " · No data exists for this day."
	}
	for _, x := range []struct {
		state string
		dur   time.Duration
	}{{publishers.MajorOutage, d.Major}, {publishers.PartialOutage, d.Partial},
		{publishers.DegradedPerformance, d.Degraded}, {publishers.UnderMaintenance, d.Maintenance}} {
		if x.dur > 0 {
			parts = append(parts, publishers.StateWords(x.state)+" "+minutes(x.dur))
		}
	}
	if len(parts) == 1 {
		parts = append(parts, "No downtime recorded on this day.")
	}
	if len(d.Incidents) > 0 {
		titles := make([]string, len(d.Incidents))
		for i, inc := range d.Incidents {
			titles[i] = inc.Title
		}
		parts = append(parts, strings.Join(titles, ", "))
	}
	return strings.Join(parts, " · ")
}

// minutes writes a duration as "1 h 12 min", "45 min" or "3 h"; anything
// under a minute shows as 1 min, as on Statuspage.
func minutes(d time.Duration) string {
	m := int((d + 30*time.Second) / time.Minute)
	if m < 1 {
		m = 1
	}
	switch {
	case m < 60:
		return fmt.Sprintf("%d min", m)
	case m%60 == 0:
		return fmt.Sprintf("%d h", m/60)
	}
	return fmt.Sprintf("%d h %d min", m/60, m%60)
}
