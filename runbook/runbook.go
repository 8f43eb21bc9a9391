// Package runbook is the domain of incident: a runbook directory (config,
// templates, checklists, incident records), the incidents kept in it as
// append-only logs of events, and the engine that renders an update, records
// it and publishes it to every channel. Commands in cmd/incident are thin
// wrappers around it.
package runbook

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/incident-cli/incident/publishers"
	"github.com/incident-cli/incident/templates"
)

// ConfigFile is the name of a runbook's config file.
const ConfigFile = "incident.toml"

// Runbook is a loaded runbook: config, templates, channels and the store.
type Runbook struct {
	Dir        string // the runbook directory, or the state directory of the embedded default
	Embedded   bool   // no incident.toml was found: built-in defaults, static page only
	ConfigFile string // "" when embedded
	Config     *Config
	Zones      []*time.Location
	Templates  *templates.Set
	Store      *Store
	StatusPage *Channel
	Links      []*Channel
	Secrets    *publishers.Resolver
	Responder  string
	Host       string
	StateDir   string // the user's state directory for this runbook (caches, sessions)
	// RetryPolicy overrides DefaultRetry when its Attempts is set (tests).
	RetryPolicy RetryPolicy
	// Sync is set when the runbook is shared through git ([sync] git = true).
	Sync *Sync
	// Pagers and Escalation: how staff are paged (see escalation.go).
	Pagers     []*Pager
	Escalation *Escalation

	polls *pollCache

	now func() time.Time
}

// Channel is a configured channel.
type Channel struct {
	Name       string
	Type       string
	StatusPage bool
	Template   string // link channels: the template rendering their text
	Pub        publishers.Publisher
}

// Options are what a runbook takes from its surroundings.
type Options struct {
	Getenv    func(string) string // os.Getenv when nil
	Now       func() time.Time    // time.Now when nil
	HTTP      *http.Client        // a client with a 30s timeout when nil
	UserAgent string              // "incident/VERSION"
	StateDir  string              // the user's state dir for this runbook; StateDir, created and checked, when ""; used as given otherwise (tests)
	// LazyTemplates parses the templates at their first use instead of in
	// Open: for commands that only read the records (status, list), which
	// then never pay for it. A template that does not parse is reported by
	// the first command that renders.
	LazyTemplates bool
}

// Location says where a runbook is: a directory with incident.toml, or the
// embedded default with its state directory.
type Location struct {
	Dir      string
	Embedded bool
	Why      string // how it was found: "--runbook", "INCIDENT_RUNBOOK", "found upward", "config directory", "embedded default"
}

// Find resolves the runbook: flag, else INCIDENT_RUNBOOK, else the nearest
// directory upward from wd holding incident.toml, else the user's config
// directory, else the embedded default (state under the data directory).
func Find(flag string, getenv func(string) string, wd string) (Location, error) {
	check := func(dir, why string) (Location, error) {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return Location{}, err
		}
		if _, err := os.Stat(filepath.Join(abs, ConfigFile)); err != nil {
			return Location{}, fmt.Errorf("%s: no %s in %s; run `incident init %s` to create a runbook there", why, ConfigFile, abs, dir)
		}
		return Location{Dir: abs, Why: why}, nil
	}
	if flag != "" {
		return check(flag, "--runbook")
	}
	if v := getenv("INCIDENT_RUNBOOK"); v != "" {
		return check(v, "INCIDENT_RUNBOOK")
	}
	for d := wd; d != ""; {
		if _, err := os.Stat(filepath.Join(d, ConfigFile)); err == nil {
			return Location{Dir: d, Why: "found upward"}, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			break
		}
		d = parent
	}
	if cfg := configHome(getenv); cfg != "" {
		d := filepath.Join(cfg, "incident")
		if _, err := os.Stat(filepath.Join(d, ConfigFile)); err == nil {
			return Location{Dir: d, Why: "config directory"}, nil
		}
	}
	data := dataHome(getenv)
	if data == "" {
		return Location{}, errors.New("cannot find a home directory for the embedded runbook's state: set XDG_DATA_HOME or use --runbook")
	}
	return Location{Dir: filepath.Join(data, "incident"), Embedded: true, Why: "embedded default"}, nil
}

func configHome(getenv func(string) string) string {
	if v := getenv("XDG_CONFIG_HOME"); v != "" {
		return v
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".config")
	}
	return ""
}

func dataHome(getenv func(string) string) string {
	if v := getenv("XDG_DATA_HOME"); v != "" {
		return v
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".local", "share")
	}
	return ""
}

// Open loads the runbook at loc.
func Open(loc Location, opt Options) (*Runbook, error) {
	if opt.Getenv == nil {
		opt.Getenv = os.Getenv
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.HTTP == nil {
		opt.HTTP = &http.Client{Timeout: 30 * time.Second, CheckRedirect: sameHostRedirects}
	}
	if opt.StateDir == "" {
		d, err := StateDir(opt.Getenv, loc.Dir)
		if err != nil {
			return nil, err
		}
		if err := ensureStateDir(d); err != nil {
			return nil, err
		}
		opt.StateDir = d
	}
	if !loc.Embedded {
		// Before anything of the runbook is read: a config someone else
		// controls is not used at all (see Trust).
		if err := checkOwnership(loc.Dir, opt.Getenv); err != nil {
			return nil, err
		}
	}
	r := &Runbook{Dir: loc.Dir, Embedded: loc.Embedded, StateDir: opt.StateDir, now: opt.Now}
	r.Secrets = &publishers.Resolver{Getenv: opt.Getenv, Dir: loc.Dir, Allow: r.allowCommand}
	var (
		cfg *Config
		err error
	)
	if loc.Embedded {
		cfg, err = r.loadEmbedded(opt)
	} else {
		r.ConfigFile = filepath.Join(loc.Dir, ConfigFile)
		cfg, err = r.loadConfig(opt)
	}
	if err != nil {
		return nil, err
	}
	r.Config = cfg
	tdir := ""
	if !loc.Embedded {
		tdir = filepath.Join(loc.Dir, "templates")
	}
	if r.Templates == nil { // buildChannels loads them, with the zones
		if r.Templates, err = loadTemplates(tdir, r.Zones, opt.LazyTemplates); err != nil {
			return nil, err
		}
	}
	r.Store = &Store{Dir: filepath.Join(loc.Dir, "incidents"), CacheDir: opt.StateDir, Unique: cfg.Sync.Git}
	r.connectSite()
	if cfg.Sync.Git {
		r.Sync = &Sync{Dir: loc.Dir, Timeout: cfg.Sync.Timeout.Duration, Pushes: cfg.Sync.Pushes}
		if r.Sync.Timeout == 0 {
			r.Sync.Timeout = 20 * time.Second
		}
		if r.Sync.Pushes == 0 {
			r.Sync.Pushes = 3
		}
	}
	r.Responder = cfg.Responder
	if r.Responder == "" {
		r.Responder = opt.Getenv("USER")
	}
	if r.Responder == "" {
		r.Responder = "responder"
	}
	r.Host, _ = os.Hostname()
	return r, nil
}

func loadTemplates(dir string, zones []*time.Location, lazy bool) (*templates.Set, error) {
	if lazy {
		return templates.LoadLazy(dir, zones)
	}
	return templates.Load(dir, zones)
}

// Now is the runbook's clock.
func (r *Runbook) Now() time.Time { return r.now().UTC() }

// TemplatesDir and ChecklistsDir are where overrides live ("" when embedded).
func (r *Runbook) TemplatesDir() string  { return r.sub("templates") }
func (r *Runbook) ChecklistsDir() string { return r.sub("checklists") }

func (r *Runbook) sub(name string) string {
	if r.Embedded {
		return ""
	}
	return filepath.Join(r.Dir, name)
}

// Channels lists every channel, status page first.
func (r *Runbook) Channels() []*Channel {
	return append([]*Channel{r.StatusPage}, r.Links...)
}

// Channel finds a channel by name.
func (r *Runbook) Channel(name string) *Channel {
	for _, c := range r.Channels() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// ServiceName returns the display name of a service id (the id itself when
// the runbook lists no such service, as in the embedded default).
func (r *Runbook) ServiceName(id string) string {
	for _, s := range r.Config.Services {
		if s.ID == id {
			if s.Name != "" {
				return s.Name
			}
			return s.ID
		}
	}
	return id
}

// CheckServices validates service ids against the runbook's list. A runbook
// that lists no services accepts any name.
func (r *Runbook) CheckServices(ids []string) error {
	if len(r.Config.Services) == 0 {
		return nil
	}
	for _, id := range ids {
		ok := false
		var valid []string
		for _, s := range r.Config.Services {
			valid = append(valid, s.ID)
			if s.ID == id {
				ok = true
			}
		}
		if !ok {
			msg := fmt.Sprintf("unknown service %q", id)
			if n := nearest(id, valid); n != "" {
				msg += fmt.Sprintf("; did you mean %q?", n)
			}
			return fmt.Errorf("%s (the runbook lists: %v)", msg, valid)
		}
	}
	return nil
}

// sameHostRedirects follows a redirect only within the same host: Go drops
// Authorization on a cross-host redirect, but not a channel's own credential
// headers (Api-Key, ...), which must never reach another host.
func sameHostRedirects(req *http.Request, via []*http.Request) error {
	if len(via) >= 5 {
		return errors.New("too many redirects")
	}
	if req.URL.Host != via[0].URL.Host || (via[0].URL.Scheme == "https" && req.URL.Scheme != "https") {
		return http.ErrUseLastResponse
	}
	return nil
}
