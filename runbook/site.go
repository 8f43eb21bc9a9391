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

	"github.com/incident-cli/incident/publishers/static"
)

// BuildSite renders the static status page from every incident's record,
// on every core. It renders only the incidents whose record changed since
// the last build of the site (their event files' names and sizes, see
// Store.Digest), when the last build's manifest in the state directory is
// there and was made by the same program from the same templates and
// config; otherwise, as for a fresh clone, it renders everything. The
// record stays the only source of truth: without the manifest the result
// is the same. It returns the number of incident pages on the site.
//
// It reads event files directly, never through the store's cache: a build
// of 2,000 incidents would otherwise write 2,000 cache files it never
// reads again.
func (r *Runbook) BuildSite(s *static.Publisher) (int, error) {
	ids, err := r.Store.IDs()
	if err != nil {
		return 0, err
	}
	st := &Store{Dir: r.Store.Dir}
	// A build allocates a lot and keeps little: collecting a third as often
	// saves a sixth of its instructions (callgrind, 300 incidents), and the
	// memory limit keeps peak RSS well under 50 MB (bench/site).
	defer debug.SetGCPercent(debug.SetGCPercent(300))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(32 << 20))
	b, err := s.NewIncrementalBuilder(r.siteVersion(), func(id string) (static.Page, error) {
		return r.entryPage(st, id)
	})
	if err != nil {
		return 0, err
	}
	work := make(chan string)
	var (
		wg      sync.WaitGroup
		once    sync.Once
		failure error
	)
	fail := func(err error) { once.Do(func() { failure = err }) }
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range work {
				key, err := st.Digest(id)
				if err == nil && b.Unchanged(id, key) {
					continue
				}
				pg, ok, err := r.page(st, id, true)
				switch {
				case errors.Is(err, ErrUnknownIncident):
					// A folder with no event in it (an open killed
					// between making it and writing its first event) is
					// no incident.
					b.Skip(id)
					err = nil
				case err != nil:
				case ok:
					err = b.Add(pg)
				default:
					b.Skip(id)
				}
				if err != nil {
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
		b.Abort()
		return 0, failure
	}
	return b.Pages() + b.Kept(), b.Finish()
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
	files := []string{}
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

// page renders one incident's status post (and RFO) for the static site.
// A brief page leaves out the updates' HTML, which only the site-wide
// files show, for few incidents (the builder fills those in).
func (r *Runbook) page(st *Store, id string, brief bool) (static.Page, bool, error) {
	inc, err := st.Load(id)
	if err != nil {
		return static.Page{}, false, err
	}
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
	if brief {
		return static.Page{Incident: r.briefIncident(inc), Title: x.Title, HTML: x.HTML, RFO: rfo, Brief: true}, true, nil
	}
	return static.Page{Incident: r.postIncident(inc), Title: x.Title, HTML: x.HTML, RFO: rfo}, true, nil
}

// entryPage is what the builder's fill needs of an incident: what the
// site-wide files show of it (the updates with their HTML, and whether it
// has an RFO), not its rendered pages, which are on the site already.
func (r *Runbook) entryPage(st *Store, id string) (static.Page, error) {
	inc, err := st.Load(id)
	if err != nil {
		return static.Page{}, err
	}
	pg := static.Page{Incident: r.postIncident(inc)}
	if lastRFO(inc) != nil {
		pg.RFO = &static.Page{}
	}
	return pg, nil
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
