package publishers

import "time"

// The states a service (a status page's component) can be in, in
// Atlassian Statuspage's vocabulary, which every status page with
// components understands.
const (
	Operational         = "operational"
	UnderMaintenance    = "under_maintenance"
	DegradedPerformance = "degraded_performance"
	PartialOutage       = "partial_outage"
	MajorOutage         = "major_outage"
)

// States lists the service states, best first: the order of StateRank.
var States = []string{Operational, UnderMaintenance, DegradedPerformance, PartialOutage, MajorOutage}

// StateRank orders states from best (0, operational) to worst (4, major
// outage); overlapping incidents show a service in the worst of theirs. An
// unknown state ranks as operational.
func StateRank(state string) int {
	for i, s := range States {
		if s == state {
			return i
		}
	}
	return 0
}

// Worse returns the worse of two states.
func Worse(a, b string) string {
	if StateRank(b) > StateRank(a) {
		return b
	}
	if a == "" {
		return Operational
	}
	return a
}

// StateWords is how people read a state: "Partial outage".
func StateWords(state string) string {
	switch state {
	case UnderMaintenance:
		return "Under maintenance"
	case DegradedPerformance:
		return "Degraded performance"
	case PartialOutage:
		return "Partial outage"
	case MajorOutage:
		return "Major outage"
	}
	return "Operational"
}

// ServiceTimeline is one service's state over time, computed once from
// every public incident in the record and rendered by every output that
// shows it (the page's rows and bars, status.json, the Statuspage-schema
// JSON).
type ServiceTimeline struct {
	ID, Name string
	State    string    // now: the worst state any open incident holds it in
	Changed  time.Time // when State last changed (zero: never, as far as the record knows)
	// Since is when the service's data begins: its `since` date, else its
	// first mention in the record. Zero: no data at all.
	Since time.Time
	// Uptime is the percentage of the last 90 days (or of the service's age,
	// if younger) without downtime, floored to two decimals. Meaningless
	// when Since is zero.
	Uptime float64
	Days   []Day // the days of the bars, oldest first, the last one today
}

// Day is one day of a service's bars, in the runbook's primary zone.
type Day struct {
	Start  time.Time // midnight in the primary zone
	NoData bool      // the day ended before the service's data begins
	// Time spent in each state that day (the worst state when incidents
	// overlap; an open incident runs to now).
	Major, Partial, Degraded, Maintenance time.Duration
	Incidents                             []DayIncident // public incidents affecting the service that day, by start
}

// DayIncident names an incident in a day's tooltip.
type DayIncident struct{ ID, Title string }

// Downtime is Statuspage's downtime: major-outage time plus 0.3 × partial-
// outage time; degraded performance and maintenance count zero.
func (d Day) Downtime() time.Duration { return d.Major + d.Partial*3/10 }

// Worst returns the worst state the service was in that day.
func (d Day) Worst() string {
	switch {
	case d.Major > 0:
		return MajorOutage
	case d.Partial > 0:
		return PartialOutage
	case d.Degraded > 0:
		return DegradedPerformance
	case d.Maintenance > 0:
		return UnderMaintenance
	}
	return Operational
}
