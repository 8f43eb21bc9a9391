package runbook_test

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/incident-cli/incident/internal/benchdata"
	"github.com/incident-cli/incident/publishers/static"
	"github.com/incident-cli/incident/runbook"
)

// builtSite is a built site: each file's content and identity (a page
// rendered again is a new file written at another time; a kept page is the
// same file as it was).
type builtSite struct {
	content map[string][]byte
	info    map[string]fs.FileInfo
}

func readSite(t *testing.T, dir string) builtSite {
	t.Helper()
	s := builtSite{content: map[string][]byte{}, info: map[string]fs.FileInfo{}}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == static.LockFile {
			return nil
		}
		if strings.HasPrefix(filepath.Base(rel), ".") {
			t.Errorf("the build left %s behind", rel)
		}
		if s.content[rel], err = os.ReadFile(p); err != nil {
			return err
		}
		s.info[rel], err = os.Stat(p)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// rewritten lists the incident pages of b that are not the files of a.
func rewritten(a, b builtSite) []string { return rewrittenIn("incidents", a, b) }

// rewrittenIn lists the files in folder of b that are not the files of a.
func rewrittenIn(folder string, a, b builtSite) []string {
	var out []string
	for name, bi := range b.info {
		if !strings.HasPrefix(name, folder+string(filepath.Separator)) {
			continue
		}
		if ai, ok := a.info[name]; !ok || !os.SameFile(ai, bi) || !ai.ModTime().Equal(bi.ModTime()) {
			out = append(out, filepath.Base(name))
		}
	}
	sort.Strings(out)
	return out
}

// sameSite requires two builds to hold the same files with the same bytes.
func sameSite(t *testing.T, what string, a, b builtSite) {
	t.Helper()
	for name, ac := range a.content {
		if bc, ok := b.content[name]; !ok {
			t.Errorf("%s: %s is missing", what, name)
		} else if !bytes.Equal(ac, bc) {
			t.Errorf("%s: %s differs:\n%s\n---\n%s", what, name, ac, bc)
		}
	}
	for name := range b.content {
		if _, ok := a.content[name]; !ok {
			t.Errorf("%s: %s is extra", what, name)
		}
	}
}

// siteCase is a generated runbook of n resolved incidents and a recent one
// that held IMAP down (so the 90-day bars show something), with a fixed
// clock.
type siteCase struct {
	t     *testing.T
	rb    *runbook.Runbook
	state string
	now   time.Time
	ids   []string
}

func newSiteCase(t *testing.T, n, updates int) *siteCase {
	t.Helper()
	dir := t.TempDir()
	c := &siteCase{t: t, state: filepath.Join(dir, "state"), now: time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)}
	rb, err := benchdata.Runbook(filepath.Join(dir, "rb"), c.state, func() time.Time { return c.now })
	if err != nil {
		t.Fatal(err)
	}
	c.rb = rb
	if err := benchdata.Generate(rb, n, updates); err != nil {
		t.Fatal(err)
	}
	c.ids, _ = rb.Store.IDs()
	return c
}

func (c *siteCase) page() *static.Publisher { return c.rb.StatusPage.Pub.(*static.Publisher) }

// build builds the site, requiring want pages, and reads it.
func (c *siteCase) build(want int) builtSite {
	c.t.Helper()
	got, err := c.rb.BuildSite(c.page())
	if err != nil || got != want {
		c.t.Fatalf("BuildSite = %d, %v; want %d pages", got, err, want)
	}
	return readSite(c.t, c.page().Dir())
}

func (c *siteCase) manifests() []string {
	m, _ := filepath.Glob(filepath.Join(c.state, "site-build-*.json"))
	return m
}

func (c *siteCase) removeManifests() {
	c.t.Helper()
	for _, m := range c.manifests() {
		if err := os.Remove(m); err != nil {
			c.t.Fatal(err)
		}
	}
}

// recent records an incident started 3 days before now that held IMAP in a
// partial outage for 2 hours, resolved.
func (c *siteCase) recent() string {
	c.t.Helper()
	at := c.now.Add(-72 * time.Hour)
	st := &runbook.Store{Dir: c.rb.Store.Dir}
	id, unlock, err := st.Create(st.NewID("Recent IMAP outage", at), &runbook.Event{Kind: runbook.KindOpened, At: at, By: "alice",
		Title: "Recent IMAP outage", Services: []string{"imap"}, Severity: "major"})
	if err != nil {
		c.t.Fatal(err)
	}
	defer unlock()
	for i, e := range []runbook.Event{
		{Kind: runbook.KindUpdate, At: at, By: "alice", Status: runbook.Investigating, Message: "Logins fail.",
			States: map[string]string{"imap": runbook.PartialOutage}, Channels: []string{c.rb.StatusPage.Name}},
		{Kind: runbook.KindUpdate, At: at.Add(2 * time.Hour), By: "alice", Status: runbook.Resolved, Message: "Fixed.",
			Channels: []string{c.rb.StatusPage.Name}},
	} {
		if err := st.Append(id, &e); err != nil {
			c.t.Fatalf("event %d: %v", i, err)
		}
	}
	return id
}

// TestBuildSiteIncremental: a build renders only the incidents whose record
// changed since the last one (and every open incident), keeps the other
// pages as they are, and makes the same site, byte for byte, as a full
// build: with the manifest deleted or damaged, the site deleted, an
// incident removed (an older one moves onto the index), an event file
// edited in place, a page edited or deleted in the site, a template
// changed.
func TestBuildSiteIncremental(t *testing.T) {
	const n = static.History + 10
	c := newSiteCase(t, n, 3)
	recent := c.recent()
	ids, _ := c.rb.Store.IDs()

	full := c.build(n + 1)
	if len(c.manifests()) != 1 {
		t.Fatalf("manifests after a build: %v", c.manifests())
	}
	// The shared files show the updates' HTML (pages are rendered without
	// it), and the 90-day bars the recent outage.
	var site static.Site
	if err := json.Unmarshal(full.content["status.json"], &site); err != nil || len(site.Incidents) != static.History {
		t.Fatalf("status.json: %v, %d incidents", err, len(site.Incidents))
	}
	for _, e := range site.Incidents {
		for _, u := range e.Updates {
			if !strings.HasPrefix(u.HTML, "<p>") {
				t.Fatalf("status.json: %s update %d has HTML %q", e.ID, u.Number, u.HTML)
			}
		}
	}
	if !bytes.Contains(full.content["index.html"], []byte("Tue 24 Nov · Partial outage 2 h")) {
		t.Errorf("the bars lack the recent outage:\n%s", full.content["index.html"])
	}
	again := c.build(n + 1)
	if r := rewritten(full, again); len(r) != 0 {
		t.Errorf("nothing changed, yet %d pages were rendered again: %v", len(r), r)
	}
	if r := rewrittenIn("history", full, again); len(r) != 1 || r[0] != "index.html" {
		t.Errorf("nothing changed, yet these history pages were rendered again: %v (want index.html only)", r)
	}
	sameSite(t, "second build", full, again)

	// A new event: only that incident is rendered again, and the bars and
	// history show it as a full build does.
	if err := c.rb.Store.Append(recent, &runbook.Event{Kind: runbook.KindUpdate, At: c.now, By: "bob", Status: runbook.Resolved,
		Message: "A postscript: the cause was a full disk.", Channels: []string{c.rb.StatusPage.Name}}); err != nil {
		t.Fatal(err)
	}
	inc := c.build(n + 1)
	if r := rewritten(again, inc); len(r) != 1 || r[0] != recent+".html" {
		t.Errorf("rendered again after one new event: %v, want only %s.html", r, recent)
	}
	if !bytes.Contains(inc.content[filepath.Join("incidents", recent+".html")], []byte("A postscript")) {
		t.Errorf("the changed page lacks the new update")
	}
	// Its month shows when it was resolved, which the postscript moved: that
	// month is rendered again, the others are kept (the index always).
	if r := rewrittenIn("history", again, inc); strings.Join(r, " ") != "2026-11.html index.html" {
		t.Errorf("history pages rendered again after one new event: %v, want 2026-11.html index.html", r)
	}
	c.removeManifests()
	fresh := c.build(n + 1)
	sameSite(t, "full build after deleting the manifest", inc, fresh)
	if r := rewritten(inc, fresh); len(r) != n+1 {
		t.Errorf("without a manifest %d pages were rendered, want %d", len(r), n+1)
	}

	// A damaged manifest, or a site deleted, is a full build.
	if err := os.WriteFile(c.manifests()[0], []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	damaged := c.build(n + 1)
	if r := rewritten(fresh, damaged); len(r) != n+1 {
		t.Errorf("with a damaged manifest %d pages were rendered, want %d", len(r), n+1)
	}
	sameSite(t, "full build after damaging the manifest", fresh, damaged)
	if err := os.RemoveAll(c.page().Dir()); err != nil {
		t.Fatal(err)
	}
	sameSite(t, "build after deleting the site", fresh, c.build(n+1))

	// A page edited or deleted in the site is rendered again.
	before := readSite(t, c.page().Dir())
	edited, deleted := filepath.Join(c.page().Dir(), "incidents", ids[1]+".html"), filepath.Join(c.page().Dir(), "incidents", ids[2]+".html")
	if err := os.WriteFile(edited, []byte("defaced"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(deleted); err != nil {
		t.Fatal(err)
	}
	repaired := c.build(n + 1)
	if r := rewritten(before, repaired); strings.Join(r, " ") != ids[1]+".html "+ids[2]+".html" {
		t.Errorf("after editing one page and deleting another, rendered %v", r)
	}
	sameSite(t, "pages edited and deleted", before, repaired)

	// The newest generated incident (on the index) is removed: its page
	// goes, and the one just below the index's history moves up, as in a
	// full build.
	before = repaired
	newest := c.ids[len(c.ids)-1]
	if err := os.RemoveAll(filepath.Join(c.rb.Store.Dir, newest)); err != nil {
		t.Fatal(err)
	}
	removed := c.build(n)
	if _, ok := removed.content[filepath.Join("incidents", newest+".html")]; ok {
		t.Errorf("the removed incident's page is still there")
	}
	if r := rewritten(before, removed); len(r) != 0 {
		t.Errorf("removing an incident rendered %v again", r)
	}
	c.removeManifests()
	sameSite(t, "removed incident: incremental against full", removed, c.build(n))

	// An event file edited in place (same name, another size).
	evs, _ := filepath.Glob(filepath.Join(c.rb.Store.Dir, c.ids[7], "*-update-*.toml"))
	b, _ := os.ReadFile(evs[0])
	if err := os.WriteFile(evs[0], bytes.Replace(b, []byte("Update 1:"), []byte("Update one, edited:"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	before = readSite(t, c.page().Dir())
	inPlace := c.build(n)
	if r := rewritten(before, inPlace); len(r) != 1 || r[0] != c.ids[7]+".html" {
		t.Errorf("after editing an event file: rendered %v, want only %s.html", r, c.ids[7])
	}
	c.removeManifests()
	sameSite(t, "event file edited in place: incremental against full", inPlace, c.build(n))

	// A template override changes every page.
	tmpl := filepath.Join(c.rb.Dir, "templates", "status.md.tmpl")
	src, err := os.ReadFile(tmpl)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tmpl, append(src, []byte("\n\nThank you for your patience.\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
	before = readSite(t, c.page().Dir())
	loc, err := runbook.Find(c.rb.Dir, os.Getenv, c.rb.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if c.rb, err = runbook.Open(loc, runbook.Options{StateDir: c.state, Now: func() time.Time { return c.now }}); err != nil {
		t.Fatal(err)
	}
	templated := c.build(n)
	if r := rewritten(before, templated); len(r) != n {
		t.Errorf("after a template change %d pages were rendered, want %d", len(r), n)
	}
	if !bytes.Contains(templated.content[filepath.Join("incidents", c.ids[0]+".html")], []byte("Thank you for your patience.")) {
		t.Errorf("the template change is not on the pages")
	}
}

// TestBuildSiteOpenIncidentRenderedAgain: an open incident's page is
// rendered on every build (it may show times relative to now); a private
// incident (no public update) and an empty folder a killed open of an
// older version left get no page and do not stop the build; a page naming
// a related incident is rendered again when that one's record changes.
func TestBuildSiteOpenIncidentRenderedAgain(t *testing.T) {
	c := newSiteCase(t, 3, 2)
	st := &runbook.Store{Dir: c.rb.Store.Dir}
	related := c.ids[0]
	open, unlock, err := st.Create(st.NewID("SMTP delays", c.now), &runbook.Event{Kind: runbook.KindOpened, At: c.now, Title: "SMTP delays",
		Related: []string{related}})
	if err != nil {
		t.Fatal(err)
	}
	unlock()
	if err := st.Append(open, &runbook.Event{Kind: runbook.KindUpdate, At: c.now, Status: runbook.Investigating, Message: "Looking.",
		Channels: []string{c.rb.StatusPage.Name}}); err != nil {
		t.Fatal(err)
	}
	recurs, unlock, err := st.Create(st.NewID("Logins fail again", c.now), &runbook.Event{Kind: runbook.KindOpened, At: c.now,
		Title: "Logins fail again", Related: []string{related}})
	if err != nil {
		t.Fatal(err)
	}
	unlock()
	for _, e := range []runbook.Event{
		{Kind: runbook.KindUpdate, At: c.now, Status: runbook.Investigating, Message: "Again.", Channels: []string{c.rb.StatusPage.Name}},
		{Kind: runbook.KindUpdate, At: c.now, Status: runbook.Resolved, Message: "Fixed.", Channels: []string{c.rb.StatusPage.Name}},
	} {
		if err := st.Append(recurs, &e); err != nil {
			t.Fatal(err)
		}
	}
	private, unlock, err := st.Create(st.NewID("Private", c.now), &runbook.Event{Kind: runbook.KindOpened, At: c.now, Title: "Private"})
	if err != nil {
		t.Fatal(err)
	}
	unlock()
	if err := os.Mkdir(filepath.Join(st.Dir, "2026-11-27-killed-open"), 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		c.build(5)
		if i == 0 && len(c.manifests()) != 1 {
			t.Fatalf("no manifest after the first build")
		}
	}
	first := readSite(t, c.page().Dir())
	if _, ok := first.content[filepath.Join("incidents", private+".html")]; ok {
		t.Error("the private incident has a page")
	}
	if r := rewritten(first, c.build(5)); len(r) != 1 || r[0] != open+".html" {
		t.Errorf("rendered again: %v, want only the open incident's page %s.html", r, open)
	}
	// The related incident's record changes (a new event): the pages that
	// name it are rendered again.
	before := readSite(t, c.page().Dir())
	if err := st.Append(related, &runbook.Event{Kind: runbook.KindNote, At: c.now, By: "alice", Message: "A note."}); err != nil {
		t.Fatal(err)
	}
	after := c.build(5)
	if r := strings.Join(rewritten(before, after), " "); r != strings.Join(sortedNames(related+".html", recurs+".html", open+".html"), " ") {
		t.Errorf("after the related incident changed, rendered again: %s", r)
	}
	c.removeManifests()
	sameSite(t, "incremental against full", after, c.build(5))

	// Three hours on, the month of the open incident says so, as a full
	// build's does; the other months are kept. Kept pages differ from a
	// full build's only in the time they say they were generated.
	before = readSite(t, c.page().Dir())
	c.now = c.now.Add(3 * time.Hour)
	later := c.build(5)
	month := filepath.Join("history", "2026-11.html")
	if !bytes.Contains(later.content[month], []byte("last updated 2 h ago")) {
		t.Errorf("%s three hours on:\n%s", month, later.content[month])
	}
	if r := strings.Join(rewrittenIn("history", before, later), " "); r != "2026-11.html index.html" {
		t.Errorf("three hours on, history pages rendered again: %s", r)
	}
	c.removeManifests()
	sameSite(t, "three hours on: incremental against full", generatedAt(later), generatedAt(c.build(5)))
}

var generatedRE = regexp.MustCompile(`<p>Updated [^<]* · <a href="[./]*history/index.html">`)

// generatedAt is a site with the time each page says it was generated
// taken out.
func generatedAt(s builtSite) builtSite {
	out := builtSite{content: map[string][]byte{}, info: s.info}
	for name, b := range s.content {
		out.content[name] = generatedRE.ReplaceAll(b, []byte("<p>Updated (when) · "))
	}
	return out
}

func sortedNames(n ...string) []string {
	sort.Strings(n)
	return n
}
