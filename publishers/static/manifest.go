package static

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/incident-cli/incident/publishers"
)

// The build manifest says what the last build of a site wrote: per
// incident the caller's key of its record (see Page.Key) and the incidents
// that key covers besides (Page.Deps), whether it was open, and its pages'
// sizes and modification times right after they were written. It lives in
// the state directory, never in the site (which is public and may be
// committed: the manifest names every incident on record, private ones
// too). It is a cache: a missing or damaged one makes the next build
// render everything, with the same result.
type manifest struct {
	Format    int               `json:"format"`
	Version   string            `json:"version"` // the caller's: program, templates, config
	Dir       string            `json:"dir"`     // the site
	Incidents map[string]*built `json:"incidents"`
	// History is the month pages (history/KEY.html), each keyed on its
	// content save the time it says it was generated.
	History map[string]*built `json:"history,omitempty"`
}

// built is one incident as a build left it.
type built struct {
	Key   string     `json:"key"`
	Deps  []string   `json:"deps,omitempty"`
	Open  bool       `json:"open,omitempty"`
	Pages []pageStat `json:"pages,omitempty"` // none: the incident has no page (no public update)
}

// pageStat is what a page file looked like right after the build wrote it.
type pageStat struct {
	Name  string `json:"name"` // in incidents/
	Size  int64  `json:"size"`
	MTime int64  `json:"mtime"` // UnixNano
}

func statOf(name string, fi fs.FileInfo) pageStat {
	return pageStat{Name: name, Size: fi.Size(), MTime: fi.ModTime().UnixNano()}
}

func (s pageStat) matches(fi fs.FileInfo) bool {
	return fi.Mode().IsRegular() && fi.Size() == s.Size && fi.ModTime().UnixNano() == s.MTime
}

// manifestFormat changes whenever what a page shows is computed
// differently by this package in a way the caller's version would miss.
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
// version for this site and the site is there (its incidents/ and
// status.json); else nil.
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

// writeManifest writes the manifest atomically (a cache: no sync).
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
	w := &files{}
	return w.write(filepath.Dir(path), filepath.Base(path), b)
}

// removeManifest forgets the last build: a build without a manifest
// replaced its pages.
func (p *Publisher) removeManifest() {
	if path := p.manifestPath(); path != "" {
		_ = os.Remove(path)
	}
}

// NewIncrementalBuilder starts a build that renders only the incidents
// whose record changed since the last build of this site and keeps the
// other pages: the caller asks Unchanged with each incident's key before
// rendering it, and Adds (or Skips) it only when that answers false.
// version names everything else every page depends on (the program, the
// templates, the config): when it differs from the last build's, or that
// build's manifest (in the state directory) is missing or damaged, or the
// site's incidents/ or status.json is gone, nothing is kept and every
// incident is rendered, as a full build does. Either way the site is the
// one a full build makes, save the time each page says it was generated.
func (p *Publisher) NewIncrementalBuilder(version string) (*Builder, error) {
	b, err := p.NewBuilder()
	if err != nil {
		return nil, err
	}
	if p.manifestPath() != "" && version != "" {
		b.next = &manifest{Format: manifestFormat, Version: version, Dir: p.dir, Incidents: map[string]*built{}, History: map[string]*built{}}
		b.last = p.readManifest(version)
	}
	// A site's incidents/ holding event files is records, not pages: a
	// full build writes nothing into it and Finish refuses to replace it.
	if b.last != nil {
		if records, err := publishers.HoldsEventFiles(filepath.Join(p.dir, "incidents")); err != nil || records {
			b.last = nil
		}
	}
	return b, nil
}

// Incremental reports whether the build keeps pages of the last one.
func (b *Builder) Incremental() bool { return b.last != nil }

// Deps returns the other incidents the last build's key of incident id
// covered (see Page.Deps): the caller's key to compare must cover them.
func (b *Builder) Deps(id string) []string {
	if b.last == nil {
		return nil
	}
	if old := b.last.Incidents[id]; old != nil {
		return old.Deps
	}
	return nil
}

// Unchanged reports whether the last build's pages of incident id are
// still current, and then keeps them: the record has the same key, the
// incident was resolved (an open incident's page is always rendered again:
// it may show times relative to now), and its pages are in the site as that
// build wrote them (their sizes and modification times). Then the caller
// must not Add or Skip the incident.
func (b *Builder) Unchanged(id, key string) bool {
	if b.last == nil || key == "" {
		return false
	}
	old := b.last.Incidents[id]
	if old == nil || old.Key != key || old.Open {
		return false
	}
	for _, pg := range old.Pages {
		fi, err := os.Lstat(filepath.Join(b.p.dir, "incidents", pg.Name))
		if err != nil || !pg.matches(fi) {
			return false
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.next.Incidents[id] = old
	if len(old.Pages) > 0 {
		b.kept++
	}
	return true
}

// Skip records that incident id, whose record has key, has no page (no
// public update yet): the next build need not read it while the key holds.
func (b *Builder) Skip(id, key string) {
	if b.next == nil || key == "" {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.next.Incidents[id] = &built{Key: key}
}

// sweep removes from the live incidents/ of an incremental build what a
// full build would not have there: the pages of incidents no longer on
// record or without a page now, an RFO page its incident no longer has,
// and anything else.
func (b *Builder) sweep(live string) error {
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
		if !want[e.Name()] {
			if err := os.RemoveAll(filepath.Join(live, e.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}

// writeStat writes a new file of a build's staging folder and returns its
// stat as written (no sync: a build is cheap to run again).
func writeStat(path string, data []byte) (fs.FileInfo, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	_, err = f.Write(data)
	var fi fs.FileInfo
	if err == nil {
		fi, err = f.Stat()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return fi, err
}

// writeHistoryKeyed is writeHistory for a build with a manifest: each month
// page is keyed on what it shows save the time it says it was generated.
// A full build renders every month into a staging folder that replaces
// history/; an incremental one keeps each month page whose key and file
// are what the last build left, writes the others over the live ones, and
// then removes months left without incidents. (history/index.html is one of
// the shared files, written before.)
func (b *Builder) writeHistoryKeyed(d *SiteData) error {
	dir := filepath.Join(b.p.dir, "history")
	if b.last == nil {
		stage, err := os.MkdirTemp(b.p.dir, ".build-history-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(stage)
		dir = filepath.Join(stage, "history")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	ms := months(d)
	want := map[string]bool{"index.html": true}
	var buf bytes.Buffer
	for _, m := range ms {
		name := m.Key + ".html"
		want[name] = true
		v := b.p.monthPage(d, m.Key, ms)
		key := monthKey(v, d.Now)
		if old := b.lastMonth(name); old != nil && old.Key == key && key != "" {
			if fi, err := os.Lstat(filepath.Join(dir, name)); err == nil && old.Pages[0].matches(fi) {
				b.next.History[name] = old
				continue
			}
		}
		buf.Reset()
		if err := b.p.pages().month.Execute(&buf, v); err != nil {
			return err
		}
		// An incremental build writes beside its staging folder's pages and
		// renames over the live page; a full one straight into its stage.
		tmp := filepath.Join(dir, name)
		if b.last != nil {
			tmp = filepath.Join(b.stage, name)
		}
		fi, err := writeStat(tmp, buf.Bytes())
		if err != nil {
			return err
		}
		if b.last != nil {
			if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
				return err
			}
		}
		b.next.History[name] = &built{Key: key, Pages: []pageStat{statOf(name, fi)}}
	}
	if b.last == nil {
		// The staged folder needs the index the shared files just wrote.
		if err := b.p.renderHistoryIndex(filepath.Dir(dir), d, ms, &files{}); err != nil {
			return err
		}
		return swapIn(dir, filepath.Join(b.p.dir, "history"))
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !want[e.Name()] {
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}

// monthKey keys a month page on its view, all of what its template shows
// save the time the page says it was generated (the template itself and
// the zones its times are shown in belong to the build's version), and,
// when the month has an open incident, on now: its entry says how long ago
// it was last updated. "" when the view cannot be encoded (never kept).
func monthKey(v view, now time.Time) string {
	v.Generated = ""
	h := sha256.New()
	if err := json.NewEncoder(h).Encode(v); err != nil {
		return ""
	}
	for _, e := range v.Month.Incidents {
		if e.Open() {
			fmt.Fprintf(h, "now %d\n", now.UnixNano())
			break
		}
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// lastMonth is the last build's record of a month page, if it has one.
func (b *Builder) lastMonth(name string) *built {
	if b.last == nil {
		return nil
	}
	if old := b.last.History[name]; old != nil && len(old.Pages) == 1 {
		return old
	}
	return nil
}
