package runbook

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/incident-cli/incident/publishers"
	"github.com/incident-cli/incident/publishers/bluesky"
	"github.com/incident-cli/incident/publishers/discourse"
	"github.com/incident-cli/incident/publishers/email"
	"github.com/incident-cli/incident/publishers/hugo"
	"github.com/incident-cli/incident/publishers/mastodon"
	"github.com/incident-cli/incident/publishers/static"
	"github.com/incident-cli/incident/publishers/statuspage"
	"github.com/incident-cli/incident/publishers/twitter"
	"github.com/incident-cli/incident/publishers/webhook"
	"github.com/incident-cli/incident/publishers/wordpress"
	"github.com/incident-cli/incident/templates"
)

// channelType is what the runbook knows of a channel type.
type channelType struct {
	statusPage bool
	template   string // link channels: default template; "" for status pages
	new        publishers.Factory
	keys       []string
}

// channelTypes is the registry of channel types. It is a function, not a
// package variable filled by init, so nothing registers itself behind the
// reader's back.
func channelTypes() map[string]channelType {
	return map[string]channelType{
		"static":     {statusPage: true, new: static.New, keys: static.Keys},
		"wordpress":  {statusPage: true, new: wordpress.New, keys: wordpress.Keys},
		"statuspage": {statusPage: true, new: statuspage.New, keys: statuspage.Keys},
		"hugo":       {statusPage: true, new: hugo.New, keys: hugo.Keys},
		"discourse":  {template: templates.ForumFile, new: discourse.New, keys: discourse.Keys},
		"mastodon":   {template: templates.SocialFile, new: mastodon.New, keys: mastodon.Keys},
		"webhook":    {template: templates.SocialFile, new: webhook.New, keys: webhook.Keys},
		"twitter":    {template: templates.SocialFile, new: twitter.New, keys: twitter.Keys},
		"bluesky":    {template: templates.SocialFile, new: bluesky.New, keys: bluesky.Keys},
		"email":      {template: templates.EmailFile, new: email.New, keys: email.Keys},
	}
}

// ChannelTypes lists the known types, status pages first, for help and errors.
func ChannelTypes() (statusPages, links []string) {
	for name, t := range channelTypes() {
		if t.statusPage {
			statusPages = append(statusPages, name)
		} else {
			links = append(links, name)
		}
	}
	slices.Sort(statusPages)
	slices.Sort(links)
	return statusPages, links
}

// embeddedConfig is the embedded default runbook.
const embeddedConfig = `
[status_page]
type = "static"
name = "status page"
`

func (r *Runbook) loadEmbedded(opt Options) (*Config, error) {
	var c Config
	md, err := toml.Decode(embeddedConfig, &c)
	if err != nil {
		return nil, err
	}
	c.Organization = DefaultOrganization
	c.FirstUpdateWithin.Duration = DefaultFirstUpdateWithin
	c.Cadence.Duration = DefaultCadence
	c.MonitoringMax.Duration = DefaultMonitoringMax
	if err := r.setZones(&c, ""); err != nil {
		return nil, err
	}
	if err := r.checkAlerts(&c, "(embedded default)"); err != nil {
		return nil, err
	}
	if err := r.buildChannels(&c, md, opt, "(embedded default)", nil); err != nil {
		return nil, err
	}
	return &c, nil
}

func (r *Runbook) loadConfig(opt Options) (*Config, error) {
	c, md, src, err := decodeConfig(r.ConfigFile)
	if err != nil {
		return nil, err
	}
	if err := r.setZones(c, r.ConfigFile); err != nil {
		return nil, err
	}
	if err := checkServices(r.ConfigFile, c.Services); err != nil {
		return nil, err
	}
	if err := r.checkAlerts(c, r.ConfigFile); err != nil {
		return nil, err
	}
	if err := r.buildPagers(c, md, r.channelEnv(c, opt), r.ConfigFile, src); err != nil {
		return nil, err
	}
	if err := r.buildChannels(c, md, opt, r.ConfigFile, src); err != nil {
		return nil, err
	}
	if err := r.checkEscalation(c, r.ConfigFile, src); err != nil {
		return nil, err
	}
	return c, nil
}

func (r *Runbook) setZones(c *Config, file string) error {
	if len(c.Zones) == 0 {
		c.Zones = []string{"Local", "UTC"}
	}
	seen := map[string]bool{}
	for _, z := range c.Zones {
		loc, err := time.LoadLocation(z)
		if err != nil {
			return &ConfigError{File: file, Msg: fmt.Sprintf("zones: unknown time zone %q; use IANA names like \"Europe/Oslo\" or \"UTC\"", z)}
		}
		// Two names for one zone (Local on a UTC machine) show once.
		key := time.Date(2026, 1, 1, 0, 0, 0, 0, loc).Format("MST-0700") + time.Date(2026, 7, 1, 0, 0, 0, 0, loc).Format("MST-0700")
		if seen[key] {
			continue
		}
		seen[key] = true
		r.Zones = append(r.Zones, loc)
	}
	return nil
}

func checkServices(file string, svcs []Service) error {
	seen := map[string]bool{}
	for i, s := range svcs {
		if s.ID == "" {
			return &ConfigError{File: file, Msg: fmt.Sprintf("[[service]] %d has no id", i+1)}
		}
		if seen[s.ID] {
			return &ConfigError{File: file, Msg: fmt.Sprintf("[[service]] id %q appears twice", s.ID)}
		}
		seen[s.ID] = true
	}
	return nil
}

type typeAndName struct {
	Type string `toml:"type"`
	Name string `toml:"name"`
}

// buildChannels builds the status page and link channels, then reports
// every key nobody decoded.
func (r *Runbook) buildChannels(c *Config, md toml.MetaData, opt Options, file string, src []byte) error {
	types := channelTypes()
	env := r.channelEnv(c, opt)
	statusPages, links := ChannelTypes()
	names := map[string]bool{}
	// The template set, parsed once: channels take the per-type templates
	// it holds (mastodon.txt.tmpl, ...).
	if r.Templates == nil {
		var err error
		if r.Templates, err = loadTemplates(r.TemplatesDir(), r.Zones, opt.LazyTemplates); err != nil {
			return err
		}
	}
	build := func(md toml.MetaData, prim toml.Primitive, where string, wantStatus bool) (*Channel, error) {
		var tn typeAndName
		if err := md.PrimitiveDecode(prim, &tn); err != nil {
			return nil, typeError(file, err)
		}
		t, ok := types[tn.Type]
		switch {
		case tn.Type == "":
			return nil, &ConfigError{File: file, Msg: where + ": `type` is required"}
		case !ok || t.statusPage != wantStatus:
			valid := links
			if wantStatus {
				valid = statusPages
			}
			msg := fmt.Sprintf("%s: unknown type %q", where, tn.Type)
			if n := nearest(tn.Type, valid); n != "" {
				msg += fmt.Sprintf("; did you mean %q?", n)
			}
			return nil, &ConfigError{File: file, Msg: msg + " (valid: " + strings.Join(valid, ", ") + ")"}
		}
		if tn.Name == "" {
			tn.Name = tn.Type
		}
		if names[tn.Name] {
			return nil, &ConfigError{File: file, Msg: fmt.Sprintf("%s: name %q is used by another channel; give each channel its own `name`", where, tn.Name)}
		}
		names[tn.Name] = true
		e := env
		e.Name = tn.Name
		pub, err := t.new(prim, md, e)
		if err != nil {
			var ce *ConfigError
			if errors.As(err, &ce) {
				return nil, err
			}
			if i := strings.Index(err.Error(), "toml: line "); i >= 0 {
				ce := typeError(file, errors.New(err.Error()[i:])).(*ConfigError)
				ce.Msg = where + ": " + ce.Msg
				return nil, ce
			}
			return nil, &ConfigError{File: file, Msg: fmt.Sprintf("%s (%s): %v", where, tn.Name, err)}
		}
		ch := &Channel{Name: tn.Name, Type: tn.Type, StatusPage: t.statusPage, Pub: pub}
		if !t.statusPage {
			var tpl struct {
				Template string `toml:"template"`
			}
			_ = md.PrimitiveDecode(prim, &tpl)
			ch.Template = tpl.Template
			if ch.Template == "" {
				ch.Template = t.template
				if r.Templates.Has(tn.Type + ".txt.tmpl") {
					ch.Template = tn.Type + ".txt.tmpl"
				}
			}
		}
		return ch, nil
	}
	if md.IsDefined("status_page") {
		ch, err := build(md, c.StatusPage, "[status_page]", true)
		if err != nil {
			return err
		}
		r.StatusPage = ch
	} else {
		// No status page configured: the built-in static page.
		var d struct{ S toml.Primitive }
		dmd, _ := toml.Decode("[s]\ntype = \"static\"\nname = \"status page\"\n", &d)
		ch, err := build(dmd, d.S, "[status_page]", true)
		if err != nil {
			return err
		}
		r.StatusPage = ch
	}
	for i, prim := range c.Channels {
		ch, err := build(md, prim, fmt.Sprintf("[[channel]] %d", i+1), false)
		if err != nil {
			return err
		}
		r.Links = append(r.Links, ch)
	}
	if l, ok := r.StatusPage.Pub.(publishers.Locator); ok && len(r.Links) > 0 {
		if u := l.URLFor("x", publishers.KindUpdate); strings.HasPrefix(u, "file://") {
			return &ConfigError{File: file, Msg: "[status_page] needs `base_url` (its public URL): the link channels point customers to it, and they cannot open a file on this machine"}
		}
	}
	if src == nil {
		return nil
	}
	return unknownKeys(file, src, md, func(table string) []string {
		switch {
		case table == "":
			return configKeys
		case table == "sync":
			return syncKeys
		case table == "alerts":
			return alertsKeys
		case table == "maintenance":
			return maintenanceKeys
		case table == "alerts.route" || strings.HasPrefix(table, "alerts.route#"):
			return routeKeys
		case table == "service" || strings.HasPrefix(table, "service#"):
			return []string{"id", "name", "since"}
		case table == "status_page":
			return append([]string{"type"}, types[r.StatusPage.Type].keys...)
		case strings.HasPrefix(table, "channel#"):
			var n int
			fmt.Sscan(strings.TrimPrefix(table, "channel#"), &n)
			if n >= 1 && n <= len(r.Links) {
				return append([]string{"type"}, types[r.Links[n-1].Type].keys...)
			}
		}
		if keys, ok := r.pagingKeys(table); ok {
			return keys
		}
		return nil
	})
}

// channelEnv is what channels and pagers get from the runbook.
func (r *Runbook) channelEnv(c *Config, opt Options) publishers.Env {
	svcs := make([]publishers.Service, len(c.Services))
	for i, s := range c.Services {
		svcs[i] = publishers.Service{ID: s.ID, Name: s.Name}
		if svcs[i].Name == "" {
			svcs[i].Name = s.ID
		}
	}
	return publishers.Env{Dir: r.Dir, Records: filepath.Join(r.Dir, "incidents"), StateDir: opt.StateDir, UserAgent: opt.UserAgent, HTTP: opt.HTTP,
		Organization: c.Organization, Services: svcs, Secrets: r.Secrets, Now: opt.Now,
		// Templates are loaded after the channels: the calls read them then.
		When:   func(t time.Time) string { return r.Templates.When(t) },
		Window: func(a, b time.Time) string { return r.Templates.Window(a, b) }}
}

func shortHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:6])
}
