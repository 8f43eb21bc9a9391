// Package static is the built-in status page: plain HTML, Atom feeds and
// JSON written into a directory, readable from file:// or any static host,
// no JavaScript. It is the embedded default runbook's only channel.
//
// The site is derived from the incident records: `incident site build`
// renders it whole (Builder). A single publish re-renders only what changed:
// the incident's page, then, from a SiteData the runbook computes from the
// records (see SetSource), the index, the feeds, the JSON files and the
// incident's month of history. Those shared files are written under a lock
// (a flock on .lock in the site folder), so two publishes on two incidents
// at once never lose one's update; deleting the site and building it again
// loses nothing.
//
// Publishing the same post twice writes the same files: idempotent.
package static

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/gofrs/flock"

	"github.com/incident-cli/incident/publishers"
)

// Config is the [status_page] table of type "static".
type Config struct {
	Type    string `toml:"type"`
	Name    string `toml:"name"`
	Dir     string `toml:"dir"`      // default "site", relative to the runbook
	BaseURL string `toml:"base_url"` // public URL of the page, for links
	GitPush bool   `toml:"git_push"` // commit and push the site after each publish
	// Refresh, when set ("5m"), makes browsers reload the index and the
	// incident pages that often (<meta http-equiv="refresh">).
	Refresh string `toml:"refresh"`
}

// Keys are the config keys of a static status page.
var Keys = publishers.KeysOf(Config{})

// History is how many resolved incidents status.json lists.
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
	refresh  int // seconds; 0: none
	source   Source
	pages    func() *pages
	stateDir string // where builds keep their manifest ("" for none)

	pushTimeout time.Duration // gitRemoteTimeout when zero (tests shorten it)
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
	if err := publishers.CheckOutputDir("dir", c.Dir, dir, env); err != nil {
		return nil, err
	}
	if c.BaseURL != "" {
		if _, err := publishers.CheckBaseURL(c.BaseURL); err != nil {
			return nil, fmt.Errorf("base_url: %w", err)
		}
	}
	refresh := 0
	if c.Refresh != "" {
		d, err := time.ParseDuration(c.Refresh)
		if err != nil || d < 10*time.Second {
			return nil, fmt.Errorf("refresh: %q is not a duration of 10s or more (write it like \"5m\")", c.Refresh)
		}
		refresh = int(d.Seconds())
	}
	now := env.Now
	if now == nil {
		now = time.Now
	}
	when := env.When
	if when == nil {
		when = func(t time.Time) string { return t.UTC().Format("Mon 2 Jan 2006 15:04 UTC") }
	}
	window := env.Window
	if window == nil {
		window = func(a, b time.Time) string { return when(a) + " – " + when(b) }
	}
	return &Publisher{dir: dir, baseURL: strings.TrimRight(c.BaseURL, "/"), gitPush: c.GitPush,
		org: env.Organization, services: env.Services, now: now, when: when, refresh: refresh, pages: newPages(when, window, now),
		stateDir: env.StateDir}, nil
}

// SetSource gives the page what computes its shared files from the
// records. Publish and Builder.Finish call it with the site's lock held, so
// what they write includes every update recorded before they took it.
func (p *Publisher) SetSource(src Source) { p.source = src }

// LockFile is the site folder's lock, held while the shared files are
// written; it is neither committed (git_push) nor served (site serve).
const LockFile = ".lock"

// lock takes the site's lock, waiting until ctx is done. The kernel drops a
// dead process's lock.
func (p *Publisher) lock(ctx context.Context) (unlock func(), err error) {
	if err := os.MkdirAll(p.dir, 0o755); err != nil {
		return nil, err
	}
	fl := flock.New(filepath.Join(p.dir, LockFile))
	ok, err := fl.TryLockContext(ctx, 10*time.Millisecond)
	if err != nil {
		return nil, fmt.Errorf("lock the site %s: %w", p.dir, err)
	}
	if !ok {
		return nil, fmt.Errorf("lock the site %s: another publish or site build is still writing it", p.dir)
	}
	return func() { _ = fl.Unlock() }, nil
}

// data computes the shared pages' data from the records.
func (p *Publisher) data() (*SiteData, error) { return p.dataFrom(p.source) }

func (p *Publisher) dataFrom(src Source) (*SiteData, error) {
	if src == nil {
		return nil, publishers.Permanent(errors.New("the static page has no source of site data (a bug: the runbook sets it)"))
	}
	d, err := src()
	if err != nil {
		return nil, err
	}
	if d.Zone == nil {
		d.Zone = time.UTC
	}
	if d.Now.IsZero() {
		d.Now = p.now()
	}
	return d, nil
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

// Publish writes the incident's page (or its RFO page), then, under the
// site's lock, the shared files: index, feeds, JSON and the incident's
// month of history.
func (p *Publisher) Publish(ctx context.Context, post publishers.Post) (publishers.Receipt, error) {
	unlock, err := p.lock(ctx)
	if err != nil {
		return publishers.Receipt{}, err
	}
	defer unlock()
	pg := &Page{Title: post.Title, HTML: post.HTML}
	tmpl := p.pages().incident
	if post.Kind == publishers.KindRFO {
		tmpl = p.pages().rfo
	}
	w := &files{sync: true}
	defer w.abort()
	if err := p.writePage(pagePath(post.Incident.ID, post.Kind), tmpl, pg, post.Incident, w); err != nil {
		return publishers.Receipt{}, err
	}
	d, err := p.data()
	if err != nil {
		return publishers.Receipt{}, err
	}
	if err := p.writeShared(d, w); err != nil {
		return publishers.Receipt{}, err
	}
	// A maintenance window joins the history once it is over.
	if post.Incident.Maintenance == nil || post.Incident.Closed() {
		if err := p.writeMonth(d, monthOf(post.Incident.StartedAt, d.Zone), w); err != nil {
			return publishers.Receipt{}, err
		}
	}
	if err := w.commit(); err != nil {
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

// Page is one incident's rendered status post, for a Builder.
type Page struct {
	Incident publishers.Incident // what the page template shows: the updates' HTML is not needed
	Title    string
	HTML     string // the canonical post (status.md.tmpl) as HTML
	RFO      *Page  // the RFO post, if any

	// Key identifies what the page was rendered from (the caller's digest
	// of the record, and of everything else the page shows that is not the
	// same for every page); an incremental build keeps the page while the
	// incident's key stays the same (see Builder.Unchanged). "" is never
	// kept.
	Key string
	// Deps are the other incidents the key covers (the related incidents
	// the post names): the next build asks for them (Builder.Deps) to
	// compute the key it compares.
	Deps []string
}

// Builder renders the whole site from the records, page by page, replacing
// what is there. A full build (NewBuilder, or an incremental one without a
// usable manifest) renders every page into a staging folder that replaces
// incidents/ at Finish, in one atomic exchange where the system has one.
// An incremental build (NewIncrementalBuilder) keeps the pages of
// incidents whose record did not change and renames each page it renders
// over the live one (each page is always whole); at Finish it writes the
// shared files, then removes the pages of incidents no longer on record, so
// every link on the site resolves at every moment. Add, Unchanged and Skip
// are safe for concurrent use; memory stays flat however many incidents
// there are. A build holds the site's lock from NewBuilder to Finish or
// Abort, so a publish waits for it and then writes over what it built.
type Builder struct {
	p      *Publisher
	stage  string
	unlock func()
	source Source // Finish's, when set; else the publisher's
	mu     sync.Mutex
	n      int   // pages rendered
	kept   int   // incidents whose pages were kept
	failed error // the page writer's first error

	// One goroutine writes the rendered pages: files created in one folder
	// by several threads contend for the folder's lock in the kernel,
	// which spins (on a filesystem that searches long for a free inode, a
	// tenth of a build), while the renderers need not wait for the disk.
	writes  chan pageWrite
	written sync.WaitGroup
	closed  sync.Once

	last *manifest // the last build's, when usable: pages are kept and replaced in place
	next *manifest // this build's; nil for NewBuilder's (no manifest)
}

// NewBuilder starts a full build, waiting for the site's lock. It keeps
// nothing and leaves no manifest: the next incremental build renders
// everything.
func (p *Publisher) NewBuilder() (*Builder, error) {
	unlock, err := p.lock(context.Background())
	if err != nil {
		return nil, err
	}
	// Staging folders left by a build that was killed (builds make them
	// only under the lock, so none is in use now).
	if left, err := filepath.Glob(filepath.Join(p.dir, ".build-*")); err == nil {
		for _, d := range left {
			_ = os.RemoveAll(d)
		}
	}
	stage, err := os.MkdirTemp(p.dir, ".build-")
	if err != nil {
		unlock()
		return nil, err
	}
	b := &Builder{p: p, stage: stage, unlock: unlock, writes: make(chan pageWrite, 16)}
	b.written.Add(1)
	go b.writer()
	return b, nil
}

// SetSource makes Finish compute the shared files from src rather than
// from the publisher's source (a build that has just read the records
// passes what it learnt).
func (b *Builder) SetSource(src Source) { b.source = src }

// Add renders one incident's page (and its RFO page) and hands them to
// the page writer. It returns the writer's error, if it failed already;
// Finish returns any later one.
func (b *Builder) Add(pg Page) error {
	id := pg.Incident.ID
	w := pageWrite{id: id, rec: &built{Key: pg.Key, Deps: pg.Deps, Open: pg.Incident.ResolvedAt.IsZero(), Pages: []pageStat{{Name: id + ".html"}}}}
	page, err := b.p.renderPageBytes(b.p.pages().incident, &pg, pg.Incident)
	if err != nil {
		return err
	}
	w.pages = append(w.pages, page)
	if pg.RFO != nil {
		rfo, err := b.p.renderPageBytes(b.p.pages().rfo, pg.RFO, pg.Incident)
		if err != nil {
			return err
		}
		w.rec.Pages = append(w.rec.Pages, pageStat{Name: id + "-rfo.html"})
		w.pages = append(w.pages, rfo)
	}
	b.mu.Lock()
	failed := b.failed
	b.mu.Unlock()
	if failed != nil {
		return failed
	}
	b.writes <- w
	return nil
}

// Finish puts the new pages in place and writes the shared files: index,
// feeds, JSON and every month of history; then the manifest for the next
// incremental build. It never replaces a folder that holds event files
// (*.toml): that is incident records, not the site's pages, and nothing is
// touched.
func (b *Builder) Finish() error {
	if err := b.drain(); err != nil {
		b.Abort()
		return err
	}
	live := filepath.Join(b.p.dir, "incidents")
	if records, err := publishers.HoldsEventFiles(live); err != nil || records {
		b.Abort()
		if err != nil {
			return fmt.Errorf("site build: %w", err)
		}
		return fmt.Errorf("site build: %s holds event files (*.toml), so it is incident records, not the site's pages: nothing was replaced; point the static page's `dir` at a folder of its own", live)
	}
	defer b.unlock()
	defer os.RemoveAll(b.stage)
	if b.last == nil {
		if err := swapIn(b.stage, live); err != nil {
			return err
		}
	}
	src := b.p.source
	if b.source != nil {
		src = b.source
	}
	d, err := b.p.dataFrom(src)
	if err != nil {
		return err
	}
	if err := b.p.writeShared(d, &files{}); err != nil {
		return err
	}
	writeHistory := b.p.writeHistory
	if b.next != nil {
		writeHistory = b.writeHistoryKeyed
	}
	if err := writeHistory(d); err != nil {
		return err
	}
	if b.last != nil {
		if err := b.sweep(live); err != nil {
			return err
		}
	}
	if b.next == nil {
		b.p.removeManifest()
		return nil
	}
	return b.p.writeManifest(b.next)
}

// swapIn replaces the folder live by stage: in one atomic exchange where
// the system has one, else by two renames.
func swapIn(stage, live string) error {
	if err := os.Chmod(stage, 0o755); err != nil {
		return err
	}
	if exchanged, err := exchange(stage, live); err != nil {
		return err
	} else if exchanged {
		return os.RemoveAll(stage) // the old folder, now
	}
	old := ""
	if _, err := os.Stat(live); err == nil {
		old = stage + "-old"
		if err := os.Rename(live, old); err != nil {
			return err
		}
	}
	if err := os.Rename(stage, live); err != nil {
		return err
	}
	if old != "" {
		_ = os.RemoveAll(old)
	}
	return nil
}

// Abort removes the staging folder of a failed build (pages an
// incremental build already put in place stay: each is a whole page of its
// incident's record as it is).
func (b *Builder) Abort() {
	_ = b.drain()
	_ = os.RemoveAll(b.stage)
	b.unlock()
}

// Pages returns how many incidents have a page on the site after this
// build: those added, and those whose pages were kept.
func (b *Builder) Pages() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.n + b.kept
}

// writeShared writes the files every publish changes: index.html,
// status.json, the feeds, api/v2/*.json and history/index.html.
func (p *Publisher) writeShared(d *SiteData, w *files) error {
	if err := p.writeIndex(d, w); err != nil {
		return err
	}
	if err := p.writeFeeds(d, w); err != nil {
		return err
	}
	if err := p.writeJSON(d, w); err != nil {
		return err
	}
	return p.writeHistoryIndex(d, w)
}

// Timeouts for git_push: local commands and the push.
const (
	gitLocalTimeout  = 30 * time.Second
	gitRemoteTimeout = 2 * time.Minute
)

// push commits the site and pushes it with the user's own git, confined,
// never prompting and with credentials in URLs redacted from its output
// (publishers.RunGit). A failed add or commit is permanent; a failed push
// is retryable (the site stays written and committed).
func (p *Publisher) push(ctx context.Context, msg string) error {
	// The lock and a build's staging folders are never committed.
	add := []string{"add", "-A", "--", ".", ":(exclude)" + LockFile, ":(exclude).build-*", ":(exclude).tmp-*"}
	for _, args := range [][]string{add, {"commit", "-q", "-m", msg}, {"push", "-q"}} {
		timeout := gitLocalTimeout
		if args[0] == "push" {
			timeout = p.pushTimeout
			if timeout == 0 {
				timeout = gitRemoteTimeout
			}
		}
		out, err := publishers.RunGit(ctx, p.dir, timeout, args...)
		if err == nil {
			continue
		}
		if args[0] == "commit" && strings.Contains(out, "nothing to commit") {
			continue
		}
		err = fmt.Errorf("git %s in %s: %w", args[0], p.dir, err)
		if args[0] != "push" && !errors.Is(err, context.DeadlineExceeded) {
			return publishers.Permanent(err)
		}
		return err
	}
	return nil
}
