package runbook

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/agnivade/levenshtein"
)

// Config is incident.toml.
type Config struct {
	Organization      string            `toml:"organization"`
	Zones             []string          `toml:"zones"`
	FirstUpdateWithin Duration          `toml:"first_update_within"`
	Cadence           Duration          `toml:"cadence"`
	MonitoringMax     Duration          `toml:"monitoring_max"` // an open incident with no public update for longer is stale
	Responder         string            `toml:"responder"`
	Services          []Service         `toml:"service"`
	StatusPage        toml.Primitive    `toml:"status_page"`
	Channels          []toml.Primitive  `toml:"channel"`
	Sync              SyncConfig        `toml:"sync"`
	Alerts            AlertsConfig      `toml:"alerts"`
	Maintenance       MaintenanceConfig `toml:"maintenance"`
	// Paging staff: [[pager]] tables (decoded by their packages), the
	// escalation levels, the rota and [paging] (see escalation.go).
	Pagers     []toml.Primitive  `toml:"pager"`
	Escalation []EscalationLevel `toml:"escalation"`
	Rota       []RotaShift       `toml:"rota"`
	Paging     PagingConfig      `toml:"paging"`
}

// Service is one [[service]] of the runbook.
type Service struct {
	ID   string `toml:"id"`
	Name string `toml:"name"`
	// Since is when the service began, for its 90-day bars: days before it
	// say "No data exists for this day". Default: its first mention in the
	// record.
	Since Date `toml:"since"`
}

// Duration is a time.Duration written as "15m" in TOML.
type Duration struct{ time.Duration }

// UnmarshalText parses "15m", "1h30m".
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration (write it like \"15m\" or \"1h30m\")", b)
	}
	if v <= 0 {
		return fmt.Errorf("%q must be positive", b)
	}
	d.Duration = v
	return nil
}

// MarshalText writes the duration back.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// Defaults of config values.
const (
	DefaultFirstUpdateWithin = 15 * time.Minute
	DefaultCadence           = 30 * time.Minute
	DefaultMonitoringMax     = 24 * time.Hour
	DefaultOrganization      = "Our services"
)

// ConfigError is a problem in incident.toml, with its place.
type ConfigError struct {
	File string
	Line int // 0 when unknown
	Col  int
	Msg  string
}

func (e *ConfigError) Error() string {
	switch {
	case e.Line > 0 && e.Col > 0:
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
	case e.Line > 0:
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// decodeConfig reads and strictly decodes incident.toml. Channel tables stay
// primitives, decoded by their channel packages; Check finishes the job.
func decodeConfig(path string) (*Config, toml.MetaData, []byte, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, toml.MetaData{}, nil, err
	}
	var c Config
	md, err := toml.Decode(string(src), &c)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, md, src, &ConfigError{File: path, Line: pe.Position.Line, Col: pe.Position.Col, Msg: pe.Message}
		}
		return nil, md, src, typeError(path, err)
	}
	if c.FirstUpdateWithin.Duration == 0 {
		c.FirstUpdateWithin.Duration = DefaultFirstUpdateWithin
	}
	if c.Cadence.Duration == 0 {
		c.Cadence.Duration = DefaultCadence
	}
	if c.MonitoringMax.Duration == 0 {
		c.MonitoringMax.Duration = DefaultMonitoringMax
	}
	if c.Organization == "" {
		c.Organization = DefaultOrganization
	}
	return &c, md, src, nil
}

// lineRE is compiled at first use (an error), not when the program starts.
var lineRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^toml: line (\d+)(?: \(last key "([^"]*)"\))?: (.*)$`)
})

// typeError turns BurntSushi's "toml: line 3 (last key ...): ..." into a ConfigError.
func typeError(path string, err error) error {
	m := lineRE().FindStringSubmatch(err.Error())
	if m == nil {
		return &ConfigError{File: path, Msg: strings.TrimPrefix(err.Error(), "toml: ")}
	}
	var line int
	fmt.Sscan(m[1], &line)
	msg := m[3]
	if m[2] != "" {
		msg = "`" + m[2] + "`: " + msg
	}
	return &ConfigError{File: path, Line: line, Msg: msg}
}

// unknownKeys reports keys no one decoded, with the line they stand on and
// the nearest valid key. valid maps a table path ("", "service",
// "status_page", "channel#2") to its valid keys.
func unknownKeys(path string, src []byte, md toml.MetaData, valid func(table string) []string) error {
	undecoded := md.Undecoded()
	if len(undecoded) == 0 {
		return nil
	}
	lines := keyLines(src, md.Keys())
	var errs []error
	for _, k := range undecoded {
		// A table whose keys are all undecoded is reported through its keys.
		if md.Type(k...) == "Hash" || md.Type(k...) == "ArrayHash" {
			continue
		}
		table := strings.Join(k[:len(k)-1], ".")
		loc := lines[k.String()]
		if t, ok := loc.table[table]; ok {
			table = t
		}
		name := k[len(k)-1]
		msg := fmt.Sprintf("unknown key `%s`", k.String())
		if t, n, ok := strings.Cut(table, "#"); ok && (t == "channel" || t == "pager" || t == "escalation" || t == "rota") {
			msg = fmt.Sprintf("unknown key `%s` in [[%s]] %s", name, t, n)
		}
		if s := nearest(name, valid(table)); s != "" {
			msg += fmt.Sprintf("; did you mean `%s`?", s)
		} else if keys := valid(table); len(keys) > 0 {
			msg += "; valid keys here: " + strings.Join(keys, ", ")
		}
		errs = append(errs, &ConfigError{File: path, Line: loc.line, Msg: msg})
	}
	return errors.Join(errs...)
}

type keyLoc struct {
	line  int
	table map[string]string // parent table path -> indexed name ("channel" -> "channel#2")
}

// keyLines finds the line of each key. BurntSushi/toml keeps positions to
// itself, but lists keys in document order, so a cursor over the lines finds
// each one in turn. Tables of arrays get their index: channel#1, channel#2.
func keyLines(src []byte, keys []toml.Key) map[string]keyLoc {
	lines := strings.Split(string(src), "\n")
	out := map[string]keyLoc{}
	cursor := 0
	arrayIndex := map[string]int{}
	for _, k := range keys {
		name := k[len(k)-1]
		pat := regexp.MustCompile(`^\s*(\[\[?\s*)?("?)` + regexp.QuoteMeta(name) + `("?)\s*(=|\]|\.)`)
		for i := cursor; i < len(lines); i++ {
			l := lines[i]
			if pat.MatchString(l) || strings.Contains(l, "."+name) {
				cursor = i
				if strings.HasPrefix(strings.TrimSpace(l), "[[") {
					arrayIndex[k.String()]++
				}
				break
			}
		}
		loc := keyLoc{line: cursor + 1, table: map[string]string{}}
		parent := strings.Join(k[:len(k)-1], ".")
		if n, ok := arrayIndex[parent]; ok {
			loc.table[parent] = fmt.Sprintf("%s#%d", parent, n)
		}
		out[k.String()] = loc
	}
	return out
}

// nearest returns the valid key closest to name, if it is close enough to be
// a typo.
func nearest(name string, valid []string) string {
	best, bestD := "", 1<<30
	for _, v := range valid {
		if d := levenshtein.ComputeDistance(name, v); d < bestD {
			best, bestD = v, d
		}
	}
	if bestD <= max(2, len(name)/3) {
		return best
	}
	return ""
}

// configKeys are the top-level keys of incident.toml.
var configKeys = []string{"organization", "zones", "first_update_within", "cadence", "monitoring_max", "responder", "service", "status_page", "channel", "sync", "alerts", "maintenance", "pager", "escalation", "rota", "paging"}
