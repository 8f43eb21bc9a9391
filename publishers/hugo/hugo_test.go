package hugo

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/incident-cli/incident/publishers"
	"github.com/incident-cli/incident/publishers/publisherstest"
)

const incidentID = "2026-11-27-imap-pop-login-failures"

// newChannel builds the channel over a fresh runbook whose site directory
// "site" exists.
func newChannel(t *testing.T, extra string) (*channel, string) {
	t.Helper()
	env := publisherstest.Env(t, "status", nil)
	site := filepath.Join(env.Dir, "site")
	if err := os.MkdirAll(site, 0o755); err != nil {
		t.Fatal(err)
	}
	prim, md := publisherstest.Decode(t, "name = \"status\"\ndir = \"site\"\nbase_url = \"https://status.example.com/\"\n"+extra)
	p, err := New(prim, md, env)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p.(*channel), site
}

func read(t *testing.T, site, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(site, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestPublishWritesCStatePages(t *testing.T) {
	c, site := newChannel(t, "")
	ctx := context.Background()

	first := publisherstest.Post(1, "**Investigating** - We are looking into \"login\" failures.")
	r1, err := c.Publish(ctx, first)
	if err != nil {
		t.Fatalf("first update: %v", err)
	}
	wantID := "content/issues/" + incidentID + ".md"
	if r1.ID != wantID || r1.URL != "https://status.example.com/issues/"+incidentID+"/" || !r1.At.Equal(publisherstest.Now) {
		t.Fatalf("receipt = %+v", r1)
	}
	want := `---
title: "[Investigating] IMAP/POP login failures"
date: 2026-11-27T09:55:00Z
resolved: false
# cState severities: down, disrupted, notice
severity: disrupted
affected:
  - "IMAP/POP"
section: issue
---

**Investigating** - We are looking into "login" failures.
`
	if got := read(t, site, wantID); got != want {
		t.Fatalf("page:\n%s\nwant:\n%s", got, want)
	}

	last := publisherstest.Post(4, "**Resolved** - All updates, newest first.")
	last.Incident.Severity = "critical"
	last.Thread, last.Parent = &r1, &r1
	r4, err := c.Publish(ctx, last)
	if err != nil || r4.ID != r1.ID || r4.URL != r1.URL {
		t.Fatalf("last update: %+v, %v", r4, err)
	}
	got := read(t, site, wantID)
	for _, s := range []string{"resolved: true\nresolvedWhen: 2026-11-27T11:45:00Z\n", "severity: down\n", "title: \"[Resolved] IMAP/POP login failures\"", "All updates, newest first.\n"} {
		if !strings.Contains(got, s) {
			t.Errorf("resolved page lacks %q:\n%s", s, got)
		}
	}

	rfo := last
	rfo.Kind, rfo.Title, rfo.Text = publishers.KindRFO, "RFO: IMAP/POP login failures", "## What happened\n\nA certificate expired."
	rfo.Incident.RFO = &publishers.Update{At: publisherstest.Now.Add(48 * time.Hour)}
	r5, err := c.Publish(ctx, rfo)
	if err != nil {
		t.Fatalf("rfo: %v", err)
	}
	if r5.ID != "content/issues/"+incidentID+"-rfo.md" || r5.URL != c.URLFor(incidentID, publishers.KindRFO) || r5.Meta["kind"] != "rfo" {
		t.Fatalf("rfo receipt = %+v", r5)
	}
	wantRFO := "---\ntitle: \"RFO: IMAP/POP login failures\"\ndate: 2026-11-29T10:15:00Z\ninformational: true\nsection: issue\n---\n\n## What happened\n\nA certificate expired.\n"
	if got := read(t, site, r5.ID); got != wantRFO {
		t.Fatalf("rfo page:\n%s\nwant:\n%s", got, wantRFO)
	}
	if read(t, site, wantID) != got {
		t.Error("the RFO changed the incident's page")
	}
}

func TestPublishIsIdempotent(t *testing.T) {
	c, site := newChannel(t, "section = \"incidents\"")
	p := publisherstest.Post(2, "Same text.")
	r1, err := c.Publish(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	before := read(t, site, r1.ID)
	r2, err := c.Publish(context.Background(), p)
	if err != nil || r2.ID != r1.ID || read(t, site, r1.ID) != before {
		t.Fatalf("second publish: %+v, %v", r2, err)
	}
	entries, _ := os.ReadDir(filepath.Join(site, "content", "incidents"))
	if len(entries) != 1 {
		t.Errorf("content/incidents holds %d entries, want the page only (no temporary files)", len(entries))
	}
}

func TestURLFor(t *testing.T) {
	c, _ := newChannel(t, "section = \"Issues\"")
	if got := c.URLFor("2026-11-27-Mail", publishers.KindUpdate); got != "https://status.example.com/issues/2026-11-27-mail/" {
		t.Errorf("URLFor = %s", got)
	}
	var _ publishers.Locator = c
	var _ publishers.Verifier = c
}

func TestAtomicWriteFailureKeepsOldPage(t *testing.T) {
	c, site := newChannel(t, "")
	p := publisherstest.Post(1, "Old text.")
	r, err := c.Publish(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	old := read(t, site, r.ID)
	tests := map[string]func(dir, pattern string) (*os.File, error){
		"create fails": func(string, string) (*os.File, error) { return nil, errors.New("disk full") },
		"write fails": func(dir, pattern string) (*os.File, error) {
			f, err := os.CreateTemp(dir, pattern)
			if err != nil {
				return nil, err
			}
			name := f.Name()
			f.Close()
			return os.Open(name) // read-only: Write fails
		},
	}
	for name, fake := range tests {
		t.Run(name, func(t *testing.T) {
			createTemp = fake
			defer func() { createTemp = os.CreateTemp }()
			_, err := c.Publish(context.Background(), publisherstest.Post(2, "New text."))
			if err == nil || !strings.HasPrefix(err.Error(), "write page content/issues/") || !publishers.Retryable(err) {
				t.Fatalf("err = %v", err)
			}
			if read(t, site, r.ID) != old {
				t.Error("a failed write changed the page")
			}
			if entries, _ := os.ReadDir(filepath.Join(site, "content", "issues")); len(entries) != 1 {
				t.Errorf("%d entries left in content/issues, want 1", len(entries))
			}
		})
	}
}

func TestPublishRefuses(t *testing.T) {
	c, site := newChannel(t, "")
	for _, id := range []string{"../../etc/passwd", ".hidden", "a/b", ""} {
		p := publisherstest.Post(1, "x")
		p.Incident.ID = id
		if _, err := c.Publish(context.Background(), p); err == nil || publishers.Retryable(err) {
			t.Errorf("incident id %q: err = %v, want a permanent error", id, err)
		}
	}
	if err := os.RemoveAll(site); err != nil {
		t.Fatal(err)
	}
	_, err := c.Publish(context.Background(), publisherstest.Post(1, "x"))
	if err == nil || publishers.Retryable(err) || !strings.Contains(err.Error(), "does not exist; check `dir`") {
		t.Errorf("missing site: %v", err)
	}
	if _, err := c.Verify(context.Background()); err == nil {
		t.Error("Verify of a missing site succeeded")
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	tests := []struct{ config, want string }{
		{`base_url = "https://s.example.com"`, "`dir` is required"},
		{`dir = "site"`, "`base_url` is required"},
		{"dir = \"site\"\nbase_url = \"status.example.com\"", "is not an absolute http(s) URL"},
		{"dir = \"site\"\nbase_url = \"https://s.example.com\"\nsection = \"../x\"", "must be one directory name"},
		{"dir = \"site\"\nbase_url = \"https://s.example.com\"\ngit_push = \"yes\"", "incompatible types"},
		{"dir = \".\"\nbase_url = \"https://s.example.com\"", "is the runbook directory"},
		{"dir = \"incidents\"\nbase_url = \"https://s.example.com\"", "holds the incident records"},
	}
	for _, tt := range tests {
		prim, md := publisherstest.Decode(t, tt.config)
		_, err := New(prim, md, publisherstest.Env(t, "status", nil))
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "hugo: ") {
			t.Errorf("config %q: err = %v, want %q", tt.config, err, tt.want)
		}
	}
}

func TestYAMLString(t *testing.T) {
	for in, want := range map[string]string{
		`plain`:                 `"plain"`,
		`a "quoted": title #1`:  `"a \"quoted\": title #1"`,
		"line\nbreak\ttab\\":    `"line\nbreak\ttab\\"`,
		"- [Investigating] ok?": `"- [Investigating] ok?"`,
	} {
		if got := yamlString(in); got != want {
			t.Errorf("yamlString(%q) = %s, want %s", in, got, want)
		}
	}
	if got := severity("minor") + severity("major") + severity(""); got != "noticedisrupteddisrupted" {
		t.Errorf("severities = %s", got)
	}
}

func TestShortcodesAreNeutralized(t *testing.T) {
	got := neutralizeShortcodes("see {{< youtube x >}} and {{% md %}} but {{ .Keep }}")
	if strings.Contains(got, "{{<") || strings.Contains(got, "{{%") || !strings.Contains(got, "{{ .Keep }}") {
		t.Errorf("got %q", got)
	}
}

// TestIssueSeverityFromStates: cState's severity follows the worst state the
// incident held a service in, even once it is resolved; without states, the
// incident's severity.
func TestIssueSeverityFromStates(t *testing.T) {
	cases := []struct {
		now, earlier string
		want         string
	}{
		{"", "", "disrupted"}, // the sample incident is major, with no states
		{publishers.MajorOutage, "", "down"},
		{publishers.Operational, publishers.MajorOutage, "down"}, // resolved after a major outage
		{publishers.DegradedPerformance, "", "disrupted"},
		{publishers.UnderMaintenance, "", "notice"},
	}
	for _, c := range cases {
		inc := publisherstest.Post(2, "x").Incident
		if c.now != "" {
			inc.States = map[string]string{"imap": c.now}
		}
		if c.earlier != "" {
			inc.Updates[0].States = map[string]string{"imap": c.earlier}
		}
		if got := issueSeverity(inc); got != c.want {
			t.Errorf("states now %q, earlier %q: %s, want %s", c.now, c.earlier, got, c.want)
		}
	}
}
