// Package templates renders the texts every channel receives. The defaults
// are embedded; a runbook's templates/ directory overrides any of them by file
// name (and a {{define}} in an override replaces the built-in one). Markdown
// output becomes HTML through goldmark with everything the responder typed
// escaped. The package knows nothing of the runbook: Data is its own.
package templates

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"text/template"
	"time"

	"github.com/incident-cli/incident/internal/regular"
)

// maxTemplateFile is the largest template file read from a runbook: the
// built-in ones are a few KiB at most.
const maxTemplateFile = 256 << 10

//go:embed defaults/*.tmpl
var defaults embed.FS

// Names of the templates the engine renders.
const (
	StatusFile = "status.md.tmpl" // the canonical update (status page), Markdown
	TitleFile  = "title.txt.tmpl" // title of the status post and forum topic
	ForumFile  = "forum.md.tmpl"  // forum post linking to the status page
	SocialFile = "social.txt.tmpl"
	EmailFile  = "email.md.tmpl" // a mail to the announcement list (plain text, and HTML from it)
	RFOFile    = "rfo.md.tmpl"
	// MessageFile is the message the compose form starts with.
	MessageFile = "message.md.tmpl"
	// AlertFile is the first message of an incident an alert opened: the
	// automatic [Investigating] update, and the compose form's start.
	AlertFile = "alert.md.tmpl"
	// MaintenanceFile is the default message of each phase of a scheduled
	// maintenance window (.Incident.Maintenance.Phase: scheduled,
	// reminder, in_progress, completed, cancelled).
	MaintenanceFile = "maintenance.md.tmpl"
)

// Defaults returns the embedded default templates' file system (for init).
func Defaults() fs.FS {
	sub, _ := fs.Sub(defaults, "defaults")
	return sub
}

// Set is a parsed set of templates: the defaults, then the runbook's overrides.
type Set struct {
	zones   []*time.Location
	sources map[string]string // template name -> file it came from, for errors
	files   []file            // the overrides, in name order

	parse    sync.Once
	t        *template.Template
	parseErr error
}

// file is an override read from the runbook's templates/ folder.
type file struct{ path, text string }

// Load parses the embedded defaults and then every *.tmpl in dir (which may
// be "" or missing). zones are the runbook's time zones, primary first.
func Load(dir string, zones []*time.Location) (*Set, error) {
	s, err := LoadLazy(dir, zones)
	if err != nil {
		return nil, err
	}
	if err := s.Check(); err != nil {
		return nil, err
	}
	return s, nil
}

// LoadLazy is Load for a command that may never render: the override files
// are read now, but the set is parsed at its first use (Render, Check, or
// Has of a name no file has). A template that does not parse is then
// reported there.
func LoadLazy(dir string, zones []*time.Location) (*Set, error) {
	if len(zones) == 0 {
		zones = []*time.Location{time.UTC}
	}
	s := &Set{zones: zones, sources: map[string]string{}}
	entries, _ := fs.ReadDir(defaults, "defaults")
	for _, e := range entries {
		s.sources[e.Name()] = "(built-in) " + e.Name()
	}
	if dir == "" {
		return s, nil
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.tmpl"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	for _, f := range files {
		b, err := regular.ReadFile(f, maxTemplateFile)
		if err != nil {
			return nil, err
		}
		s.files = append(s.files, file{f, string(b)})
		s.sources[filepath.Base(f)] = f
	}
	return s, nil
}

// Check parses the set (once) and returns the first template that does not
// parse, naming its file and line.
func (s *Set) Check() error {
	s.parse.Do(func() {
		t := template.New("").Option("missingkey=error").Funcs(s.funcs())
		entries, _ := fs.ReadDir(defaults, "defaults")
		for _, e := range entries {
			b, _ := fs.ReadFile(defaults, "defaults/"+e.Name())
			if _, err := t.New(e.Name()).Parse(string(b)); err != nil {
				s.parseErr = fmt.Errorf("embedded template %s: %w", e.Name(), err)
				return
			}
		}
		for _, f := range s.files {
			if _, err := t.New(filepath.Base(f.path)).Parse(f.text); err != nil {
				s.parseErr = fmt.Errorf("%s: %s; fix the template or delete it to use the built-in one", f.path, cleanTemplateErr(err))
				return
			}
		}
		s.t = t
	})
	return s.parseErr
}

// Has reports whether a template of that name exists (built in or
// overridden): a file of that name, else (parsing the set) a {{define}}.
func (s *Set) Has(name string) bool {
	if _, ok := s.sources[name]; ok {
		return true
	}
	return s.Check() == nil && s.t.Lookup(name) != nil
}

// Source says which file a template came from.
func (s *Set) Source(name string) string { return s.sources[name] }

// Render executes one template. Its error names the file and line.
func (s *Set) Render(name string, data *Data) (string, error) {
	if err := s.Check(); err != nil {
		return "", err
	}
	t := s.t.Lookup(name)
	if t == nil {
		return "", fmt.Errorf("template %s does not exist", name)
	}
	data.zones = s.zones
	if strings.HasSuffix(name, ".md.tmpl") && name != MessageFile && name != MaintenanceFile {
		data = data.markdownSafe()
	}
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		return "", fmt.Errorf("%s: %s", s.sources[name], cleanTemplateErr(err))
	}
	return strings.TrimSpace(b.String()) + "\n", nil
}

// cleanTemplateErr drops the "template: " prefix text/template puts on errors.
func cleanTemplateErr(err error) string {
	var ee template.ExecError
	msg := err.Error()
	if errors.As(err, &ee) {
		msg = ee.Err.Error()
	}
	return strings.TrimPrefix(msg, "template: ")
}
