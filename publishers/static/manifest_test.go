package static

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/incident-cli/incident/publishers/publisherstest"
)

// page is an incident's page for a build: resolved after n updates when n
// is 4 or more.
func page(id string, n int, key string) Page {
	inc := publisherstest.Post(n, "x").Incident
	inc.ID = id
	return Page{Incident: inc, Title: inc.Title, HTML: "<p>" + key + "</p>", Key: key}
}

// build runs one incremental build: each incident Unchanged is asked about
// is added when it answers false. It returns the ids added.
func build(t *testing.T, p *Publisher, version string, pages []Page) []string {
	t.Helper()
	b, err := p.NewIncrementalBuilder(version)
	if err != nil {
		t.Fatal(err)
	}
	var added []string
	for _, pg := range pages {
		if b.Unchanged(pg.Incident.ID, pg.Key) {
			continue
		}
		added = append(added, pg.Incident.ID)
		if err := b.Add(pg); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Finish(); err != nil {
		t.Fatal(err)
	}
	if n := b.Pages(); n != len(pages) {
		t.Errorf("Pages() = %d, want %d", n, len(pages))
	}
	return added
}

// TestIncrementalBuilder: a resolved incident's pages are kept while its
// key, the version and its page file stay as they were; an open incident
// is always rendered; a page gone from the build is removed from the site;
// without a state directory every build is a full one.
func TestIncrementalBuilder(t *testing.T) {
	p, env := newStatic(t, "type = \"static\"\n")
	withSource(p)
	resolved, open := page("2026-11-20-resolved", 4, "k1"), page("2026-11-27-open", 2, "k2")
	gone := page("2026-11-21-gone", 4, "k3")
	check := func(what string, got []string, want ...string) {
		t.Helper()
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%s: rendered %v, want %v", what, got, want)
		}
	}
	check("first build", build(t, p, "v1", []Page{resolved, open, gone}), resolved.Incident.ID, open.Incident.ID, gone.Incident.ID)
	check("nothing changed", build(t, p, "v1", []Page{resolved, open, gone}), open.Incident.ID)
	if _, err := os.Stat(filepath.Join(p.Dir(), "incidents", gone.Incident.ID+".html")); err != nil {
		t.Fatalf("the kept page is not there: %v", err)
	}
	check("one gone", build(t, p, "v1", []Page{resolved, open}), open.Incident.ID)
	if _, err := os.Stat(filepath.Join(p.Dir(), "incidents", gone.Incident.ID+".html")); err == nil {
		t.Error("the page of an incident no longer built is still there")
	}
	changed := resolved
	changed.Key, changed.HTML = "k1b", "<p>changed</p>"
	check("a new key", build(t, p, "v1", []Page{changed, open}), resolved.Incident.ID, open.Incident.ID)
	if b, _ := os.ReadFile(filepath.Join(p.Dir(), "incidents", resolved.Incident.ID+".html")); !strings.Contains(string(b), "<p>changed</p>") {
		t.Errorf("the page rendered again is not the new one:\n%s", b)
	}
	check("another version", build(t, p, "v2", []Page{changed, open}), resolved.Incident.ID, open.Incident.ID)
	if err := os.WriteFile(filepath.Join(p.Dir(), "incidents", resolved.Incident.ID+".html"), []byte("defaced"), 0o644); err != nil {
		t.Fatal(err)
	}
	check("a page edited in the site", build(t, p, "v2", []Page{changed, open}), resolved.Incident.ID, open.Incident.ID)
	check("an empty key", build(t, p, "v2", []Page{page(resolved.Incident.ID, 4, ""), open}), resolved.Incident.ID, open.Incident.ID)
	check("after an empty key", build(t, p, "v2", []Page{page(resolved.Incident.ID, 4, ""), open}), resolved.Incident.ID, open.Incident.ID)

	env.StateDir = ""
	prim, md := publisherstest.Decode(t, "type = \"static\"\n")
	pub, err := New(prim, md, env)
	if err != nil {
		t.Fatal(err)
	}
	stateless := pub.(*Publisher)
	withSource(stateless)
	for range 2 {
		check("no state directory", build(t, stateless, "v2", []Page{changed, open}), resolved.Incident.ID, open.Incident.ID)
	}
}

// TestIncrementalBuilderNeverWritesIntoRecords: when event files turn up in
// the site's incidents/ (records copied there), an incremental build
// renames no page into it and replaces nothing.
func TestIncrementalBuilderNeverWritesIntoRecords(t *testing.T) {
	p, _ := newStatic(t, "type = \"static\"\n")
	withSource(p)
	resolved := page("2026-11-20-resolved", 4, "k1")
	build(t, p, "v1", []Page{resolved})
	event := filepath.Join(p.Dir(), "incidents", "2026-11-27-x", "20261127T101500.000000000Z-opened-abcdef.toml")
	if err := os.MkdirAll(filepath.Dir(event), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(event, []byte("kind = \"opened\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := p.NewIncrementalBuilder("v1")
	if err != nil {
		t.Fatal(err)
	}
	if b.Incremental() || b.Unchanged(resolved.Incident.ID, "k1") {
		t.Fatal("an incremental build over a folder holding event files")
	}
	open := page("2026-11-27-open", 2, "k2")
	if err := b.Add(open); err != nil {
		t.Fatal(err)
	}
	if err := b.Finish(); err == nil || !strings.Contains(err.Error(), "holds event files") {
		t.Fatalf("Finish = %v, want a refusal", err)
	}
	if _, err := os.Stat(event); err != nil {
		t.Fatalf("the event file is gone: %v", err)
	}
	if _, err := os.Stat(filepath.Join(p.Dir(), "incidents", open.Incident.ID+".html")); err == nil {
		t.Error("a page was written into the records")
	}
	if left, _ := filepath.Glob(filepath.Join(p.Dir(), ".build-*")); len(left) > 0 {
		t.Errorf("staging folders left: %v", left)
	}
}

// TestBuildRemovesStagingLeftovers: the staging folders of a build that was
// killed are removed by the next one.
func TestBuildRemovesStagingLeftovers(t *testing.T) {
	p, _ := newStatic(t, "type = \"static\"\n")
	withSource(p)
	left := filepath.Join(p.Dir(), ".build-123456", "2026-11-20-x.html")
	if err := os.MkdirAll(filepath.Dir(left), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(left, []byte("half"), 0o644); err != nil {
		t.Fatal(err)
	}
	build(t, p, "v1", []Page{page("2026-11-20-resolved", 4, "k1")})
	if found, _ := filepath.Glob(filepath.Join(p.Dir(), ".build-*")); len(found) > 0 {
		t.Errorf("staging folders left: %v", found)
	}
}
