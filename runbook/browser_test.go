package runbook

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var screenshot = flag.String("screenshot", "", "TestStatusPageInBrowser: also save a screenshot of the index to this PNG file")

// browserReport is what testdata/browser/check.js reports.
type browserReport struct {
	Pages []struct {
		Path       string
		Scheme     string
		Violations []struct {
			ID, Impact, Help string
			Nodes            []struct{ Target, HTML, Summary string }
		}
		External []string
		Scripts  int
		Services []struct {
			Name, State, Label, Uptime string
			Days                       int
			Titles                     []string
		}
		Maintenance []struct{ Section, Title, Text string }
	}
}

// TestStatusPageInBrowser opens the generated pages in a real browser
// (Debian's Chromium, driven by puppeteer-core) from file://, in the light
// and the dark colour scheme, and runs axe-core in each: zero violations of
// WCAG 2.0/2.1 A and AA. It checks the DOM too: no script, nothing fetched
// from anywhere, a row per service in the runbook's order, 90 day cells
// with their titles. It skips when node, Chromium or the node modules are
// missing (`npm ci` in testdata/browser), and fails instead with
// INCIDENT_IT_REQUIRE=1, as CI sets it.
//
//	go test ./runbook -run TestStatusPageInBrowser -screenshot $PWD/docs/status-page.png
func TestStatusPageInBrowser(t *testing.T) {
	missing := func(what string) {
		t.Helper()
		if os.Getenv("INCIDENT_IT_REQUIRE") == "1" {
			t.Fatalf("%s (INCIDENT_IT_REQUIRE=1: this test must run)", what)
		}
		t.Skip(what)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node is not installed")
	}
	chromium := os.Getenv("INCIDENT_CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		missing(chromium + " is not installed (apt-get install chromium)")
	}
	scripts, _ := filepath.Abs(filepath.Join("testdata", "browser"))
	if _, err := os.Stat(filepath.Join(scripts, "node_modules", "puppeteer-core")); err != nil {
		missing("no node modules: run `PUPPETEER_SKIP_DOWNLOAD=1 npm ci` in runbook/testdata/browser")
	}

	rb, _, ids := historyRunbook(t)
	s := staticPage(t, rb)
	if _, err := rb.BuildSite(s); err != nil {
		t.Fatal(err)
	}
	var pages []string
	for _, p := range []string{"index.html", "history/index.html", "history/2026-11.html", "history/2026-10.html",
		"incidents/" + ids["delay"] + ".html", "incidents/" + ids["login"] + ".html", "incidents/" + ids["login"] + "-rfo.html",
		"incidents/" + ids["move"] + ".html", "incidents/" + ids["upgrade"] + ".html"} {
		pages = append(pages, filepath.Join(s.Dir(), p))
	}
	shot := *screenshot
	if shot != "" {
		shot, _ = filepath.Abs(shot)
	}
	req, _ := json.Marshal(map[string]any{"chromium": chromium, "userDataDir": t.TempDir(), "pages": pages, "screenshot": shot})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "check.js")
	cmd.Dir = scripts
	cmd.Stdin = bytes.NewReader(req)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("check.js: %v\n%s", err, stderr.String())
	}
	var rep browserReport
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatalf("check.js report: %v\n%s", err, out)
	}
	if len(rep.Pages) != 2*len(pages) {
		t.Fatalf("%d pages checked, want %d", len(rep.Pages), 2*len(pages))
	}
	for _, p := range rep.Pages {
		name, _ := filepath.Rel(s.Dir(), p.Path)
		for _, v := range p.Violations {
			var where []string
			for _, n := range v.Nodes {
				where = append(where, n.Target+": "+n.HTML+" ("+strings.ReplaceAll(n.Summary, "\n", " ")+")")
			}
			t.Errorf("%s (%s): axe %s (%s): %s\n\t%s", name, p.Scheme, v.ID, v.Impact, v.Help, strings.Join(where, "\n\t"))
		}
		if len(p.External) > 0 {
			t.Errorf("%s fetched from outside the site: %v", name, p.External)
		}
		if p.Scripts > 0 {
			t.Errorf("%s has %d script elements", name, p.Scripts)
		}
		if name != "index.html" {
			if len(p.Maintenance) > 0 {
				t.Errorf("%s has a maintenance box", name)
			}
			continue
		}
		// The maintenance boxes: the window in progress, on top, and the
		// window to come, as people read them.
		if len(p.Maintenance) != 2 {
			t.Errorf("the index shows %d maintenance windows, want 2: %+v", len(p.Maintenance), p.Maintenance)
		} else {
			for i, want := range []struct{ section, title, text string }{
				{"Maintenance in progress", "Webmail search index rebuild", "Fri 27 Nov 11:00–13:00 CET (10:00–12:00 UTC)"},
				{"Scheduled Maintenance", "Webmail moves to new servers", "Tue 1 Dec 22:00–23:00 CET (21:00–22:00 UTC)"},
			} {
				m := p.Maintenance[i]
				if m.Section != want.section || m.Title != want.title || !strings.Contains(m.Text, want.text) || !strings.Contains(m.Text, "Posted on") {
					t.Errorf("maintenance window %d: %+v, want %+v", i+1, m, want)
				}
			}
		}
		var names []string
		for _, sv := range p.Services {
			names = append(names, sv.Name)
			if sv.Days != TimelineDays {
				t.Errorf("%s: %d day cells, want %d", sv.Name, sv.Days, TimelineDays)
			}
			for i, title := range sv.Titles {
				if !strings.Contains(title, " · ") {
					t.Errorf("%s day %d: title %q", sv.Name, i, title)
				}
			}
			if !strings.Contains(sv.Label, "uptime") || !strings.Contains(sv.Uptime, "% uptime") {
				t.Errorf("%s: label %q, legend %q", sv.Name, sv.Label, sv.Uptime)
			}
		}
		if got := strings.Join(names, ", "); got != "IMAP/POP, Outgoing mail (SMTP), Webmail" {
			t.Errorf("service rows: %s", got)
		}
		if len(p.Services) == 3 {
			titles := strings.Join(p.Services[0].Titles, "\n")
			for _, want := range []string{"Fri 20 Nov · Partial outage 1 h 12 min · IMAP/POP login failures", "Thu 19 Nov · No downtime recorded on this day.",
				"Tue 10 Nov · Under maintenance 1 h 30 min · IMAP server upgrade"} {
				if !strings.Contains(titles, want) {
					t.Errorf("IMAP/POP's days lack %q", want)
				}
			}
			if !strings.Contains(strings.Join(p.Services[2].Titles, "\n"), "Mon 12 Oct · No data exists for this day.") {
				t.Error("Webmail's days before it existed do not say so")
			}
			if !strings.Contains(p.Services[1].State, "Major outage") || !strings.Contains(p.Services[2].State, "Under maintenance") {
				t.Errorf("SMTP's state reads %q, Webmail's %q", p.Services[1].State, p.Services[2].State)
			}
		}
	}
	if shot != "" {
		t.Logf("screenshot: %s", shot)
	}
}
