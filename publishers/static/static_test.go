package static

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/incident-cli/incident/publishers"
	"github.com/incident-cli/incident/publishers/publisherstest"
)

func newStatic(t *testing.T, table string) (*Publisher, publishers.Env) {
	t.Helper()
	env := publisherstest.Env(t, "status page", nil)
	prim, md := publisherstest.Decode(t, table)
	p, err := New(prim, md, env)
	if err != nil {
		t.Fatal(err)
	}
	return p.(*Publisher), env
}

// source stands in for the runbook: the site data shows the posts
// published so far, each incident as its latest post left it.
type source struct {
	p     *Publisher
	posts map[string]publishers.Incident
}

func (s *source) publish(t *testing.T, post publishers.Post) publishers.Receipt {
	t.Helper()
	s.posts[post.Incident.ID] = post.Incident
	rec, err := s.p.Publish(t.Context(), post)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

func withSource(p *Publisher) *source {
	s := &source{p: p, posts: map[string]publishers.Incident{}}
	p.SetSource(func() (*SiteData, error) {
		d := &SiteData{Now: publisherstest.Now, Zone: time.UTC}
		tl := publishers.ServiceTimeline{ID: "imap", Name: "IMAP/POP", State: publishers.Operational, Since: publisherstest.Now.Add(-time.Hour), Uptime: 100}
		for _, inc := range s.posts {
			d.Incidents = append(d.Incidents, EntryOf(inc, p.URLFor(inc.ID, publishers.KindUpdate)))
			if inc.ResolvedAt.IsZero() {
				tl.State = publishers.Worse(tl.State, inc.States["imap"])
			}
		}
		d.Services = []publishers.ServiceTimeline{tl}
		return d, nil
	})
	return s
}

func TestPublishWritesTheSite(t *testing.T) {
	p, _ := newStatic(t, "type = \"static\"\nbase_url = \"https://status.example.com/\"\n")
	src := withSource(p)
	post := publisherstest.Post(2, "ignored")
	post.Title, post.HTML = "[Identified] IMAP/POP login failures", "<p>the canonical post</p>"
	post.Incident.States = map[string]string{"imap": publishers.PartialOutage}
	rec := src.publish(t, post)
	id := post.Incident.ID
	if rec.URL != "https://status.example.com/incidents/"+id+".html" {
		t.Errorf("receipt URL = %s", rec.URL)
	}
	page, _ := os.ReadFile(filepath.Join(p.Dir(), "incidents", id+".html"))
	if !strings.Contains(string(page), "<p>the canonical post</p>") || strings.Contains(string(page), "<script") {
		t.Errorf("incident page:\n%s", page)
	}
	var site Site
	b, _ := os.ReadFile(filepath.Join(p.Dir(), "status.json"))
	if err := json.Unmarshal(b, &site); err != nil {
		t.Fatal(err)
	}
	if site.Status != "degraded" || site.Indicator != "major" || site.Description != "Partial System Outage" ||
		len(site.Incidents) != 1 || site.Incidents[0].Updates[0].Number != 2 {
		t.Errorf("status.json = %+v", site)
	}
	imap := site.Services[0]
	if imap.ID != "imap" || imap.Status != "degraded" || imap.State != publishers.PartialOutage {
		t.Errorf("services = %+v", site.Services)
	}
	for _, f := range []string{"index.html", "feed-imap.atom", "api/v2/summary.json", "api/v2/status.json", "history/index.html", "history/2026-11.html"} {
		if _, err := os.Stat(filepath.Join(p.Dir(), f)); err != nil {
			t.Errorf("the publish did not write %s: %v", f, err)
		}
	}
	var feed atomFeed
	fb, _ := os.ReadFile(filepath.Join(p.Dir(), "feed.atom"))
	if err := xml.Unmarshal(fb, &feed); err != nil {
		t.Fatal(err)
	}
	if feed.ID == "" || feed.Updated == "" || len(feed.Entries) != 2 || feed.Entries[0].ID == feed.Entries[1].ID {
		t.Errorf("feed = %+v", feed)
	}
	// Publishing the same post again writes the same site: idempotent.
	src.publish(t, post)
	b2, _ := os.ReadFile(filepath.Join(p.Dir(), "status.json"))
	var site2 Site
	json.Unmarshal(b2, &site2)
	if len(site2.Incidents) != 1 {
		t.Errorf("republishing duplicated the incident: %d", len(site2.Incidents))
	}
}

// gitSite makes a site directory cloned from a bare remote, with git
// configured for the test only; run runs git in a directory.
func gitSite(t *testing.T) (root, remote, site string, run func(dir string, args ...string) string) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	t.Setenv("GIT_CONFIG_GLOBAL", filepath.Join(t.TempDir(), "gitconfig"))
	for _, kv := range [][2]string{{"GIT_AUTHOR_NAME", "ops"}, {"GIT_COMMITTER_NAME", "ops"}, {"GIT_AUTHOR_EMAIL", "ops@example.com"}, {"GIT_COMMITTER_EMAIL", "ops@example.com"}} {
		t.Setenv(kv[0], kv[1])
	}
	root = t.TempDir()
	remote = filepath.Join(root, "site.git")
	site = filepath.Join(root, "site")
	run = func(dir string, args ...string) string {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	run(root, "init", "-q", "--bare", "--initial-branch=main", remote)
	run(root, "clone", "-q", remote, site)
	run(site, "checkout", "-q", "-b", "main")
	os.WriteFile(filepath.Join(site, "README"), []byte("status page\n"), 0o644)
	run(site, "add", "README")
	run(site, "commit", "-q", "-m", "init")
	run(site, "push", "-q", "-u", "origin", "main")
	return root, remote, site, run
}

// TestGitPush: with git_push the site is committed and pushed to its remote.
func TestGitPush(t *testing.T) {
	root, remote, site, run := gitSite(t)
	p, _ := newStatic(t, "type = \"static\"\ndir = \""+site+"\"\ngit_push = true\nbase_url = \"https://status.example.com\"\n")
	post := publisherstest.Post(1, "x")
	post.HTML = "<p>We are investigating.</p>"
	withSource(p).publish(t, post)
	os.WriteFile(filepath.Join(site, ".build-x"), []byte("a crashed build's leftovers"), 0o644)
	post = publisherstest.Post(2, "x")
	withSource(p).publish(t, post)
	files := run(root, "--git-dir", remote, "ls-tree", "-r", "--name-only", "main")
	for _, want := range []string{"index.html", "feed.atom", "status.json", "incidents/" + post.Incident.ID + ".html"} {
		if !strings.Contains(files, want) {
			t.Errorf("the remote lacks %s:\n%s", want, files)
		}
	}
	for _, never := range []string{LockFile, ".build-x"} {
		if slices.Contains(strings.Split(files, "\n"), never) {
			t.Errorf("the remote holds %s:\n%s", never, files)
		}
	}
	if msg := run(root, "--git-dir", remote, "log", "-1", "--format=%s", "main"); !strings.Contains(msg, post.Incident.ID) {
		t.Errorf("commit message %q", msg)
	}
}

// TestPageOptions: the refresh key, and the email subscribe link (an
// address or an http(s) URL; anything else is not shown).
func TestPageOptions(t *testing.T) {
	prim, md := publisherstest.Decode(t, "type = \"static\"\nrefresh = \"1s\"\n")
	if _, err := New(prim, md, publisherstest.Env(t, "status page", nil)); err == nil || !strings.Contains(err.Error(), "refresh") {
		t.Errorf("refresh = 1s: %v", err)
	}
	cases := []struct{ subscribe, want, not string }{
		{"status-subscribe@example.com", `<a href="mailto:status-subscribe@example.com">email</a>`, ""},
		{"https://lists.example.com/subscribe/status", `<a href="https://lists.example.com/subscribe/status">email</a>`, ""},
		{"javascript:alert(1)", "", ">email</a>"},
		{"", "", ">email</a>"},
	}
	for _, c := range cases {
		p, _ := newStatic(t, "type = \"static\"\nrefresh = \"5m\"\n")
		src := withSource(p)
		inner := p.source
		p.SetSource(func() (*SiteData, error) {
			d, err := inner()
			d.Subscribe = c.subscribe
			return d, err
		})
		src.publish(t, publisherstest.Post(1, "x"))
		b, _ := os.ReadFile(filepath.Join(p.Dir(), "index.html"))
		page := string(b)
		if !strings.Contains(page, `<meta http-equiv="refresh" content="300">`) {
			t.Error("no refresh")
		}
		if c.want != "" && !strings.Contains(page, c.want) {
			t.Errorf("subscribe %q: the page lacks %s", c.subscribe, c.want)
		}
		if c.not != "" && strings.Contains(page, c.not) {
			t.Errorf("subscribe %q: the page shows an email link", c.subscribe)
		}
	}
}

// TestBannerAndIndicator: Statuspage's words and indicator for the worst
// state.
func TestBannerAndIndicator(t *testing.T) {
	for state, want := range map[string][2]string{
		publishers.Operational:         {"All Systems Operational", "none"},
		publishers.UnderMaintenance:    {"Service Under Maintenance", "maintenance"},
		publishers.DegradedPerformance: {"Partially Degraded Service", "minor"},
		publishers.PartialOutage:       {"Partial System Outage", "major"},
		publishers.MajorOutage:         {"Major System Outage", "critical"},
	} {
		if got := [2]string{banner(state), indicator(state)}; got != want {
			t.Errorf("%s: %v, want %v", state, got, want)
		}
	}
	d := &SiteData{Services: []publishers.ServiceTimeline{{State: publishers.DegradedPerformance}, {State: publishers.MajorOutage}, {State: publishers.Operational}}}
	if d.worstState() != publishers.MajorOutage {
		t.Errorf("worst = %s", d.worstState())
	}
}

// TestGitPushGuards: a failed push shows no credential in a URL (here the
// remote's refusal names one) and can be retried; a remote that never
// answers is cut at the timeout, with the ssh git started.
func TestGitPushGuards(t *testing.T) {
	_, remote, site, run := gitSite(t)
	p, _ := newStatic(t, "type = \"static\"\ndir = \""+site+"\"\ngit_push = true\nbase_url = \"https://status.example.com\"\n")
	withSource(p)
	hook := "#!/bin/sh\necho 'moved: push to https://bot:ghp_S3CR3T0123456789@git.example.com/site.git'\nexit 1\n"
	if err := os.WriteFile(filepath.Join(remote, "hooks", "pre-receive"), []byte(hook), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := p.Publish(t.Context(), publisherstest.Post(1, "x"))
	if err == nil || !publishers.Retryable(err) || !strings.HasPrefix(err.Error(), "git push in ") {
		t.Fatalf("unreachable remote: err = %v, want a retryable git push error", err)
	}
	publisherstest.AssertNoSecretPart(t, err.Error(), "ghp_S3CR3T0123456789")
	if !strings.Contains(err.Error(), "https://[redacted]@git.example.com") {
		t.Errorf("err = %v, want the remote's message, redacted", err)
	}

	run(site, "remote", "set-url", "origin", "ssh://git@git.example.invalid/site.git")
	t.Setenv("GIT_SSH_COMMAND", "sleep 60 #")
	p.pushTimeout = 300 * time.Millisecond
	start := time.Now()
	_, err = p.Publish(t.Context(), publisherstest.Post(2, "y"))
	if err == nil || !publishers.Retryable(err) || !strings.HasSuffix(err.Error(), "did not finish within 300ms") {
		t.Fatalf("hanging remote: err = %v, want the timeout", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Publish returned after %s: the hanging ssh kept it waiting", d)
	}
}

// TestFinishNeverDeletesRecords: a full build whose incidents/ folder holds
// event files (the records, when dir was pointed at the runbook before the
// config check existed) replaces nothing.
func TestFinishNeverDeletesRecords(t *testing.T) {
	env := publisherstest.Env(t, "status page", nil)
	env.Records = "" // the config check is not in the way
	prim, md := publisherstest.Decode(t, "type = \"static\"\ndir = \".\"\n")
	pub, err := New(prim, md, env)
	if err != nil {
		t.Fatal(err)
	}
	p := pub.(*Publisher)
	event := filepath.Join(env.Dir, "incidents", "2026-11-27-x", "20261127T101500.000000000Z-opened-abcdef.toml")
	if err := os.MkdirAll(filepath.Dir(event), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(event, []byte("kind = \"opened\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := p.NewBuilder()
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Finish(); err == nil || !strings.Contains(err.Error(), "holds event files") {
		t.Fatalf("Finish = %v, want a refusal", err)
	}
	if _, err := os.Stat(event); err != nil {
		t.Fatalf("the event file is gone: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(env.Dir, ".build-*")); len(left) > 0 {
		t.Errorf("staging folders left: %v", left)
	}
}

// TestDirHoldingRecordsRefused: a static page whose dir holds the records is
// a config error.
func TestDirHoldingRecordsRefused(t *testing.T) {
	env := publisherstest.Env(t, "status page", nil)
	for _, dir := range []string{".", "incidents", "incidents/x"} {
		prim, md := publisherstest.Decode(t, "type = \"static\"\ndir = \""+dir+"\"\n")
		if _, err := New(prim, md, env); err == nil || !strings.Contains(err.Error(), "incident records") {
			t.Errorf("dir %q: err = %v, want a refusal naming the records", dir, err)
		}
	}
}
