package static

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/incident-cli/incident/publishers"
)

// The build manifest says what the last full or incremental build of a
// site wrote: per incident the caller's digest of its record, its pages'
// sizes and modification times, and, for the incidents the index, feed and
// status.json show, their entry. It lives in the state directory, never in
// the site (which is public and may be committed: the manifest names every
// incident on record, private ones too). It is a cache: deleting it makes
// the next build render everything, with the same result.
type manifest struct {
	Format    int               `json:"format"`
	Version   string            `json:"version"` // the caller's: program, templates, config
	Dir       string            `json:"dir"`     // the site
	Incidents map[string]*built `json:"incidents"`
}

// built is one incident as the last build left it.
type built struct {
	Key      string     `json:"key"`
	Pages    []pageStat `json:"pages,omitempty"` // none: the incident has no page (no public update)
	Open     bool       `json:"open,omitempty"`
	Started  time.Time  `json:"started"`
	Resolved bool       `json:"resolved,omitempty"`
	Entry    *Entry     `json:"entry,omitempty"` // only for the incidents the site-wide files show
}

// pageStat is what a page file looked like right after the build wrote it.
type pageStat struct {
	Name  string `json:"name"` // in incidents/
	Size  int64  `json:"size"`
	MTime int64  `json:"mtime"` // UnixNano
}

const manifestFormat = 1

// manifestPath is the manifest's file for this site, or "" when the
// publisher has no state directory (then every build is a full one).
func (p *Publisher) manifestPath() string {
	if p.stateDir == "" {
		return ""
	}
	abs, err := filepath.Abs(p.dir)
	if err != nil {
		return ""
	}
	h := sha256.Sum256([]byte(abs))
	return filepath.Join(p.stateDir, "site-build-"+hex.EncodeToString(h[:8])+".json")
}

// readManifest returns the last build's manifest when it was made by this
// version for this site and the site's incidents/ is there; else nil.
func (p *Publisher) readManifest(version string) *manifest {
	path := p.manifestPath()
	if path == "" || version == "" {
		return nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var m manifest
	if json.Unmarshal(b, &m) != nil || m.Format != manifestFormat || m.Version != version || m.Dir != p.dir || m.Incidents == nil {
		return nil
	}
	if st, err := os.Stat(filepath.Join(p.dir, "incidents")); err != nil || !st.IsDir() {
		return nil
	}
	if _, err := os.Stat(filepath.Join(p.dir, "status.json")); err != nil {
		return nil
	}
	return &m
}

func (p *Publisher) writeManifest(m *manifest) error {
	path := p.manifestPath()
	if path == "" {
		return nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return write(filepath.Dir(path), filepath.Base(path), b, false)
}

// removeManifest forgets the last build (a full build by NewBuilder replaced
// the pages without recording them).
func (p *Publisher) removeManifest() {
	if path := p.manifestPath(); path != "" {
		_ = os.Remove(path)
	}
}

// NewIncrementalBuilder starts a build that renders only the incidents
// whose record changed since the last build of this site and keeps the
// other pages as they are: for each incident the caller asks Unchanged with
// a digest of its record, and Adds (or Skips) it only when that answers
// false. version names everything else the pages depend on (the program,
// the templates, the config): when it differs from the last build's, or
// the manifest is missing or damaged, or the site's incidents/ or
// status.json is gone, the build renders every incident, as NewBuilder
// does. Either way the result is the same as a full build's, save the
// build time each page prints.
//
// fill returns what the index, feed and status.json show of an incident
// whose entry Finish needs after all: a brief page's (see Page.Brief), or
// an older kept incident's that moves onto them because one shown there
// was removed. Only the page's Incident (with the updates' HTML) and
// whether RFO is set are used: its pages are not written again.
func (p *Publisher) NewIncrementalBuilder(version string, fill func(id string) (Page, error)) (*Builder, error) {
	b, err := p.NewBuilder()
	if err != nil {
		return nil, err
	}
	b.fill = fill
	b.next = &manifest{Format: manifestFormat, Version: version, Dir: p.dir, Incidents: map[string]*built{}}
	b.last = p.readManifest(version)
	return b, nil
}

// Incremental reports whether the build keeps pages of the last one (false
// for a full build: no usable manifest).
func (b *Builder) Incremental() bool { return b.last != nil }

// Unchanged reports whether the last build's pages of incident id are still
// current: its record has the same key, its pages are in place as that
// build wrote them, and it was resolved (an open incident's pages are always
// rendered again: they may show times relative to now). Then the builder
// keeps them, and the caller must not Add the incident. Otherwise it
// remembers key for the caller's Add or Skip of the incident. Safe for
// concurrent use.
func (b *Builder) Unchanged(id, key string) bool {
	b.mu.Lock()
	var old *built
	if b.last != nil {
		old = b.last.Incidents[id]
	}
	b.keys[id] = key
	b.mu.Unlock()
	if old == nil || old.Key != key || old.Open || key == "" || !b.pagesInPlace(old) {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.next.Incidents[id] = old
	if len(old.Pages) > 0 {
		b.kept++
	}
	if old.Entry != nil {
		b.keepEntry(*old.Entry)
	}
	return true
}

// Skip records that incident id has no page (no public update yet), so that
// the next build need not read it again while its key stays the same.
func (b *Builder) Skip(id string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if k := b.keys[id]; k != "" {
		b.next.Incidents[id] = &built{Key: k}
	}
}

// Kept returns how many incidents kept their pages from the last build
// (Unchanged answered true for them, and they have a page).
func (b *Builder) Kept() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.kept
}

func (b *Builder) pagesInPlace(old *built) bool {
	for _, pg := range old.Pages {
		st, err := os.Stat(filepath.Join(b.p.dir, "incidents", pg.Name))
		if err != nil || st.Size() != pg.Size || st.ModTime().UnixNano() != pg.MTime {
			return false
		}
	}
	return true
}

// recordPages notes an added incident's pages (in dir, as just written) for
// the next build's manifest.
func (b *Builder) recordPages(e Entry, dir string, names []string) error {
	if b.next == nil {
		return nil
	}
	rec := &built{Open: e.ResolvedAt == nil, Started: e.StartedAt, Resolved: e.ResolvedAt != nil}
	for _, n := range names {
		st, err := os.Stat(filepath.Join(dir, n))
		if err != nil {
			return err
		}
		rec.Pages = append(rec.Pages, pageStat{Name: n, Size: st.Size(), MTime: st.ModTime().UnixNano()})
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	rec.Key = b.keys[e.ID]
	b.next.Incidents[e.ID] = rec
	return nil
}

// place moves an incremental build's freshly rendered pages from the
// staging folder over the live ones (each rename is atomic), and removes an
// RFO page the incident no longer has.
func (b *Builder) place(id string, names []string) error {
	live := filepath.Join(b.p.dir, "incidents")
	for _, n := range names {
		if err := os.Rename(filepath.Join(b.stage, n), filepath.Join(live, n)); err != nil {
			return err
		}
	}
	if len(names) == 1 {
		if err := os.Remove(filepath.Join(live, id+"-rfo.html")); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// keepEntry adds an entry to the site-wide files' candidates, dropping
// those that can no longer be shown (b.mu held).
func (b *Builder) keepEntry(e Entry) {
	b.site.Incidents = append(b.site.Incidents, e)
	if len(b.site.Incidents) > 4*History {
		b.site.trim()
	}
}

// finishIncremental completes an incremental build: pages of incidents no
// longer on record (or without a page now) are removed, the entries of
// kept incidents that the site-wide files now show are filled in, and the
// manifest of this build is written.
func (b *Builder) finishIncremental() error {
	live := filepath.Join(b.p.dir, "incidents")
	want := map[string]bool{}
	for _, rec := range b.next.Incidents {
		for _, pg := range rec.Pages {
			want[pg.Name] = true
		}
	}
	entries, err := os.ReadDir(live)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if n := e.Name(); !want[n] && !strings.HasPrefix(n, ".") {
			if err := os.Remove(filepath.Join(live, n)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
	}
	return os.Remove(b.stage)
}

// fillShown makes sure every incident the site-wide files show has its
// entry: one whose pages were kept but whose entry the last build did not
// record (it was not shown then) is rendered through fill.
func (b *Builder) fillShown() error {
	shown := map[string]bool{}
	for _, e := range b.site.Incidents {
		shown[e.ID] = true
	}
	type cand struct {
		id       string
		started  time.Time
		resolved bool
	}
	var cands []cand
	for id, rec := range b.next.Incidents {
		if len(rec.Pages) > 0 && !shown[id] {
			cands = append(cands, cand{id, rec.Started, rec.Resolved})
		}
	}
	if len(cands) == 0 {
		return nil
	}
	// The candidates are resolved (kept pages are never open): the newest
	// History of them may rank above entries already shown.
	sort.Slice(cands, func(i, j int) bool { return cands[i].started.After(cands[j].started) })
	b.site.trim()
	floor := time.Time{}
	if h := b.site.History(); len(h) >= History {
		floor = h[len(h)-1].StartedAt
	}
	for i, c := range cands {
		if i >= History || !c.started.After(floor) {
			break
		}
		if b.fill == nil {
			return fmt.Errorf("static: incident %s is shown but was not rendered", c.id)
		}
		pg, err := b.fill(c.id)
		if err != nil {
			return err
		}
		e := entryOf(pg.Incident, b.p.URLFor(c.id, publishers.KindUpdate))
		if pg.RFO != nil {
			e.RFOURL = b.p.URLFor(c.id, publishers.KindRFO)
		}
		b.next.Incidents[c.id].Entry = &e
		b.site.Incidents = append(b.site.Incidents, e)
	}
	return nil
}

// fillBrief completes the entries the site-wide files show that were added
// from brief pages (without the updates' HTML) through fill.
func (b *Builder) fillBrief() error {
	for i, e := range b.site.Incidents {
		if !b.brief[e.ID] {
			continue
		}
		pg, err := b.fill(e.ID)
		if err != nil {
			return err
		}
		full := entryOf(pg.Incident, e.URL)
		full.RFOURL = e.RFOURL
		b.site.Incidents[i] = full
	}
	return nil
}

// recordShown keeps, in the next manifest, the entries the site-wide files
// show, and only those.
func (b *Builder) recordShown() {
	shown := map[string]*Entry{}
	for i := range b.site.Incidents {
		shown[b.site.Incidents[i].ID] = &b.site.Incidents[i]
	}
	for id, rec := range b.next.Incidents {
		if e, ok := shown[id]; ok {
			cp := *e
			rec.Entry = &cp
		} else if rec.Entry != nil {
			cp := *rec
			cp.Entry = nil
			b.next.Incidents[id] = &cp
		}
	}
}
