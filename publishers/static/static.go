// Package static is the built-in status page: plain HTML, an Atom feed and
// JSON written into a directory, readable from file:// or any static host,
// no JavaScript. It is the embedded default runbook's only channel.
//
// The site is derived from the incident records: `incident site build`
// renders it whole (Build). A single publish re-renders only what changed
// (the incident's page, the index, the feed and status.json), using
// status.json, which holds the open incidents and recent history, as its
// summary; deleting the site and building it again loses nothing.
//
// Publishing the same post twice writes the same files: idempotent.
package static

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/incident-cli/incident/publishers"
)

// Config is the [status_page] table of type "static".
type Config struct {
	Type    string `toml:"type"`
	Name    string `toml:"name"`
	Dir     string `toml:"dir"`      // default "site", relative to the runbook
	BaseURL string `toml:"base_url"` // public URL of the page, for links
	GitPush bool   `toml:"git_push"` // commit and push the site after each publish
}

// Keys are the config keys of a static status page.
var Keys = publishers.KeysOf(Config{})

// History is how many resolved incidents the index, feed and status.json keep.
const History = 50

// Publisher writes the site.
type Publisher struct {
	dir      string
	baseURL  string
	gitPush  bool
	org      string
	services []publishers.Service
	now      func() time.Time
	when     func(time.Time) string
	stateDir string // where incremental builds keep their manifest ("" for none)
}

// New builds the static status page from its config.
func New(cfg toml.Primitive, md toml.MetaData, env publishers.Env) (publishers.Publisher, error) {
	var c Config
	if err := md.PrimitiveDecode(cfg, &c); err != nil {
		return nil, err
	}
	if c.Dir == "" {
		c.Dir = "site"
	}
	dir := c.Dir
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(env.Dir, dir)
	}
	if c.BaseURL != "" {
		if _, err := publishers.CheckBaseURL(c.BaseURL); err != nil {
			return nil, fmt.Errorf("base_url: %w", err)
		}
	}
	now := env.Now
	if now == nil {
		now = time.Now
	}
	when := env.When
	if when == nil {
		when = func(t time.Time) string { return t.UTC().Format("Mon 2 Jan 2006 15:04 UTC") }
	}
	return &Publisher{dir: dir, baseURL: strings.TrimRight(c.BaseURL, "/"), gitPush: c.GitPush,
		org: env.Organization, services: env.Services, now: now, when: when, stateDir: env.StateDir}, nil
}

// Dir is where the site is written.
func (p *Publisher) Dir() string { return p.dir }

// URLFor returns the public URL of an incident's page (or its RFO), or its
// file:// URL when no base_url is configured.
func (p *Publisher) URLFor(id string, kind publishers.Kind) string {
	rel := pagePath(id, kind)
	if p.baseURL != "" {
		return p.baseURL + "/" + rel
	}
	return "file://" + filepath.ToSlash(filepath.Join(p.dir, rel))
}

func pagePath(id string, kind publishers.Kind) string {
	if kind == publishers.KindRFO {
		return "incidents/" + id + "-rfo.html"
	}
	return "incidents/" + id + ".html"
}

// Publish writes the incident's page, then the index, feed and status.json.
func (p *Publisher) Publish(ctx context.Context, post publishers.Post) (publishers.Receipt, error) {
	site, err := p.readSummary()
	if err != nil {
		return publishers.Receipt{}, err
	}
	e := entryOf(post.Incident, p.URLFor(post.Incident.ID, publishers.KindUpdate))
	old := site.find(e.ID)
	if old != nil {
		e.RFOURL = old.RFOURL
	}
	var page *Page
	if post.Kind == publishers.KindRFO {
		e.RFOURL = p.URLFor(post.Incident.ID, publishers.KindRFO)
		page = &Page{Title: post.Title, HTML: post.HTML}
		if err := p.writePage(pagePath(e.ID, publishers.KindRFO), rfoTmpl, page, post.Incident, true); err != nil {
			return publishers.Receipt{}, err
		}
	} else {
		page = &Page{Title: post.Title, HTML: post.HTML}
		if err := p.writePage(pagePath(e.ID, publishers.KindUpdate), incidentTmpl, page, post.Incident, true); err != nil {
			return publishers.Receipt{}, err
		}
	}
	site.upsert(e)
	if err := p.writeSite(site); err != nil {
		return publishers.Receipt{}, err
	}
	if p.gitPush {
		if err := p.push(ctx, fmt.Sprintf("incident: %s %s", post.Kind, post.Incident.ID)); err != nil {
			return publishers.Receipt{}, err
		}
	}
	url := p.URLFor(post.Incident.ID, post.Kind)
	return publishers.Receipt{ID: pagePath(post.Incident.ID, post.Kind), URL: url, At: p.now().UTC()}, nil
}

// Page is one incident's rendered status post, for Build.
type Page struct {
	Incident publishers.Incident
	Title    string
	HTML     string // the canonical post (status.md.tmpl) as HTML
	RFO      *Page  // the RFO post, if any
	// Brief says Incident.Updates carry no HTML: the incident page does
	// not show it, and of the site-wide files (index, feed, status.json),
	// which do, most incidents of a long history are not on. An
	// incremental builder asks its fill for the whole page of a brief one
	// they show (NewBuilder's refuses brief pages).
	Brief bool
}

// Builder renders the whole site from the records, page by page, replacing
// what is there. Incident pages go into a staging folder that replaces
// incidents/ at Finish, so readers never see a half-built site. Add is safe
// for concurrent use; memory stays flat however many incidents there are.
// An incremental build (NewIncrementalBuilder) instead replaces only the
// pages of incidents that changed, each atomically, and keeps the rest.
type Builder struct {
	p     *Publisher
	stage string
	mu    sync.Mutex
	site  Site
	n     int

	// incremental builds (nil/zero for NewBuilder's)
	fill  func(id string) (Page, error)
	last  *manifest         // the last build's, when usable: keep what is current
	next  *manifest         // this build's
	keys  map[string]string // incident id -> its record's key, from Unchanged
	kept  int
	brief map[string]bool // added incidents whose entry lacks the updates' HTML
}

// NewBuilder starts a full build.
func (p *Publisher) NewBuilder() (*Builder, error) {
	if err := os.MkdirAll(p.dir, 0o755); err != nil {
		return nil, err
	}
	stage, err := os.MkdirTemp(p.dir, ".build-")
	if err != nil {
		return nil, err
	}
	return &Builder{p: p, stage: stage, keys: map[string]string{}, brief: map[string]bool{}}, nil
}

// Add renders one incident's page (and its RFO page).
func (b *Builder) Add(pg Page) error {
	if pg.Brief && b.fill == nil {
		return fmt.Errorf("static: a brief page of %s needs a builder that can fill it in (NewIncrementalBuilder)", pg.Incident.ID)
	}
	e := entryOf(pg.Incident, b.p.URLFor(pg.Incident.ID, publishers.KindUpdate))
	names := []string{e.ID + ".html"}
	if err := b.p.renderPage(b.stage, names[0], incidentTmpl, &pg, pg.Incident); err != nil {
		return err
	}
	if pg.RFO != nil {
		e.RFOURL = b.p.URLFor(e.ID, publishers.KindRFO)
		names = append(names, e.ID+"-rfo.html")
		if err := b.p.renderPage(b.stage, names[1], rfoTmpl, pg.RFO, pg.Incident); err != nil {
			return err
		}
	}
	if b.next != nil {
		dir := b.stage
		if b.last != nil {
			if err := b.place(e.ID, names); err != nil {
				return err
			}
			dir = filepath.Join(b.p.dir, "incidents")
		}
		if err := b.recordPages(e, dir, names); err != nil {
			return err
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.n++
	if pg.Brief {
		b.brief[e.ID] = true
	}
	b.keepEntry(e)
	return nil
}

// Finish swaps the new pages in and writes the index, feed and status.json
// (and, for an incremental build, removes the pages of incidents gone from
// the record and writes the manifest for the next build).
func (b *Builder) Finish() error {
	if b.last != nil {
		if err := b.finishIncremental(); err != nil {
			return err
		}
		if err := b.fillShown(); err != nil {
			return err
		}
	} else if err := b.swap(); err != nil {
		return err
	}
	b.site.trim()
	if err := b.fillBrief(); err != nil {
		return err
	}
	if err := b.p.writeSite(&b.site); err != nil {
		return err
	}
	if b.next == nil {
		b.p.removeManifest()
		return nil
	}
	b.recordShown()
	return b.p.writeManifest(b.next)
}

// swap replaces incidents/ with the staging folder of a full build.
func (b *Builder) swap() error {
	live := filepath.Join(b.p.dir, "incidents")
	old := ""
	if _, err := os.Stat(live); err == nil {
		old = b.stage + "-old"
		if err := os.Rename(live, old); err != nil {
			return err
		}
	}
	if err := os.Chmod(b.stage, 0o755); err != nil {
		return err
	}
	if err := os.Rename(b.stage, live); err != nil {
		return err
	}
	if old != "" {
		_ = os.RemoveAll(old)
	}
	return nil
}

// Abort removes the staging folder of a failed build.
func (b *Builder) Abort() { _ = os.RemoveAll(b.stage) }

// Pages returns how many incidents were added (rendered) in this build;
// Kept says how many an incremental build kept unchanged.
func (b *Builder) Pages() int { return b.n }

func (p *Publisher) readSummary() (*Site, error) {
	b, err := os.ReadFile(filepath.Join(p.dir, "status.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return &Site{}, nil
	}
	if err != nil {
		return nil, err
	}
	var s Site
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, publishers.Permanent(fmt.Errorf("%s is damaged (%v): run `incident site build` to rebuild the site from the records", filepath.Join(p.dir, "status.json"), err))
	}
	return &s, nil
}

func (p *Publisher) writeSite(s *Site) error {
	s.Organization = p.org
	s.Generated = p.now().UTC()
	if p.baseURL != "" {
		s.URL = p.baseURL + "/"
	}
	s.computeServices(p.services)
	s.Status = overall(s.Services)
	if s.Status == "operational" && len(s.Open()) > 0 {
		s.Status = "degraded"
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if err := p.render("index.html", indexTmpl, s); err != nil {
		return err
	}
	if err := p.writeFeed(s); err != nil {
		return err
	}
	return writeFile(p.dir, "status.json", append(b, '\n'))
}

func (p *Publisher) push(ctx context.Context, msg string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	for _, args := range [][]string{{"add", "-A", "."}, {"commit", "-q", "-m", msg}, {"push", "-q"}} {
		cmd := exec.CommandContext(ctx, "git", args...)
		cmd.Dir = p.dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			if args[0] == "commit" && strings.Contains(string(out), "nothing to commit") {
				continue
			}
			return fmt.Errorf("git %s in %s: %v: %s", args[0], p.dir, err, strings.TrimSpace(string(out)))
		}
	}
	return nil
}

// sortEntries orders entries: open first, then by start, newest first.
func sortEntries(es []Entry) {
	sort.SliceStable(es, func(i, j int) bool {
		oi, oj := es[i].ResolvedAt == nil, es[j].ResolvedAt == nil
		if oi != oj {
			return oi
		}
		return es[i].StartedAt.After(es[j].StartedAt)
	})
}
