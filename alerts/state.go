package alerts

import "strings"

// State is a check's state, one word for what the sources spell in several
// ways: Nagios CRITICAL and Checkmk CRIT, UNREACHABLE and UNREACH, WARNING
// and WARN, UNKNOWN and UNKN, and Uptime Kuma's heartbeat status 0-3. It is
// the "state" label of Nagios, Checkmk and Uptime Kuma alerts.
type State string

// The states.
const (
	StateOK          State = "ok"          // Nagios/Checkmk service OK
	StateUp          State = "up"          // host UP, Kuma 1
	StateWarning     State = "warning"     // WARNING, WARN
	StateCritical    State = "critical"    // CRITICAL, CRIT
	StateUnknown     State = "unknown"     // UNKNOWN, UNKN
	StateDown        State = "down"        // host DOWN, Kuma 0
	StateUnreachable State = "unreachable" // UNREACHABLE, UNREACH
	StatePending     State = "pending"     // Kuma 2: failing, retries left
	StateMaintenance State = "maintenance" // Kuma 3
)

var stateWords = map[string]State{
	"OK": StateOK, "UP": StateUp,
	"WARNING": StateWarning, "WARN": StateWarning,
	"CRITICAL": StateCritical, "CRIT": StateCritical,
	"UNKNOWN": StateUnknown, "UNKN": StateUnknown,
	"DOWN":        StateDown,
	"UNREACHABLE": StateUnreachable, "UNREACH": StateUnreachable,
	"PENDING": StatePending, "MAINTENANCE": StateMaintenance,
}

// ParseState reads a state word in either spelling and any case ("CRIT",
// "critical", "UNREACH"); false when it is none of them.
func ParseState(word string) (State, bool) {
	s, ok := stateWords[strings.ToUpper(strings.TrimSpace(word))]
	return s, ok
}

// KumaState maps an Uptime Kuma heartbeat status (0 DOWN, 1 UP, 2 PENDING,
// 3 MAINTENANCE); false for any other number.
func KumaState(status int) (State, bool) {
	switch status {
	case 0:
		return StateDown, true
	case 1:
		return StateUp, true
	case 2:
		return StatePending, true
	case 3:
		return StateMaintenance, true
	}
	return "", false
}

// Problem reports whether the state is a problem: warning, critical,
// unknown, down or unreachable.
func (s State) Problem() bool {
	switch s {
	case StateWarning, StateCritical, StateUnknown, StateDown, StateUnreachable:
		return true
	}
	return false
}

// service reports whether s is a state a Nagios or Checkmk service has
// (OK WARNING CRITICAL UNKNOWN); host reports the host states (UP DOWN
// UNREACHABLE).
func (s State) service() bool {
	return s == StateOK || s == StateWarning || s == StateCritical || s == StateUnknown
}

func (s State) host() bool {
	return s == StateUp || s == StateDown || s == StateUnreachable
}

// kind is what a Nagios or Checkmk notification announces.
type kind int

const (
	kindProblem kind = iota
	kindRecovery
	kindIgnored
)

// notificationTypes are the Nagios NOTIFICATIONTYPE values, and Checkmk's
// ALERTHANDLER; Checkmk appends details in parentheses ("ACKNOWLEDGEMENT
// (CRIT)"), which notificationKind drops.
var notificationTypes = map[string]kind{
	"PROBLEM":           kindProblem,
	"RECOVERY":          kindRecovery,
	"ACKNOWLEDGEMENT":   kindIgnored,
	"FLAPPINGSTART":     kindIgnored,
	"FLAPPINGSTOP":      kindIgnored,
	"FLAPPINGDISABLED":  kindIgnored,
	"DOWNTIMESTART":     kindIgnored,
	"DOWNTIMEEND":       kindIgnored,
	"DOWNTIMECANCELLED": kindIgnored,
	"CUSTOM":            kindIgnored,
	"ALERTHANDLER":      kindIgnored,
}

// notificationKind reads a NOTIFICATIONTYPE: the word itself (upper case,
// details dropped), what it announces, and whether it is a known type.
func notificationKind(raw string) (string, kind, bool) {
	word := strings.ToUpper(strings.TrimSpace(raw))
	if i := strings.IndexAny(word, " ("); i >= 0 {
		word = word[:i]
	}
	k, ok := notificationTypes[word]
	return word, k, ok
}
