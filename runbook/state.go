package runbook

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/incident-cli/incident/publishers"
)

// The service states an update may set (Statuspage's component statuses).
const (
	Operational         = publishers.Operational
	UnderMaintenance    = publishers.UnderMaintenance
	DegradedPerformance = publishers.DegradedPerformance
	PartialOutage       = publishers.PartialOutage
	MajorOutage         = publishers.MajorOutage
)

// DefaultState is the state an update puts an affected service in when it
// does not say: minor -> degraded performance, major -> partial outage,
// critical -> major outage. An incident without a severity counts as major.
func DefaultState(severity string) string {
	switch severity {
	case "minor":
		return DegradedPerformance
	case "critical":
		return MajorOutage
	}
	return PartialOutage
}

// ParseStates reads --state values, each SERVICE=STATE (imap=partial_outage;
// "partial-outage" and "Partial outage" are read the same way).
func ParseStates(values []string) (map[string]string, error) {
	if len(values) == 0 {
		return nil, nil
	}
	out := map[string]string{}
	for _, v := range values {
		svc, st, ok := strings.Cut(v, "=")
		svc = strings.TrimSpace(svc)
		if !ok || svc == "" {
			return nil, fmt.Errorf("--state %q: write it as SERVICE=STATE, e.g. imap=partial_outage", v)
		}
		norm := strings.NewReplacer("-", "_", " ", "_").Replace(strings.ToLower(strings.TrimSpace(st)))
		if !slices.Contains(publishers.States, norm) {
			msg := fmt.Sprintf("--state %s: unknown state %q", v, st)
			if n := nearest(norm, publishers.States); n != "" {
				msg += fmt.Sprintf("; did you mean %q?", n)
			}
			return nil, fmt.Errorf("%s (states: %s)", msg, strings.Join(publishers.States, ", "))
		}
		if _, dup := out[svc]; dup {
			return nil, fmt.Errorf("--state names service %q twice", svc)
		}
		out[svc] = norm
	}
	return out, nil
}

// checkStates validates a draft's states against the incident as the draft
// leaves it: known services the incident affects, and only operational ones
// when it closes (a resolved incident holds no service down).
func (r *Runbook) checkStates(inc *Incident, d Draft) error {
	services := inc.Services
	if d.Services != nil {
		services = d.Services
	}
	for _, svc := range sortedKeys(d.States) {
		st := d.States[svc]
		if err := r.CheckServices([]string{svc}); err != nil {
			return fmt.Errorf("state %s=%s: %w", svc, st, err)
		}
		if !slices.Contains(publishers.States, st) {
			return fmt.Errorf("state %s=%s: unknown state (states: %s)", svc, st, strings.Join(publishers.States, ", "))
		}
		if !slices.Contains(services, svc) {
			return fmt.Errorf("state %s=%s: %s is not among the incident's services (%s); name it as an affected service first",
				svc, st, svc, cmp.Or(strings.Join(services, ", "), "none"))
		}
		if d.Status == Resolved && st != Operational {
			return fmt.Errorf("state %s=%s: closing resolves the incident and sets every service operational; to keep %s %s, publish an update instead of closing",
				svc, st, svc, publishers.StateWords(st))
		}
	}
	return nil
}

// nextStates is what an update records for each affected service: the
// draft's state, else the state the service is in now (while the incident
// is open and its severity has not changed since), else the severity's
// default. Closing sets every service operational.
func nextStates(inc *Incident, d Draft) map[string]string {
	services := inc.Services
	if d.Services != nil {
		services = d.Services
	}
	if len(services) == 0 {
		return nil
	}
	if inc.Maintenance != nil {
		return maintenanceStates(services, d.Status)
	}
	severity := cmp.Or(d.Severity, inc.Severity)
	carry := inc.Open() && inc.States != nil && severity == inc.statesSeverity
	out := make(map[string]string, len(services))
	for _, svc := range services {
		switch {
		case d.Status == Resolved:
			out[svc] = Operational
		case d.States[svc] != "":
			out[svc] = d.States[svc]
		case carry && inc.States[svc] != "":
			out[svc] = inc.States[svc]
		default:
			out[svc] = DefaultState(severity)
		}
	}
	return out
}

// foldStates is the states update e sets on inc (already folded with e's
// fields and status): as recorded, else (records older than states) the
// severity's default; every service operational once resolved.
func foldStates(inc *Incident, e Event) map[string]string {
	if len(inc.Services) == 0 {
		return nil
	}
	out := make(map[string]string, len(inc.Services))
	for _, svc := range inc.Services {
		switch st := e.States[svc]; {
		case closedStatus(inc.Status):
			out[svc] = Operational
		case slices.Contains(publishers.States, st):
			out[svc] = st
		case inc.Maintenance != nil:
			out[svc] = maintenanceState(inc.Status)
		default:
			out[svc] = DefaultState(inc.Severity)
		}
	}
	return out
}

// StateOf returns the state the incident holds a service in now: its
// recorded state, else (a service added since the last update) the
// severity's default; operational when the incident is resolved or does
// not affect the service.
func (inc *Incident) StateOf(svc string) string {
	if !inc.Open() || !slices.Contains(inc.Services, svc) {
		return Operational
	}
	if st := inc.States[svc]; st != "" {
		return st
	}
	return DefaultState(inc.Severity)
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// SuggestStates returns the state update d would record for each affected
// service: what the compose form offers as each service's default. inc is
// nil for a new incident.
func SuggestStates(inc *Incident, d Draft) map[string]string {
	if inc == nil {
		inc = &Incident{Status: Investigating, Services: d.Services, Severity: d.Severity}
	}
	return nextStates(inc, d)
}
