//go:build integration

// Integration test with the real hugo binary: the channel writes into a copy
// of testdata/site (a minimal cState-like theme), hugo builds it, and the
// test reads the built pages at the URLs the channel predicted. It runs only
// with `-tags integration` and INCIDENT_IT_HUGO set (the path of hugo, or 1
// to take it from PATH), as .ci/services writes it; with INCIDENT_IT_REQUIRE
// set (CI) a missing variable fails the test instead of skipping it:
//
//	bash .ci/services /tmp/it.env && . /tmp/it.env
//	go test -tags integration ./publishers/hugo/ -run Integration -v
package hugo_test

import (
	"context"
	"fmt"
	"html"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/incident-cli/incident/publishers"
	"github.com/incident-cli/incident/publishers/hugo"
	"github.com/incident-cli/incident/publishers/publisherstest"
	"github.com/incident-cli/incident/templates"
)

// itBase is the site's public URL; its path checks that the channel's
// predicted URLs keep a base path as Hugo does.
const itBase = "https://status.example.com/status/"

// itHugo returns the hugo binary to test with, or skips.
func itHugo(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("INCIDENT_IT_HUGO")
	if bin == "" {
		if os.Getenv("INCIDENT_IT_REQUIRE") != "" { // CI must prove the integration
			t.Fatal("INCIDENT_IT_REQUIRE is set but INCIDENT_IT_HUGO is not")
		}
		t.Skip("INCIDENT_IT_HUGO is not set: run `bash .ci/services /tmp/it.env && . /tmp/it.env` first")
	}
	if bin == "1" || !strings.Contains(bin, "/") {
		p, err := exec.LookPath("hugo")
		if err != nil {
			t.Fatalf("INCIDENT_IT_HUGO=%s but hugo is not on PATH: %v", bin, err)
		}
		bin = p
	}
	return bin
}

// TestIntegrationHugoUnsafe: a site configured with unsafe = true renders
// the page's Markdown as it is; what was typed (service names, the
// message) was escaped by the templates, so the real hugo renders no tag
// and no javascript: link of it.
func TestIntegrationHugoUnsafe(t *testing.T) {
	bin := itHugo(t)
	env := publisherstest.Env(t, "status", nil)
	env.Now = time.Now
	site := filepath.Join(env.Dir, "site")
	itCopyDir(t, filepath.Join("testdata", "site"), site)
	f, err := os.OpenFile(filepath.Join(site, "hugo.toml"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(f, "\n[markup.goldmark.renderer]\n  unsafe = true\n")
	f.Close()
	prim, md := publisherstest.Decode(t, fmt.Sprintf("name = \"status\"\ndir = \"site\"\nbase_url = %q\n", itBase))
	p, err := hugo.New(prim, md, env)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Truncate(time.Second)
	inc := publishers.Incident{ID: now.UTC().Format("2006-01-02") + "-webmail", Title: "Webmail <b>down</b>", Severity: "major",
		Services:  []publishers.Service{{ID: "webmail", Name: "Webmail <img src=x onerror=alert(1)>"}},
		StartedAt: now.Add(-20 * time.Minute), OpenedAt: now.Add(-15 * time.Minute)}
	post := itPost(t, &inc, "investigating", "Typed: <script>alert(2)</script>, [click me](javascript:alert(3)) and [ok](https://example.com/ok).")
	rec, err := p.Publish(context.Background(), post)
	if err != nil {
		t.Fatal(err)
	}
	b := itBuilder{t: t, bin: bin, site: site, public: filepath.Join(t.TempDir(), "public"), cache: t.TempDir()}
	b.build()
	page := b.page(rec.URL)
	for _, bad := range []string{"<script>alert(2)", "<img src=x", `href="javascript:`, "<b>down</b>"} {
		if strings.Contains(page, bad) {
			t.Errorf("hugo rendered %q:\n%s", bad, page)
		}
	}
	if !strings.Contains(page, `<a href="https://example.com/ok">ok</a>`) {
		t.Errorf("the safe link is lost:\n%s", page)
	}
}

func TestIntegrationHugo(t *testing.T) {
	bin := itHugo(t)
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("%s version: %v\n%s", bin, err, out)
	}
	t.Logf("%s", strings.TrimSpace(string(out)))

	ctx := context.Background()
	env := publisherstest.Env(t, "status", nil)
	env.Now = time.Now // hugo leaves out pages dated in the future
	site := filepath.Join(env.Dir, "site")
	itCopyDir(t, filepath.Join("testdata", "site"), site)
	prim, md := publisherstest.Decode(t, fmt.Sprintf("name = \"status\"\ndir = \"site\"\nbase_url = %q\n", itBase))
	p, err := hugo.New(prim, md, env)
	if err != nil {
		t.Fatalf("hugo.New: %v", err)
	}
	loc := p.(publishers.Locator)
	b := itBuilder{t: t, bin: bin, site: site, public: filepath.Join(t.TempDir(), "public"), cache: t.TempDir()}

	now := time.Now().Truncate(time.Second)
	nonce := fmt.Sprintf("%x", now.UnixNano())
	id := now.UTC().Format("2006-01-02") + "-imap-pop-login-failures"
	mark1, mark2, markRFO := "itupdate1x"+nonce, "itupdate2x"+nonce, "itrfox"+nonce
	inc := publishers.Incident{
		ID: id, Title: `IMAP/POP login failures & "slow" <b>webmail</b>`, Severity: "major", Accounts: 1200,
		Services:  []publishers.Service{{ID: "imap", Name: "IMAP/POP"}, {ID: "smtp", Name: "Outgoing mail (SMTP)"}},
		StartedAt: now.Add(-20 * time.Minute),
		OpenedAt:  now.Add(-15 * time.Minute),
	}

	// 1. The first update: an open incident.
	p1 := itPost(t, &inc, "investigating", mark1+" We are investigating reports of IMAP and POP login failures.\n\n"+
		"Typed by the responder: <script>alert(1)</script> and a shortcode {{< nosuch >}} and {{% nosuch %}}.")
	r1, err := p.Publish(ctx, p1)
	if err != nil {
		t.Fatalf("first update: %v", err)
	}
	if want := loc.URLFor(id, publishers.KindUpdate); r1.URL != want {
		t.Fatalf("receipt URL %s, URLFor %s", r1.URL, want)
	}
	b.build()
	page := b.page(r1.URL)
	if got := itText(t, page, `<h1>(.*?)</h1>`); got != p1.Title {
		t.Errorf("page title %q, want %q", got, p1.Title)
	}
	if got := itText(t, page, `<ul class="affected">(.*?)</ul>`); got != "IMAP/POPOutgoing mail (SMTP)" {
		t.Errorf("affected services %q, want IMAP/POP and Outgoing mail (SMTP)", got)
	}
	for _, want := range []string{mark1, `data-severity="disrupted"`, "Downtime ongoing; severity disrupted."} {
		if !strings.Contains(page, want) {
			t.Errorf("the page %s lacks %q", r1.URL, want)
		}
	}
	// The shortcodes were neutralized: hugo built the page and shows them as text.
	if text := html.UnescapeString(page); !strings.Contains(text, "{{< nosuch >}}") || !strings.Contains(text, "{{% nosuch %}}") {
		t.Errorf("the page %s does not show the typed shortcodes as text", r1.URL)
	}
	if strings.Contains(page, "<script>alert(1)</script>") {
		t.Errorf("the page %s holds the typed <script> as HTML", r1.URL)
	}
	if strings.Contains(page, "raw HTML omitted") {
		t.Logf("note: hugo dropped the HTML the responder typed (<!-- raw HTML omitted -->) instead of showing it as text")
	}
	home := b.page(itBase)
	for _, want := range []string{"IMAP/POP: disrupted", "Outgoing mail (SMTP): disrupted", "Webmail: ok", `href="/status/issues/` + id + `/"`} {
		if !strings.Contains(home, html.EscapeString(want)) && !strings.Contains(home, want) {
			t.Errorf("the home page lacks %q:\n%s", want, home)
		}
	}

	// 2. The last update resolves it: the same page, rewritten.
	inc.ResolvedAt = now.Add(-time.Minute)
	p2 := itPost(t, &inc, "resolved", mark2+" Logins work again.")
	p2.Incident.Severity = "critical"
	p2.Thread, p2.Parent = &r1, &r1
	r2, err := p.Publish(ctx, p2)
	if err != nil || r2.ID != r1.ID || r2.URL != r1.URL {
		t.Fatalf("last update: %+v, %v; want the page %s again", r2, err, r1.ID)
	}
	b.build()
	page = b.page(r2.URL)
	i1, i2 := strings.Index(page, mark1), strings.Index(page, mark2)
	if i1 < 0 || i2 < 0 || i2 > i1 {
		t.Errorf("the page %s does not show both updates, newest first", r2.URL)
	}
	for _, want := range []string{`data-severity="down"`, "Resolved after 19 minutes of downtime.", "[Resolved]"} {
		if !strings.Contains(page, want) {
			t.Errorf("the resolved page %s lacks %q", r2.URL, want)
		}
	}
	home = b.page(itBase)
	if !strings.Contains(home, "IMAP/POP: ok") || !strings.Contains(home, "Outgoing mail (SMTP): ok") {
		t.Errorf("the home page still shows a disruption after the incident was resolved:\n%s", home)
	}

	// 3. The RFO is its own, informational page.
	rfo := itRFO(t, p2.Incident, markRFO+" A certificate expired on the IMAP proxies.")
	rfo.Thread, rfo.Parent = &r1, &r2
	r3, err := p.Publish(ctx, rfo)
	if err != nil {
		t.Fatalf("RFO: %v", err)
	}
	if want := loc.URLFor(id, publishers.KindRFO); r3.URL != want || r3.URL == r1.URL {
		t.Fatalf("RFO receipt URL %s, URLFor %s", r3.URL, want)
	}
	b.build()
	page = b.page(r3.URL)
	for _, want := range []string{markRFO, "Informational", "Root cause", "Reason For Outage"} {
		if !strings.Contains(page, want) {
			t.Errorf("the RFO page %s lacks %q", r3.URL, want)
		}
	}
	// The report's own Markdown, as Hugo renders it: a table, a list,
	// emphasis, a link, a ### sub-section.
	for _, want := range []string{"<table>", "<th>Time</th>", ">61.0%</td>", "<li>Alert at <em>80 %</em> busy workers.</li>",
		`<a href="https://status.example.com/">the incident</a>`, "Worker saturation</h3>", "<strong>not lost</strong>"} {
		if !strings.Contains(page, want) {
			t.Errorf("the RFO page %s lacks %q", r3.URL, want)
		}
	}
	if strings.Contains(b.page(r1.URL), markRFO) {
		t.Errorf("the RFO changed the incident's page")
	}

	// 4. An id with capitals: Hugo lower-cases the path, as URLFor predicts.
	inc2 := publishers.Incident{ID: id + "-SMTP-Queue", Title: "Outgoing mail delayed", Severity: "minor",
		Services:  []publishers.Service{{ID: "smtp", Name: "Outgoing mail (SMTP)"}},
		StartedAt: now.Add(-5 * time.Minute)}
	q := itPost(t, &inc2, "identified", "itqueuex"+nonce+" Outgoing mail is queued.")
	r4, err := p.Publish(ctx, q)
	if err != nil {
		t.Fatalf("second incident: %v", err)
	}
	b.build()
	if page := b.page(r4.URL); !strings.Contains(page, "itqueuex"+nonce) || !strings.Contains(page, `data-severity="notice"`) {
		t.Errorf("the page %s lacks the update or its severity", r4.URL)
	}
	if home := b.page(itBase); !strings.Contains(home, "Outgoing mail (SMTP): notice") || !strings.Contains(home, "IMAP/POP: ok") {
		t.Errorf("the home page does not show the second incident's state:\n%s", home)
	}
}

// itBuilder runs hugo on the site and reads the pages it built.
type itBuilder struct {
	t                        *testing.T
	bin, site, public, cache string
}

func (b itBuilder) build() {
	b.t.Helper()
	if err := os.RemoveAll(b.public); err != nil {
		b.t.Fatal(err)
	}
	start := time.Now()
	cmd := exec.Command(b.bin, "--source", b.site, "--destination", b.public, "--baseURL", itBase,
		"--cacheDir", b.cache, "--panicOnWarning")
	cmd.Env = append(os.Environ(), "HUGO_ENVIRONMENT=production")
	out, err := cmd.CombinedOutput()
	if err != nil {
		content, _ := os.ReadDir(filepath.Join(b.site, "content", "issues"))
		b.t.Fatalf("hugo build: %v\n%s\n(content/issues holds %d files)", err, out, len(content))
	}
	b.t.Logf("hugo built the site in %s", time.Since(start).Round(time.Millisecond))
}

// page reads the built page for a public URL under itBase.
func (b itBuilder) page(url string) string {
	b.t.Helper()
	rel, ok := strings.CutPrefix(url, itBase)
	if !ok {
		b.t.Fatalf("URL %s is not under the site's base %s", url, itBase)
	}
	file := filepath.Join(b.public, filepath.FromSlash(rel))
	if rel == "" || strings.HasSuffix(rel, "/") {
		file = filepath.Join(file, "index.html")
	}
	data, err := os.ReadFile(file)
	if err != nil {
		var built []string
		_ = filepath.WalkDir(b.public, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				r, _ := filepath.Rel(b.public, p)
				built = append(built, r)
			}
			return nil
		})
		b.t.Fatalf("no page at %s: %v; hugo built:\n%s", url, err, strings.Join(built, "\n"))
	}
	page := string(data)
	if canonical := itText(b.t, page, `<link rel="canonical" href="([^"]*)">`); canonical != url {
		b.t.Errorf("hugo's permalink of %s is %s", url, canonical)
	}
	return page
}

// itText returns the first submatch of expr in page, tags removed and HTML
// entities decoded.
func itText(t *testing.T, page, expr string) string {
	t.Helper()
	m := regexp.MustCompile(`(?s)` + expr).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no match for %s in:\n%s", expr, page)
	}
	s := regexp.MustCompile(`<[^>]*>`).ReplaceAllString(m[1], "")
	return strings.TrimSpace(html.UnescapeString(strings.Join(strings.Fields(s), " ")))
}

// itCopyDir copies the test site.
func itCopyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		dst := filepath.Join(to, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// itPost adds an update to inc and renders the status post as the engine
// does, with the built-in title and status templates.
func itPost(t *testing.T, inc *publishers.Incident, status, message string) publishers.Post {
	t.Helper()
	n := len(inc.Updates) + 1
	at := inc.StartedAt.Add(time.Duration(n) * time.Minute)
	if status == "resolved" {
		at = inc.ResolvedAt
	}
	inc.Status = status
	inc.Updates = append(inc.Updates, publishers.Update{Number: n, Status: status, Message: message, At: at, Author: "alice"})
	title, text := itRender(t, itData(*inc), templates.StatusFile)
	return publishers.Post{Key: fmt.Sprintf("%s/update-%d/status", inc.ID, n), Kind: publishers.KindUpdate,
		Title: title, Text: text, Incident: *inc}
}

// itRFO renders the RFO post of a resolved incident.
func itRFO(t *testing.T, inc publishers.Incident, rootCause string) publishers.Post {
	t.Helper()
	d := itData(inc)
	d.RFO = &templates.RFO{Summary: "Logins failed for 19 minutes.", RootCause: rootCause,
		Mitigation: "We renewed the certificate.", FollowUp: "Certificates are renewed automatically.",
		Sections: []templates.RFOSection{ // a report written as a file
			{Heading: "Summary", Level: 2, Kind: templates.SectionSummary, Body: "Logins failed for 19 minutes. Mail was **not lost**; see [the incident](https://status.example.com/)."},
			{Heading: "Root cause", Level: 2, Kind: templates.SectionRootCause, Body: rootCause + "\n\n| Time  | Failed |\n| ----- | -----: |\n| 23:45 | 61.0% |"},
			{Heading: "Adjustments to monitoring", Level: 2},
			{Heading: "Worker saturation", Level: 3, Body: "- Alert at *80 %* busy workers.\n- Alert when failed logins exceed 20 %."},
		},
		Timeline: []templates.TimelineEntry{{At: inc.StartedAt, Text: "Logins start failing."}}, UpdateCount: len(inc.Updates),
		FirstUpdateAfter: 5 * time.Minute, LongestGap: 10 * time.Minute, Cadence: 30 * time.Minute}
	title, text := itRender(t, d, templates.RFOFile)
	inc.RFO = &publishers.Update{At: time.Now(), Message: rootCause}
	return publishers.Post{Key: inc.ID + "/rfo/status", Kind: publishers.KindRFO, Title: title, Text: text, Incident: inc}
}

func itData(inc publishers.Incident) *templates.Data {
	d := &templates.Data{Organization: "Example Mail", Cadence: 30 * time.Minute,
		Incident: templates.Incident{ID: inc.ID, Title: inc.Title, Status: inc.Status, Severity: inc.Severity,
			Accounts: inc.Accounts, StartedAt: inc.StartedAt, OpenedAt: inc.OpenedAt, ResolvedAt: inc.ResolvedAt}}
	for _, s := range inc.Services {
		d.Incident.Services = append(d.Incident.Services, templates.Service{ID: s.ID, Name: s.Name})
	}
	for _, u := range inc.Updates {
		d.Updates = append(d.Updates, templates.Update{Number: u.Number, Status: u.Status, Message: u.Message, Author: u.Author, At: u.At})
	}
	if len(d.Updates) > 0 {
		d.Update = d.Updates[len(d.Updates)-1]
	}
	return d
}

func itRender(t *testing.T, d *templates.Data, file string) (title, text string) {
	t.Helper()
	set, err := templates.Load("", []*time.Location{time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	if title, err = set.Render(templates.TitleFile, d); err != nil {
		t.Fatal(err)
	}
	if text, err = set.Render(file, d); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(title), text
}
