package runbook_test

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/incident-cli/incident/internal/benchdata"
	"github.com/incident-cli/incident/publishers/static"
	"github.com/incident-cli/incident/runbook"
)

// siteFiles is a built site: each file's content and identity (a page
// written again is a new file: the build renames it into place).
type siteFiles struct {
	content map[string][]byte
	info    map[string]fs.FileInfo
}

func readSite(t *testing.T, dir string) siteFiles {
	t.Helper()
	s := siteFiles{content: map[string][]byte{}, info: map[string]fs.FileInfo{}}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
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
func rewritten(a, b siteFiles) []string {
	var out []string
	for name, bi := range b.info {
		if !strings.HasPrefix(name, "incidents"+string(filepath.Separator)) {
			continue
		}
		if ai, ok := a.info[name]; !ok || !os.SameFile(ai, bi) {
			out = append(out, filepath.Base(name))
		}
	}
	sort.Strings(out)
	return out
}

// sameSite requires two builds to hold the same files with the same bytes.
func sameSite(t *testing.T, what string, a, b siteFiles) {
	t.Helper()
	for name, ac := range a.content {
		if bc, ok := b.content[name]; !ok {
			t.Errorf("%s: %s is missing", what, name)
		} else if !bytes.Equal(ac, bc) {
			t.Errorf("%s: %s differs", what, name)
		}
	}
	for name := range b.content {
		if _, ok := a.content[name]; !ok {
			t.Errorf("%s: %s is extra", what, name)
		}
	}
}

// TestBuildSiteIncremental: a build renders only the incidents whose record
// changed since the last one (and every open incident), keeps the other
// pages as they are, and makes the same site as a full build: with the
// manifest deleted or damaged, the site deleted, an incident removed (an
// older one moves onto the index), an event file edited in place, a
// template changed.
func TestBuildSiteIncremental(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	state := filepath.Join(dir, "state")
	rb, err := benchdata.Runbook(filepath.Join(dir, "rb"), state, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	const n = static.History + 10
	if err := benchdata.Generate(rb, n, 3); err != nil {
		t.Fatal(err)
	}
	page := rb.StatusPage.Pub.(*static.Publisher)
	build := func(want int) siteFiles {
		t.Helper()
		got, err := rb.BuildSite(page)
		if err != nil || got != want {
			t.Fatalf("BuildSite = %d, %v; want %d pages", got, err, want)
		}
		return readSite(t, page.Dir())
	}
	manifests := func() []string {
		m, _ := filepath.Glob(filepath.Join(state, "site-build-*.json"))
		return m
	}
	ids, _ := rb.Store.IDs()

	full := build(n)
	if len(manifests()) != 1 {
		t.Fatalf("manifests after a build: %v", manifests())
	}
	// The site-wide files show the updates' HTML (pages are added brief,
	// and the shown ones filled in).
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
	again := build(n)
	if r := rewritten(full, again); len(r) != 0 {
		t.Errorf("nothing changed, yet %d pages were rendered again: %v", len(r), r)
	}
	sameSite(t, "second build", full, again)

	// A new event: only that incident is rendered again.
	changed := ids[3]
	if err := rb.Store.Append(changed, &runbook.Event{Kind: runbook.KindUpdate, At: now, By: "bob", Status: runbook.Resolved,
		Message: "A postscript: the cause was a full disk.", Channels: []string{rb.StatusPage.Name}}); err != nil {
		t.Fatal(err)
	}
	inc := build(n)
	if r := rewritten(again, inc); len(r) != 1 || r[0] != changed+".html" {
		t.Errorf("rendered again after one new event: %v, want only %s.html", r, changed)
	}
	if !bytes.Contains(inc.content[filepath.Join("incidents", changed+".html")], []byte("A postscript")) {
		t.Errorf("the changed page lacks the new update")
	}
	for _, m := range manifests() {
		if err := os.Remove(m); err != nil {
			t.Fatal(err)
		}
	}
	fresh := build(n)
	sameSite(t, "full build after deleting the manifest", inc, fresh)
	if r := rewritten(inc, fresh); len(r) != n {
		t.Errorf("without a manifest %d pages were rendered, want %d", len(r), n)
	}

	// A damaged manifest, or a site deleted, is a full build.
	if err := os.WriteFile(manifests()[0], []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := rewritten(fresh, build(n)); len(r) != n {
		t.Errorf("with a damaged manifest %d pages were rendered, want %d", len(r), n)
	}
	if err := os.RemoveAll(page.Dir()); err != nil {
		t.Fatal(err)
	}
	sameSite(t, "build after deleting the site", fresh, build(n))

	// The newest incident (on the index) is removed: its page goes, and
	// the one just below the index's history moves up, as in a full build.
	before := readSite(t, page.Dir())
	newest := ids[len(ids)-1]
	if err := os.RemoveAll(filepath.Join(rb.Store.Dir, newest)); err != nil {
		t.Fatal(err)
	}
	removed := build(n - 1)
	if _, ok := removed.content[filepath.Join("incidents", newest+".html")]; ok {
		t.Errorf("the removed incident's page is still there")
	}
	if r := rewritten(before, removed); len(r) != 0 {
		t.Errorf("removing an incident rendered %v again", r)
	}
	for _, m := range manifests() {
		os.Remove(m)
	}
	sameSite(t, "removed incident: incremental against full", removed, build(n-1))

	// An event file edited in place (same name, another size).
	evs, _ := filepath.Glob(filepath.Join(rb.Store.Dir, ids[7], "*-update-*.toml"))
	b, _ := os.ReadFile(evs[0])
	if err := os.WriteFile(evs[0], bytes.Replace(b, []byte("Update 1:"), []byte("Update one, edited:"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	before = readSite(t, page.Dir())
	edited := build(n - 1)
	if r := rewritten(before, edited); len(r) != 1 || r[0] != ids[7]+".html" {
		t.Errorf("after editing an event file: rendered %v, want only %s.html", r, ids[7])
	}

	// A template override changes every page.
	tmpl := filepath.Join(rb.Dir, "templates", "status.md.tmpl")
	src, err := os.ReadFile(tmpl)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tmpl, append(src, []byte("\n\nThank you for your patience.\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
	loc, _ := runbook.Find(rb.Dir, os.Getenv, rb.Dir)
	if rb, err = runbook.Open(loc, runbook.Options{StateDir: state, Now: func() time.Time { return now }}); err != nil {
		t.Fatal(err)
	}
	page = rb.StatusPage.Pub.(*static.Publisher)
	templated := build(n - 1)
	if r := rewritten(edited, templated); len(r) != n-1 {
		t.Errorf("after a template change %d pages were rendered, want %d", len(r), n-1)
	}
	if !bytes.Contains(templated.content[filepath.Join("incidents", ids[0]+".html")], []byte("Thank you for your patience.")) {
		t.Errorf("the template change is not on the pages")
	}
}

// TestBuildSiteOpenIncidentRenderedAgain: an open incident's page is
// rendered on every build (it may show times relative to now), a private
// incident (no public update) and an empty folder a killed open left get
// no page and do not stop the build.
func TestBuildSiteOpenIncidentRenderedAgain(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	rb, err := benchdata.Runbook(filepath.Join(dir, "rb"), filepath.Join(dir, "state"), func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	if err := benchdata.Generate(rb, 3, 2); err != nil {
		t.Fatal(err)
	}
	open, err := rb.Store.Create("SMTP delays", now)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []runbook.Event{
		{Kind: runbook.KindOpened, At: now, Title: "SMTP delays"},
		{Kind: runbook.KindUpdate, At: now, Status: runbook.Investigating, Message: "Looking.", Channels: []string{rb.StatusPage.Name}},
	} {
		if err := rb.Store.Append(open, &e); err != nil {
			t.Fatal(err)
		}
	}
	private, _ := rb.Store.Create("Private", now)
	if err := rb.Store.Append(private, &runbook.Event{Kind: runbook.KindOpened, At: now, Title: "Private"}); err != nil {
		t.Fatal(err)
	}
	if _, err := rb.Store.Create("Killed open", now); err != nil {
		t.Fatal(err)
	}
	page := rb.StatusPage.Pub.(*static.Publisher)
	for i := range 2 {
		if n, err := rb.BuildSite(page); err != nil || n != 4 {
			t.Fatalf("build %d: %d pages, %v; want 4", i, n, err)
		}
	}
	first := readSite(t, page.Dir())
	if _, err := rb.BuildSite(page); err != nil {
		t.Fatal(err)
	}
	if r := rewritten(first, readSite(t, page.Dir())); len(r) != 1 || r[0] != open+".html" {
		t.Errorf("rendered again: %v, want only the open incident's page %s.html", r, open)
	}
}
