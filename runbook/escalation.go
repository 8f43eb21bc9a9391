package runbook

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// EscalationLevel is one [[escalation]] table: a level of an escalation
// policy. A policy's levels are its tables in file order; `after` counts
// from when the incident was triggered, and never goes down from one level
// to the next.
//
//	[[escalation]]
//	after = "0m"
//	notify = ["ops-irc", "mail:oncall"]
//	[[escalation]]
//	after = "5m"
//	notify = ["phones:oncall"]
//	[[escalation]]
//	after = "15m"
//	notify = ["sms:lead", "call:lead"]
//	repeat = "10m"
type EscalationLevel struct {
	// Policy names the policy the level belongs to, so a route can pick it
	// (escalation = "NAME"); "" and "default" are the default policy.
	Policy string `toml:"policy"`
	// After is how long after the incident was triggered the level pages
	// ("0m": at once). Required after the first level.
	After string `toml:"after"`
	// Notify are the targets: "NAME" (everyone in the pager's `to`),
	// "NAME:PERSON", or "NAME:oncall" (the person the [[rota]] names when
	// the level comes due).
	Notify []string `toml:"notify"`
	// Repeat, on a policy's last level only, pages that level again this
	// often until someone acknowledges.
	Repeat string `toml:"repeat"`
	// Urgent asks for the pagers' loudest form (a Pushover emergency,
	// repeated until acknowledged). By default every level but the first
	// of a policy of several is urgent.
	Urgent *bool `toml:"urgent"`
}

// escalationKeys are the keys of [[escalation]].
var escalationKeys = []string{"policy", "after", "notify", "repeat", "urgent"}

// DefaultPolicy is the name of the policy of levels without `policy`.
const DefaultPolicy = "default"

// Escalation is the runbook's paging setup, checked: policies, the rota,
// quiet hours.
type Escalation struct {
	Policies []*Policy
	Rota     []*RotaShift
	Quiet    *QuietHours
}

// Policy is an escalation policy: its levels, in order.
type Policy struct {
	Name   string
	Levels []*Level
}

// Level is one checked level of a policy.
type Level struct {
	N       int // 1-based
	After   time.Duration
	Repeat  time.Duration // 0: does not repeat
	Urgent  bool
	Targets []Target

	urgentSet bool
}

// Target is one entry of a level's notify: a pager, and a person of its
// `to` ("" for everyone, OnCallPerson for the rota's person).
type Target struct {
	Pager  string
	Person string
}

// OnCallPerson is the person of a target that the [[rota]] names.
const OnCallPerson = "oncall"

func (t Target) String() string {
	if t.Person == "" {
		return t.Pager
	}
	return t.Pager + ":" + t.Person
}

// Policy returns the policy of that name ("" is the default), or nil.
func (e *Escalation) Policy(name string) *Policy {
	if e == nil {
		return nil
	}
	if name == "" {
		name = DefaultPolicy
	}
	for _, p := range e.Policies {
		if p.Name == name {
			return p
		}
	}
	return nil
}

func (e *Escalation) policyNames() []string {
	var out []string
	for _, p := range e.Policies {
		out = append(out, p.Name)
	}
	return out
}

// checkEscalation checks [[escalation]], [[rota]] and [paging] against the
// pagers, and the routes' choice of policy. Every error names the file and
// line of the table at fault, and the pager or person.
func (r *Runbook) checkEscalation(c *Config, file string, src []byte) error {
	esc := &Escalation{}
	zone := time.UTC
	if len(r.Zones) > 0 {
		zone = r.Zones[0]
	}
	if q := c.Paging.QuietHours; q != nil {
		if q.From == "" || q.To == "" {
			return &ConfigError{File: file, Msg: "[paging.quiet_hours]: give `from` and `to`, like from = \"22:00\" and to = \"07:00\""}
		}
		var err error
		if q.win, err = newWindow(q.Days, q.From, q.To, q.Zone, zone); err != nil {
			return &ConfigError{File: file, Msg: "[paging.quiet_hours]: " + err.Error()}
		}
		esc.Quiet = q
	}
	for i := range c.Rota {
		s := &c.Rota[i]
		if err := s.check(zone); err != nil {
			return &ConfigError{File: file, Line: tableLine(src, "rota", i+1), Msg: fmt.Sprintf("[[rota]] %d: %v", i+1, err)}
		}
		esc.Rota = append(esc.Rota, s)
	}
	for i := range c.Escalation {
		lv := &c.Escalation[i]
		line := tableLine(src, "escalation", i+1)
		fail := func(format string, args ...any) error {
			return &ConfigError{File: file, Line: line, Msg: fmt.Sprintf("[[escalation]] %d: ", i+1) + fmt.Sprintf(format, args...)}
		}
		name := lv.Policy
		if name == "" {
			name = DefaultPolicy
		}
		if name == "off" || strings.ContainsAny(name, " /:") {
			return fail("policy %q: a policy's name is a word other than \"off\" (routes pick it with escalation = %q)", name, name)
		}
		pol := esc.Policy(name)
		if pol == nil {
			pol = &Policy{Name: name}
			esc.Policies = append(esc.Policies, pol)
		}
		l := &Level{N: len(pol.Levels) + 1}
		var err error
		switch {
		case lv.After == "" && l.N == 1:
		case lv.After == "":
			return fail("`after` is required: how long after the alert level %d of policy %q pages, like after = \"5m\"", l.N, name)
		default:
			if l.After, err = parseOffset(lv.After); err != nil {
				return fail("after: %v", err)
			}
		}
		if l.N > 1 {
			prev := pol.Levels[l.N-2]
			if l.After < prev.After {
				return fail("after = %q comes before level %d's %s: levels go in order of `after`", lv.After, prev.N, prev.After)
			}
			if prev.Repeat > 0 {
				return fail("level %d of policy %q repeats, so it must be the last: move `repeat` to the last level", prev.N, name)
			}
		}
		if lv.Repeat != "" {
			if l.Repeat, err = time.ParseDuration(lv.Repeat); err != nil || l.Repeat < 30*time.Second {
				return fail("repeat: %q is not a duration of at least 30s, like \"10m\"", lv.Repeat)
			}
		}
		if len(lv.Notify) == 0 {
			return fail("`notify` is required: the pagers (and people) to page, like notify = [\"ops-irc\", \"phones:oncall\"]")
		}
		for _, raw := range lv.Notify {
			t, err := r.parseTarget(raw, len(esc.Rota) > 0)
			if err != nil {
				return fail("notify %q: %v", raw, err)
			}
			if !slices.Contains(l.Targets, t) {
				l.Targets = append(l.Targets, t)
			}
		}
		if lv.Urgent != nil {
			l.Urgent = *lv.Urgent
		}
		l.urgentSet = lv.Urgent != nil
		pol.Levels = append(pol.Levels, l)
	}
	for _, pol := range esc.Policies {
		for _, l := range pol.Levels {
			if !l.urgentSet {
				l.Urgent = l.N > 1 || len(pol.Levels) == 1
			}
		}
	}
	// Every person the rota can name must be reachable by each pager that
	// pages "NAME:oncall".
	for _, pol := range esc.Policies {
		for _, l := range pol.Levels {
			for _, t := range l.Targets {
				if t.Person != OnCallPerson {
					continue
				}
				p := r.Pager(t.Pager)
				for i, s := range esc.Rota {
					for _, who := range s.people() {
						if !slices.Contains(p.People, who) {
							return &ConfigError{File: file, Line: tableLine(src, "rota", i+1), Msg: fmt.Sprintf(
								"[[rota]] %d names %q, who is not in the `to` table of pager %q (policy %q pages %q): add them there (%s)",
								i+1, who, p.Name, pol.Name, t.String(), strings.Join(p.People, ", "))}
						}
					}
				}
			}
		}
	}
	for i, rt := range c.Alerts.Routes {
		where := fmt.Sprintf("[[alerts.route]] %d (%s)", i+1, rt.Name)
		line := tableLine(src, "alerts.route", i+1)
		name := rt.Escalation
		if name == "off" {
			continue
		}
		pol := esc.Policy(name)
		if pol == nil && name != "" && name != DefaultPolicy {
			msg := fmt.Sprintf("%s: escalation %q: no [[escalation]] has policy = %q", where, name, name)
			if n := nearest(name, esc.policyNames()); n != "" {
				msg += fmt.Sprintf("; did you mean %q?", n)
			}
			return &ConfigError{File: file, Line: line, Msg: msg + " (use \"off\" for no paging)"}
		}
		if pol != nil && rt.Severity == "minor" && !r.pagesByEmail(pol) {
			return &ConfigError{File: file, Line: line, Msg: fmt.Sprintf(
				"%s is minor, and a minor incident pages by email only, but policy %q has no email pager: add one to it, pick another with escalation = \"NAME\", or set escalation = \"off\"", where, pol.Name)}
		}
	}
	r.Escalation = esc
	return nil
}

// parseTarget reads "NAME", "NAME:PERSON" or "NAME:oncall".
func (r *Runbook) parseTarget(raw string, rota bool) (Target, error) {
	name, person, _ := strings.Cut(strings.TrimSpace(raw), ":")
	p := r.Pager(name)
	if p == nil {
		msg := fmt.Sprintf("no [[pager]] is named %q", name)
		if n := nearest(name, r.pagerNames()); n != "" {
			msg += fmt.Sprintf("; did you mean %q?", n)
		}
		if len(r.Pagers) == 0 {
			return Target{}, fmt.Errorf("%s: declare it with a [[pager]] table (name = %q and its type)", msg, name)
		}
		return Target{}, fmt.Errorf("%s (pagers: %s)", msg, strings.Join(r.pagerNames(), ", "))
	}
	t := Target{Pager: name, Person: person}
	switch {
	case person == "":
	case strings.EqualFold(person, OnCallPerson):
		t.Person = OnCallPerson
		if !rota {
			return t, fmt.Errorf("%q pages the person on call, but there is no [[rota]] saying who that is", raw)
		}
		if len(p.People) == 0 {
			return t, fmt.Errorf("pager %q has no `to` table of people, so it cannot page one person", name)
		}
	case len(p.People) == 0:
		return t, fmt.Errorf("pager %q has no `to` table of people, so it cannot page %q alone: write %q", name, person, name)
	case !slices.Contains(p.People, person):
		msg := fmt.Sprintf("%q is not in the `to` table of pager %q", person, name)
		if n := nearest(person, p.People); n != "" {
			msg += fmt.Sprintf("; did you mean %q?", n)
		}
		return t, fmt.Errorf("%s (people: %s)", msg, strings.Join(p.People, ", "))
	}
	return t, nil
}

// pagesByEmail reports whether a policy has an email pager.
func (r *Runbook) pagesByEmail(pol *Policy) bool {
	for _, l := range pol.Levels {
		for _, t := range l.Targets {
			if p := r.Pager(t.Pager); p != nil && p.Email() {
				return true
			}
		}
	}
	return false
}
