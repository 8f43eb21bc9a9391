// Package alerts turns what a monitoring system sends into normalized alerts:
// an Alertmanager, Grafana, NodePing, Uptime Kuma or generic JSON payload
// (Parse), the environment of a Nagios or Checkmk notification command
// (FromNagios, FromCheckmk) and a Checkmk bulk notification on stdin
// (FromCheckmkBulk).
//
// The functions are pure: they read only what they are given and do no I/O,
// so the HTTP receiver and the notification command share them, and golden
// files pin every source's mapping. Everything a monitoring system sends is
// untrusted input: every string of an Alert is capped, stripped of control
// characters and valid UTF-8, and only http(s) URLs survive. The package knows
// nothing of incidents or routes; the runbook decides what an alert means.
package alerts

import (
	"fmt"
	"slices"
	"strconv"
	"time"
)

// The sources, as named in Alert.Source, in `incident alert --source` and in
// the receiver's paths (/alerts/<source>).
const (
	SourceAlertmanager = "alertmanager"
	SourceGrafana      = "grafana"
	SourceNodePing     = "nodeping"
	SourceUptimeKuma   = "uptime-kuma"
	SourceNagios       = "nagios"
	SourceCheckmk      = "checkmk"
	SourceGeneric      = "generic"
)

// An Alert is one alert of one monitoring source, normalized: firing or
// resolved, with the source's own key for it.
//
// Key is stable across a problem's repeats and its recovery, so the caller
// deduplicates by (Source, Key). Group is the source's grouping of alerts
// when it has one. Times are in UTC; a zero time is not known. Every string is
// capped (see the Max constants), free of control characters (Description
// keeps newlines and tabs) and valid UTF-8; URL is empty or an http(s) URL
// without user info. Text is plain: escape it for HTML, never run it as a
// template.
type Alert struct {
	// Source is one of the Source constants.
	Source string `json:"source"`
	// Key is the alert's own dedup key within its source: the Alertmanager
	// or Grafana fingerprint, the NodePing check id, the Uptime Kuma monitor
	// id, Nagios or Checkmk "host/service" (the host alone for a host
	// notification), the generic dedup_key.
	Key string `json:"key"`
	// Group is the source's group key when it has one: the Alertmanager
	// groupKey, Grafana "orgId/groupKey", the Nagios or Checkmk problem id
	// (the same on the problem and its recovery); "" otherwise.
	Group string `json:"group,omitempty"`
	// Firing is false for a resolved or recovered alert.
	Firing bool `json:"firing"`
	// StartsAt is when the alert began firing; zero when the source does not say.
	StartsAt time.Time `json:"starts_at,omitzero"`
	// EndsAt is when the alert resolved; always zero while firing.
	EndsAt time.Time `json:"ends_at,omitzero"`
	// Name is what routes glob-match on: the alertname, the NodePing check
	// label, Nagios or Checkmk "host/service", the Uptime Kuma monitor name,
	// the generic title.
	Name string `json:"name"`
	// Summary is one line for people.
	Summary string `json:"summary,omitempty"`
	// Description is the longer text, when the source has one.
	Description string `json:"description,omitempty"`
	// Severity is the source's own severity word in lower case ("critical",
	// "warning", ...; for Nagios and Checkmk the problem's State), "" when
	// the source has none.
	Severity string `json:"severity,omitempty"`
	// Labels is the alert's label set: Alertmanager and Grafana labels; for
	// Nagios and Checkmk host, service, state, notification_type, address,
	// ...; for NodePing label, target, state, ...; for Uptime Kuma the
	// monitor's tags and monitor_id, monitor_type, hostname, port, path,
	// state; for generic its labels, source and service.
	Labels map[string]string `json:"labels,omitempty"`
	// URL links back to the source (generatorURL, the Kuma monitor's URL,
	// the Checkmk service view); only http(s).
	URL string `json:"url,omitempty"`
}

// Caps on what one payload may carry. Longer strings are cut (with "…"),
// longer keys are shortened with a hash so that distinct keys stay distinct,
// labels past MaxLabels are dropped (in name order), longer URLs are dropped.
const (
	MaxAlerts     = 1000 // alerts in one payload; more is an InputError
	MaxText       = 1024 // bytes of Summary, Description, a label value
	MaxName       = 200  // bytes of Name, Key, Group, a label name
	MaxLabels     = 64   // label pairs of one alert
	MaxSeverity   = 64   // bytes of Severity
	MaxURL        = 2048 // bytes of URL
	maxQuotedSize = 60   // bytes of a bad value quoted in an error
)

// MaxBulkInput is how much of a Checkmk bulk notification's stdin the caller
// should read at most: MaxAlerts contexts of some 16 KiB each.
const MaxBulkInput = 16 << 20

// An InputError says that a payload or environment cannot be read: which
// field, variable or argument is wrong and what the source should send. The
// caller answers HTTP 400 or exits 2 with it, and records nothing.
type InputError struct {
	Source string // the Source constant
	Field  string // "alerts[2].status", "NAGIOS_NOTIFICATIONTYPE", "argument 4 (SERVICESTATE)", "body", ...
	Msg    string // what is wrong and what to send instead
}

func (e *InputError) Error() string {
	if e.Field == "" {
		return e.Source + ": " + e.Msg
	}
	return e.Source + ": " + e.Field + ": " + e.Msg
}

// Ignored is returned, as the error, for a notification that is neither a
// problem nor a recovery (Nagios or Checkmk ACKNOWLEDGEMENT, DOWNTIME*,
// FLAPPING*, CUSTOM, ALERTHANDLER; an Uptime Kuma PENDING or MAINTENANCE
// heartbeat; a test notification). It is not a failure: the caller records
// nothing, answers 2xx or exits 0, and may log the reason.
type Ignored struct {
	Source string
	Reason string // "ACKNOWLEDGEMENT notification", "Uptime Kuma test notification", ...
}

func (e *Ignored) Error() string {
	return e.Source + ": ignored: " + e.Reason + " (nothing to record)"
}

// Sources lists the sources Parse reads, in the order the README names them.
// Nagios and Checkmk are read from a notification command's environment
// instead (FromNagios, FromCheckmk).
func Sources() []string {
	return []string{SourceAlertmanager, SourceGrafana, SourceNodePing, SourceUptimeKuma, SourceGeneric}
}

// Parse reads one payload of an HTTP or file source (see Sources) into its
// alerts, at least one and at most MaxAlerts. The caller limits how much it
// reads (the receiver takes at most 1 MiB).
//
// The error is an *InputError for an unknown source or a payload that cannot
// be read, or an *Ignored for a notification that carries nothing to record.
func Parse(source string, body []byte) ([]Alert, error) {
	var (
		as  []Alert
		err error
	)
	switch source {
	case SourceAlertmanager:
		as, err = parseAlertmanager(body)
	case SourceGrafana:
		as, err = parseGrafana(body)
	case SourceNodePing:
		as, err = parseNodePing(body)
	case SourceUptimeKuma:
		as, err = parseUptimeKuma(body)
	case SourceGeneric:
		as, err = parseGeneric(body)
	default:
		return nil, &InputError{Source: source, Field: "source",
			Msg: fmt.Sprintf("unknown source %s; one of %v (nagios and checkmk run as notification commands)", quote(source), Sources())}
	}
	if err != nil {
		return nil, err
	}
	return finish(source, as)
}

// finish checks the count and normalizes every alert of one payload.
func finish(source string, as []Alert) ([]Alert, error) {
	if len(as) == 0 {
		return nil, &InputError{Source: source, Field: "alerts", Msg: "no alerts in the payload"}
	}
	if len(as) > MaxAlerts {
		return nil, tooMany(source, len(as))
	}
	for i := range as {
		as[i].Source = source
		as[i].normalize()
		if as[i].Key == "" {
			field := keyFields[source]
			if len(as) > 1 {
				field = fmt.Sprintf("alert %d: %s", i+1, field)
			}
			return nil, &InputError{Source: source, Field: field,
				Msg: "empty once blanks and control characters are removed; the key must name the alert"}
		}
	}
	return as, nil
}

// keyFields names, per source, what an alert's Key comes from.
var keyFields = map[string]string{
	SourceAlertmanager: "fingerprint", SourceGrafana: "fingerprint", SourceNodePing: "id",
	SourceUptimeKuma: "monitor.id", SourceGeneric: "dedup_key", SourceNagios: "HOSTNAME", SourceCheckmk: "HOSTNAME",
}

func tooMany(source string, n int) error {
	hint := ""
	if source == SourceAlertmanager || source == SourceGrafana {
		hint = " (Alertmanager: set max_alerts in the webhook_config)"
	}
	return &InputError{Source: source, Field: "alerts",
		Msg: fmt.Sprintf("%d alerts; at most %d in one payload%s", n, MaxAlerts, hint)}
}

// quote shows a value the source sent, cut short and with control
// characters escaped, for an error message.
func quote(s string) string {
	if len(s) > maxQuotedSize {
		s = truncate(s, maxQuotedSize)
	}
	return strconv.Quote(s)
}

// sortedKeys returns m's keys in order, for deterministic output.
func sortedKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
