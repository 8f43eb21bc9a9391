package runbook

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"sync"
	"time"

	"github.com/incident-cli/incident/publishers/static"
)

// BuildSite renders the static status page from every incident's record,
// on every core, and returns the number of incident pages on the site.
//
// It renders only the incidents whose record changed since the last build
// of the site (their event files' names and sizes, see Store.Digest, and
// those of the related incidents their posts name) and every open one,
// when the last build's manifest in the state directory is there and was
// made by the same program from the same templates and config; otherwise,
// as for a fresh clone, it renders everything. The other pages are kept as
// they are. The record stays the only source of truth: without the
// manifest the site is the same. The shared files (index, history, feeds,
// JSON) are computed from the records (SiteData): by a full build at the
// end, from the summaries of the records it has just read (none is read
// twice); by an incremental one while it renders its few pages.
//
// It reads event files directly, never through the store's cache: a build
// of 2,000 incidents would otherwise write 2,000 cache files it never
// reads again.
func (r *Runbook) BuildSite(s *static.Publisher) (int, error) {
	ids, err := r.Store.IDs()
	if err != nil {
		return 0, err
	}
	// A build allocates a lot and keeps little: collecting a third as often
	// saves a sixth of its instructions, and the memory limit keeps peak
	// RSS well under 50 MB (bench/site).
	defer debug.SetGCPercent(debug.SetGCPercent(300))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(32 << 20))
	st := &Store{Dir: r.Store.Dir}
	b, err := s.NewIncrementalBuilder(r.siteVersion())
	if err != nil {
		return 0, err
	}
	// An incremental build renders few pages; the shared files' data is
	// computed meanwhile (from the records as they are now: the site's lock
	// is held, so a publish that changes them waits and writes after).
	var early chan siteDataResult
	if b.Incremental() {
		early = make(chan siteDataResult, 1)
		go func() {
			d, err := r.siteData(s, nil, r.Store)
			early <- siteDataResult{d, err}
		}()
	}
	start := time.Now()
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		once    sync.Once
		failure error
		fresh   = map[string]cachedSummary{} // summaries of the records read
	)
	fail := func(err error) { once.Do(func() { failure = err }) }
	work := make(chan string)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range work {
				if b.Incremental() {
					if key, err := siteKey(st, id, b.Deps(id)); err == nil && b.Unchanged(id, key) {
						continue
					}
				}
				inc, digest, folder, err := st.loadDigested(id)
				if errors.Is(err, ErrUnknownIncident) {
					// Removed since the listing, or a folder with no event
					// in it (an open killed between making it and writing
					// its first event): no incident.
					continue
				}
				if err != nil {
					fail(err)
					continue
				}
				if early == nil {
					stamp, newest := folderStamp(folder)
					mu.Lock()
					fresh[id] = cachedSummary{Stamp: cacheStamp(stamp, newest, start), Summary: Summarize(inc)}
					mu.Unlock()
				}
				pg, ok, err := r.page(inc)
				if err != nil {
					fail(err)
					continue
				}
				pg.Deps = inc.Related
				pg.Key = siteKeyOf(st, digest, inc.Related)
				if !ok {
					b.Skip(id, pg.Key)
				} else if err := b.Add(pg); err != nil {
					fail(err)
				}
			}
		}()
	}
	for _, id := range ids {
		work <- id
	}
	close(work)
	wg.Wait()
	if failure != nil {
		if early != nil {
			<-early
		}
		b.Abort()
		return 0, failure
	}
	if early != nil {
		b.SetSource(func() (*static.SiteData, error) { res := <-early; return res.d, res.err })
	} else {
		// A full build has just read every record: its summaries are handed
		// on, and the few incidents shown are read without the store's cache.
		b.SetSource(func() (*static.SiteData, error) { return r.siteData(s, fresh, st) })
	}
	if err := b.Finish(); err != nil {
		return 0, err
	}
	return b.Pages(), nil
}

type siteDataResult struct {
	d   *static.SiteData
	err error
}

// siteKey is the key of an incident's page in this build: its record's
// digest, and that of each incident in deps (its related incidents, whose
// titles, dates and links its post shows).
func siteKey(st *Store, id string, deps []string) (string, error) {
	d, err := st.Digest(id)
	if err != nil {
		return "", err
	}
	return siteKeyOf(st, d, deps), nil
}

func siteKeyOf(st *Store, digest string, deps []string) string {
	if len(deps) == 0 {
		return digest
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\n", digest)
	for _, id := range deps {
		d, err := st.Digest(id)
		if err != nil {
			d = "-" // gone: the post names it by its id
		}
		fmt.Fprintf(h, "%s %s\n", id, d)
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// siteVersion names what the site's pages depend on besides the records:
// the program (its executable's size and modification time, which any
// rebuild or upgrade changes), the runbook's config and its template
// overrides. "" (no incremental build) when the program cannot be found.
func (r *Runbook) siteVersion() string {
	h := sha256.New()
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	st, err := os.Stat(exe)
	if err != nil {
		return ""
	}
	fmt.Fprintf(h, "program %s %d %d\n", exe, st.Size(), st.ModTime().UnixNano())
	var files []string
	if r.ConfigFile != "" {
		files = append(files, r.ConfigFile)
	}
	if dir := r.TemplatesDir(); dir != "" {
		t, _ := filepath.Glob(filepath.Join(dir, "*.tmpl"))
		sort.Strings(t)
		files = append(files, t...)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return ""
		}
		fmt.Fprintf(h, "file %s %d\n", f, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// page renders one incident's status post (and RFO) for the static site;
// false when it has no public update (no page).
func (r *Runbook) page(inc *Incident) (static.Page, bool, error) {
	ups := inc.PublicUpdates()
	if len(ups) == 0 {
		return static.Page{}, false, nil
	}
	rfoURL := ""
	var rfo *static.Page
	if u := lastRFO(inc); u != nil {
		x, err := r.renderRFOStatus(upto(inc, u), u)
		if err != nil {
			return static.Page{}, false, err
		}
		rfo = &static.Page{Title: x.Title, HTML: x.HTML}
		rfoURL = r.rfoURL(inc)
	}
	x, err := r.renderStatus(inc, ups[len(ups)-1], rfoURL)
	if err != nil {
		return static.Page{}, false, err
	}
	// The page shows the incident's title, state and services, and the
	// post: not the updates' HTML (the shared files show that, from
	// SiteData).
	return static.Page{Incident: r.briefIncident(inc), Title: x.Title, HTML: x.HTML, RFO: rfo}, true, nil
}

func lastRFO(inc *Incident) *Update {
	var last *Update
	for _, u := range inc.Updates {
		if u.RFO {
			last = u
		}
	}
	return last
}
