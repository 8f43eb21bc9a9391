package runbook

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/incident-cli/incident/pagers"
	pageremail "github.com/incident-cli/incident/pagers/email"
	"github.com/incident-cli/incident/pagers/irc"
	"github.com/incident-cli/incident/pagers/pushover"
	"github.com/incident-cli/incident/pagers/twilio"
	pagerwebhook "github.com/incident-cli/incident/pagers/webhook"
	"github.com/incident-cli/incident/publishers"
)

// Pager is a configured [[pager]]: how staff are woken on one channel.
type Pager struct {
	Name   string
	Type   string
	Pager  pagers.Pager
	People []string // the names in its `to` table, sorted (none: it pages one audience, a channel or a list)
	// PerPerson: "NAME" pages each person of `to` as a page of its own (one
	// message each anyway: Pushover, Twilio, a webhook with `to`), so a
	// failure for one person is retried for that person alone. An email
	// to a table or an IRC channel post is one page for everyone.
	PerPerson bool
}

// Email reports whether the pager sends email (the only kind a minor
// incident may page by).
func (p *Pager) Email() bool { return p.Type == "email" }

// pagerType is what the runbook knows of a pager type.
type pagerType struct {
	new       pagers.Factory
	keys      []string
	perPerson bool
	display   string // how timelines name it: "IRC", "Pushover"
}

// pagerTypes is the registry of pager types, like channelTypes.
func pagerTypes() map[string]pagerType {
	return map[string]pagerType{
		"email":    {new: pageremail.New, keys: pageremail.Keys, display: "email"},
		"irc":      {new: irc.New, keys: irc.Keys, display: "IRC"},
		"pushover": {new: pushover.New, keys: pushover.Keys, perPerson: true, display: "Pushover"},
		"twilio":   {new: twilio.New, keys: twilio.Keys, perPerson: true, display: "Twilio"},
		"webhook":  {new: pagerwebhook.New, keys: pagerwebhook.Keys, perPerson: true, display: "webhook"},
	}
}

// PagerTypes lists the known pager types, sorted.
func PagerTypes() []string {
	var out []string
	for name := range pagerTypes() {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

// Pager finds a pager by name, or nil.
func (r *Runbook) Pager(name string) *Pager {
	for _, p := range r.Pagers {
		if p.Name == name {
			return p
		}
	}
	return nil
}

func (r *Runbook) pagerNames() []string {
	names := make([]string, len(r.Pagers))
	for i, p := range r.Pagers {
		names[i] = p.Name
	}
	return names
}

// checkName checks a pager name: it is written in escalation targets
// ("NAME:PERSON") and in page keys, so it holds no colon, slash, comma or
// space.
func checkName(name string) error {
	if strings.IndexFunc(name, func(r rune) bool {
		return r == ':' || r == '/' || r == ',' || r == ' ' || r == '\t' || r < ' '
	}) >= 0 {
		return fmt.Errorf("name %q: a pager's name holds no colon, slash, comma or space (it is written \"NAME:PERSON\" in escalation targets)", name)
	}
	return nil
}

// buildPagers builds every [[pager]] through its package, which decodes
// its own keys (unknown ones are reported with the channels').
func (r *Runbook) buildPagers(c *Config, md toml.MetaData, env publishers.Env, file string, src []byte) error {
	types := pagerTypes()
	r.Pagers = nil
	seen := map[string]bool{}
	for i, prim := range c.Pagers {
		where := fmt.Sprintf("[[pager]] %d", i+1)
		line := tableLine(src, "pager", i+1)
		var tn typeAndName
		if err := md.PrimitiveDecode(prim, &tn); err != nil {
			return typeError(file, err)
		}
		t, ok := types[tn.Type]
		switch {
		case tn.Type == "":
			return &ConfigError{File: file, Line: line, Msg: where + ": `type` is required (" + strings.Join(PagerTypes(), ", ") + ")"}
		case !ok:
			msg := fmt.Sprintf("%s: unknown type %q", where, tn.Type)
			if n := nearest(tn.Type, PagerTypes()); n != "" {
				msg += fmt.Sprintf("; did you mean %q?", n)
			}
			return &ConfigError{File: file, Line: line, Msg: msg + " (pager types: " + strings.Join(PagerTypes(), ", ") + ")"}
		}
		if tn.Name == "" {
			tn.Name = tn.Type
		}
		where += " (" + tn.Name + ")"
		if err := checkName(tn.Name); err != nil {
			return &ConfigError{File: file, Line: line, Msg: where + ": " + err.Error()}
		}
		if seen[tn.Name] {
			return &ConfigError{File: file, Line: line, Msg: fmt.Sprintf("%s: name %q is used by another pager; give each pager its own `name`", where, tn.Name)}
		}
		seen[tn.Name] = true
		e := env
		e.Name = tn.Name
		pg, err := t.new(prim, md, e)
		if err != nil {
			if i := strings.Index(err.Error(), "toml: line "); i >= 0 {
				ce := typeError(file, errors.New(err.Error()[i:])).(*ConfigError)
				ce.Msg = where + ": " + ce.Msg
				return ce
			}
			return &ConfigError{File: file, Line: line, Msg: fmt.Sprintf("%s: %v", where, err)}
		}
		p := &Pager{Name: tn.Name, Type: tn.Type, Pager: pg, PerPerson: t.perPerson}
		if pp, ok := pg.(pagers.People); ok {
			p.People = pp.People()
		}
		p.PerPerson = p.PerPerson && len(p.People) > 0
		r.Pagers = append(r.Pagers, p)
	}
	return nil
}

// pagingKeys returns the valid keys of a paging table ("pager#2",
// "escalation#1", "rota#3", "paging", "paging.quiet_hours"), for unknown
// key errors; ok is false for other tables.
func (r *Runbook) pagingKeys(table string) (keys []string, ok bool) {
	name, n := table, 0
	if i := strings.Index(table, "#"); i >= 0 {
		name = table[:i]
		fmt.Sscan(table[i+1:], &n)
	}
	switch name {
	case "pager":
		if n >= 1 && n <= len(r.Pagers) {
			return append([]string{"type"}, pagerTypes()[r.Pagers[n-1].Type].keys...), true
		}
		return []string{"type", "name"}, true
	case "escalation":
		return escalationKeys, true
	case "rota":
		return rotaKeys, true
	case "paging":
		return pagingConfigKeys, true
	case "paging.quiet_hours":
		return quietKeys, true
	}
	return nil, false
}

// tableLine is the line of the n-th [[name]] header in src (0 when not
// found): where errors about that table point.
func tableLine(src []byte, name string, n int) int {
	re := regexp.MustCompile(`^\s*\[\[\s*` + regexp.QuoteMeta(name) + `\s*\]\]`)
	seen := 0
	for i, l := range strings.Split(string(src), "\n") {
		if re.MatchString(l) {
			seen++
			if seen == n {
				return i + 1
			}
		}
	}
	return 0
}

// parseClockTime reads "08:00" as minutes after midnight.
func parseClockTime(s string) (int, error) {
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("%q is not a time of day like \"08:00\" or \"22:30\"", s)
	}
	return t.Hour()*60 + t.Minute(), nil
}

// parseOffset reads a duration that may be zero ("0m", "90s", "1h30m").
func parseOffset(s string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not a duration like \"0m\", \"5m\" or \"1h30m\"", s)
	}
	return d, nil
}
