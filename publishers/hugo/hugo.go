// Package hugo publishes the canonical status update as a Markdown page of a
// Hugo site, laid out for the cState theme: content/{section}/{incident id}.md
// with cState's issue front matter (title, date, resolved, resolvedWhen,
// severity, affected, section: issue) and Post.Text, which lists every
// update, as the body. The RFO is content/{section}/{incident id}-rfo.md, an
// informational cState issue that changes no system's status. With git_push,
// the page is committed and pushed with the user's own git.
//
// There is no API: every update rewrites the same file atomically (temporary
// file, fsync, rename), so publishing is idempotent by construction. A push
// that failed is retried by the next attempt, which finds the file unchanged,
// commits nothing new and pushes again.
//
// URLs follow Hugo's default permalinks for a section page,
// {base_url}/{section}/{incident id}/, lower-cased as Hugo does unless the
// site sets disablePathToLower or its own permalinks.
package hugo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/incident-cli/incident/publishers"
)

// Config is the [status_page] table of a Hugo (cState) site.
type Config struct {
	Name    string `toml:"name"`
	Dir     string `toml:"dir"`      // the Hugo site, relative to the runbook directory
	Section string `toml:"section"`  // content section of incidents, "issues" by default (cState)
	BaseURL string `toml:"base_url"` // public URL of the site, for links
	GitPush bool   `toml:"git_push"` // git add, commit and push the page after writing it
}

// Keys lists the config keys, for "did you mean" hints.
var Keys = publishers.KeysOf(Config{})

var (
	// compiled at first use, not when the program starts
	sectionName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*$`) })
	fileName    = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`) })
)

type channel struct {
	cfg  Config
	dir  string // absolute site directory
	base string // base URL without a trailing slash
	env  publishers.Env
	git  gitRunner
}

// New builds the Hugo channel from its config table.
func New(cfg toml.Primitive, md toml.MetaData, env publishers.Env) (publishers.Publisher, error) {
	var c Config
	if err := md.PrimitiveDecode(cfg, &c); err != nil {
		return nil, fmt.Errorf("hugo: %w", err)
	}
	if c.Dir == "" {
		return nil, errors.New("hugo: `dir` is required (the Hugo site's directory, relative to the runbook)")
	}
	if c.Section == "" {
		c.Section = "issues"
	}
	if !sectionName().MatchString(c.Section) {
		return nil, fmt.Errorf("hugo: `section` %q must be one directory name (letters, digits, - and _)", c.Section)
	}
	if c.BaseURL == "" {
		return nil, errors.New("hugo: `base_url` is required (the public URL of the site, e.g. https://status.example.com)")
	}
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("hugo: `base_url` %q is not an absolute http(s) URL", c.BaseURL)
	}
	dir := c.Dir
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(env.Dir, dir)
	}
	if err := publishers.CheckOutputDir("dir", c.Dir, dir, env); err != nil {
		return nil, fmt.Errorf("hugo: %w", err)
	}
	return &channel{cfg: c, dir: dir, base: strings.TrimRight(c.BaseURL, "/"), env: env, git: gitRunner{dir: dir}}, nil
}

// name is the page's file name without .md: the incident id, plus -rfo for the RFO.
func name(incidentID string, kind publishers.Kind) string {
	if kind == publishers.KindRFO {
		return incidentID + "-rfo"
	}
	return incidentID
}

// URLFor returns the page's public URL under Hugo's default permalinks.
func (c *channel) URLFor(incidentID string, kind publishers.Kind) string {
	return c.base + "/" + strings.ToLower(c.cfg.Section) + "/" + strings.ToLower(name(incidentID, kind)) + "/"
}

// Publish writes the incident's page (or its RFO page), then commits and
// pushes it when git_push is set.
func (c *channel) Publish(ctx context.Context, p publishers.Post) (publishers.Receipt, error) {
	base := name(p.Incident.ID, p.Kind)
	if !fileName().MatchString(base) || strings.Contains(base, "..") {
		return publishers.Receipt{}, publishers.Permanent(fmt.Errorf("write page: incident id %q cannot be a file name", p.Incident.ID))
	}
	if fi, err := os.Stat(c.dir); err != nil || !fi.IsDir() {
		return publishers.Receipt{}, publishers.Permanent(fmt.Errorf("write page: the site directory %s does not exist; check `dir`", c.dir))
	}
	rel := path.Join("content", c.cfg.Section, base+".md")
	file := filepath.Join(c.dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return publishers.Receipt{}, publishers.Permanent(fmt.Errorf("write page: %w", err))
	}
	if err := writeFileAtomic(file, []byte(page(p, c.env.Now))); err != nil {
		return publishers.Receipt{}, fmt.Errorf("write page %s: %w", rel, err)
	}
	if c.cfg.GitPush {
		if err := c.git.publish(ctx, rel, commitMessage(p)); err != nil {
			return publishers.Receipt{}, err
		}
	}
	return publishers.Receipt{
		ID:   rel,
		URL:  c.URLFor(p.Incident.ID, p.Kind),
		At:   c.env.Now(),
		Meta: map[string]string{"kind": string(p.Kind)},
	}, nil
}

// Verify checks that the site directory exists and, with git_push, that the
// remote answers (git ls-remote, read-only).
func (c *channel) Verify(ctx context.Context) (string, error) {
	if fi, err := os.Stat(c.dir); err != nil || !fi.IsDir() {
		return "", publishers.Permanent(fmt.Errorf("check site: the site directory %s does not exist; check `dir`", c.dir))
	}
	if !c.cfg.GitPush {
		return "site " + c.dir, nil
	}
	if err := c.git.lsRemote(ctx); err != nil {
		return "", err
	}
	return "site " + c.dir + " (git remote reachable)", nil
}

func commitMessage(p publishers.Post) string {
	if p.Kind == publishers.KindRFO {
		return "incident: " + p.Incident.ID + ": reason for outage"
	}
	msg := "incident: " + p.Incident.ID + ": " + p.Incident.Status
	if n := len(p.Incident.Updates); n > 0 {
		msg += fmt.Sprintf(" (update %d)", p.Incident.Updates[n-1].Number)
	}
	return msg
}

// page renders the Markdown file: cState front matter, then Post.Text. It
// depends only on the post (now is a last resort for an incident without
// any time), so every attempt writes the same bytes.
func page(p publishers.Post, now func() time.Time) string {
	inc := p.Incident
	title := p.Title
	if strings.TrimSpace(title) == "" {
		title = inc.Title
	}
	var b strings.Builder
	b.WriteString("---\n")
	fmt.Fprintf(&b, "title: %s\n", yamlString(title))
	if p.Kind == publishers.KindRFO {
		at := firstTime(rfoTime(inc), inc.ResolvedAt, lastUpdateTime(inc), now())
		fmt.Fprintf(&b, "date: %s\n", at.UTC().Format(time.RFC3339))
		b.WriteString("informational: true\n")
	} else {
		fmt.Fprintf(&b, "date: %s\n", firstTime(inc.StartedAt, inc.OpenedAt, firstUpdateTime(inc), now()).UTC().Format(time.RFC3339))
		resolved := inc.Closed() // resolved, or a maintenance window completed or cancelled
		fmt.Fprintf(&b, "resolved: %t\n", resolved)
		if resolved {
			fmt.Fprintf(&b, "resolvedWhen: %s\n", firstTime(inc.ResolvedAt, lastUpdateTime(inc), now()).UTC().Format(time.RFC3339))
		}
		b.WriteString("# cState severities: down, disrupted, notice\n")
		fmt.Fprintf(&b, "severity: %s\n", issueSeverity(inc))
		b.WriteString("affected:")
		if len(inc.Services) == 0 {
			b.WriteString(" []")
		}
		b.WriteString("\n")
		for _, s := range inc.Services {
			n := s.Name
			if n == "" {
				n = s.ID
			}
			fmt.Fprintf(&b, "  - %s\n", yamlString(n))
		}
	}
	b.WriteString("section: issue\n---\n\n")
	b.WriteString(neutralizeShortcodes(strings.TrimRight(p.Text, "\n")))
	b.WriteString("\n")
	return b.String()
}

// issueSeverity is the cState severity of an incident: from the worst
// state it held any service in (major outage -> down, partial outage or
// degraded performance -> disrupted, maintenance -> notice), else from its
// severity; a maintenance window is always a notice.
func issueSeverity(inc publishers.Incident) string {
	if inc.Maintenance != nil {
		return "notice" // cState's maintenance
	}
	worst := publishers.Operational
	for _, st := range inc.States {
		worst = publishers.Worse(worst, st)
	}
	for _, u := range inc.Updates {
		for _, st := range u.States {
			worst = publishers.Worse(worst, st)
		}
	}
	switch worst {
	case publishers.MajorOutage:
		return "down"
	case publishers.PartialOutage, publishers.DegradedPerformance:
		return "disrupted"
	case publishers.UnderMaintenance:
		return "notice"
	}
	return severity(inc.Severity)
}

// severity maps the runbook's severity to cState's.
func severity(s string) string {
	switch s {
	case "critical":
		return "down"
	case "minor":
		return "notice"
	}
	return "disrupted"
}

// yamlString quotes s as a YAML double-quoted scalar. A JSON string is one
// (YAML 1.2 is a superset of JSON), escapes included.
func yamlString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func firstTime(ts ...time.Time) time.Time {
	for _, t := range ts {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}

func rfoTime(inc publishers.Incident) time.Time {
	if inc.RFO != nil {
		return inc.RFO.At
	}
	return time.Time{}
}

func firstUpdateTime(inc publishers.Incident) time.Time {
	if len(inc.Updates) == 0 {
		return time.Time{}
	}
	return inc.Updates[0].At
}

func lastUpdateTime(inc publishers.Incident) time.Time {
	if len(inc.Updates) == 0 {
		return time.Time{}
	}
	return inc.Updates[len(inc.Updates)-1].At
}

// neutralizeShortcodes keeps text a responder typed from being read as a
// Hugo shortcode ({{< x >}} or {{% x %}}), which could break the site build
// or run a shortcode: the first brace becomes an HTML entity, which Markdown
// shows as a brace.
func neutralizeShortcodes(s string) string {
	return strings.NewReplacer("{{<", "&#123;{<", "{{%", "&#123;{%").Replace(s)
}
