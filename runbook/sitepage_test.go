package runbook

import (
	"context"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/incident-cli/incident/alerts"
	"github.com/incident-cli/incident/internal/golden"
	"github.com/incident-cli/incident/publishers/static"
)

// historyNow is the fixed clock of the generated history: Fri 27 Nov 2026,
// 12:00 in Oslo.
var historyNow = time.Date(2026, 11, 27, 11, 0, 0, 0, time.UTC)

const historyConfig = `organization = "Example Mail"
zones = ["Europe/Oslo", "UTC"]

[[service]]
id = "imap"
name = "IMAP/POP"
since = 2026-07-01

[[service]]
id = "smtp"
name = "Outgoing mail (SMTP)"

[[service]]
id = "webmail"
name = "Webmail"
since = 2026-10-15

[status_page]
type = "static"
name = "status page"
dir = "site"
base_url = "https://status.example.com"
`

// step is one thing a responder did, at a time.
type step struct {
	at    string // UTC, "2006-01-02 15:04"
	key   string // which incident (the test's name for it)
	draft Draft
	rfo   *RFOText
	// maintenance: schedule a window (draft from ScheduleDraft), cancel
	// key's window, or run the timers
	window   *Window
	services []string
	cancel   bool
	tick     bool
}

// clock is a settable clock for a runbook.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// historyRunbook makes a runbook with three services and 90 days of
// history published through the engine at their times: incidents across
// midnight and the October change of clocks in Oslo, overlapping incidents,
// a degraded-only one, one with an RFO, one still open, and a private
// incident (an alert nobody published, dismissed) that must show nowhere;
// maintenance windows completed, cancelled, in progress and to come, their
// reminders, starts and completions published by the timers.
// The clock stops at historyNow.
func historyRunbook(t testing.TB) (*Runbook, *clock, map[string]string) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ConfigFile), []byte(historyConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	clk := &clock{}
	rb, err := Open(Location{Dir: dir}, Options{Getenv: func(k string) string {
		if k == "USER" {
			return "alice"
		}
		return ""
	}, StateDir: t.TempDir(), Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	rb.Host = "ops1"
	started := func(s string) *time.Time { x := utc(s); return &x }
	open := func(title, severity string, start *time.Time, msg string, services ...string) Draft {
		return Draft{Via: "open", Title: title, Services: services, Severity: severity, StartedAt: start, Status: Investigating, Message: msg}
	}
	upd := func(status, msg string, states map[string]string) Draft {
		return Draft{Via: "update", Status: status, Message: msg, States: states}
	}
	closed := func(msg string) Draft { return Draft{Via: "close", Status: Resolved, Message: msg} }
	steps := []step{
		{at: "2026-09-02 08:10", key: "tls", draft: open("Certificate warnings on IMAP", "major", started("2026-09-02 07:55"),
			"Some mail programs warn about our certificate. We are looking into it.", "imap")},
		{at: "2026-09-02 09:40", key: "tls", draft: closed("The new certificate chain is in place.")},

		// Across midnight in Oslo: 23:40 CEST to 01:05 CEST.
		{at: "2026-10-03 21:40", key: "smtp", draft: open("Outgoing mail rejected", "critical", nil,
			"Sending mail fails with **authentication errors**. We are investigating.", "smtp")},
		{at: "2026-10-03 22:20", key: "smtp", draft: upd(Identified, "A configuration change broke authentication; rolling it back.", nil)},
		{at: "2026-10-03 23:05", key: "smtp", draft: closed("Sending mail works again.")},

		// Overlapping incidents on the day the clocks go back (25 hours in Oslo).
		{at: "2026-10-25 09:00", key: "slow", draft: open("Slow IMAP logins", "minor", nil, "Logins take up to a minute.", "imap")},
		{at: "2026-10-25 10:00", key: "storage", draft: open("Storage failure", "critical", nil,
			"A storage system failed; IMAP and webmail are down.", "imap", "webmail")},
		{at: "2026-10-25 10:45", key: "storage", draft: upd(Monitoring, "Storage is back; we are watching.", map[string]string{"imap": PartialOutage, "webmail": DegradedPerformance})},
		{at: "2026-10-25 11:30", key: "storage", draft: closed("Everything works normally again.")},
		{at: "2026-10-25 12:00", key: "slow", draft: closed("Logins are fast again.")},

		// Degraded only: no downtime. A title a person typed with markup in it.
		{at: "2026-11-18 13:00", key: "webmail", draft: open(`Webmail <script>alert("x")</script> & attachments slow`, "minor", nil,
			"Opening attachments in webmail is slow.", "webmail")},
		{at: "2026-11-18 16:00", key: "webmail", draft: closed("Attachments open quickly again.")},

		// The example day: a partial outage of 1 h 12 min, with an RFO.
		{at: "2026-11-20 09:30", key: "login", draft: open("IMAP/POP login failures", "major", started("2026-11-20 09:18"),
			"We are investigating reports of IMAP and POP login failures.", "imap")},
		{at: "2026-11-20 10:00", key: "login", draft: upd(Identified, "A brute-force attack overloads the IMAP servers; we are blocking it.", nil)},
		{at: "2026-11-20 10:30", key: "login", draft: closed("Logins work again; we blocked the attacking networks.")},

		// Maintenance: a window announced the day before, reminded, started
		// and completed by the timers (an hour and a half under maintenance
		// on IMAP, no downtime); one cancelled; one to come on webmail.
		{at: "2026-11-09 10:00", key: "upgrade", draft: Draft{Title: "IMAP server upgrade"}, services: []string{"imap"},
			window: &Window{Start: utc("2026-11-10 21:00"), End: utc("2026-11-10 22:30")}},
		{at: "2026-11-10 20:00", tick: true},
		{at: "2026-11-10 21:00", tick: true},
		{at: "2026-11-10 22:30", tick: true},
		{at: "2026-11-12 09:00", key: "dns", draft: Draft{Title: "Moving the SMTP relays", Message: "We move the SMTP relays to new hosts; sending may be delayed for a few minutes."},
			services: []string{"smtp"}, window: &Window{Start: utc("2026-11-14 07:00"), End: utc("2026-11-14 08:00")}},
		{at: "2026-11-13 16:00", key: "dns", cancel: true},
		{at: "2026-11-26 15:00", key: "move", draft: Draft{Title: "Webmail moves to new servers"}, services: []string{"webmail"},
			window: &Window{Start: utc("2026-12-01 21:00"), End: utc("2026-12-01 22:00")}},
		// In progress now: webmail under maintenance, started by the timer.
		{at: "2026-11-25 09:00", key: "search", draft: Draft{Title: "Webmail search index rebuild"}, services: []string{"webmail"},
			window: &Window{Start: utc("2026-11-27 10:00"), End: utc("2026-11-27 12:00")}},
		{at: "2026-11-27 09:00", tick: true},
		{at: "2026-11-27 10:00", tick: true},
		{at: "2026-11-23 14:00", key: "login", rfo: &RFOText{Summary: "IMAP and POP logins failed for 72 minutes.",
			RootCause: "A brute-force attack exhausted the IMAP workers.", Mitigation: "We blocked the attacking networks.",
			FollowUp: "Per-network connection limits."}},

		// Open now: last updated 25 minutes ago.
		{at: "2026-11-27 10:20", key: "delay", draft: open("Outgoing mail delayed", "major", started("2026-11-27 10:05"),
			"Outgoing mail is delayed by up to 30 minutes.", "smtp")},
		{at: "2026-11-27 10:35", key: "delay", draft: upd(Identified, "A full queue on one relay; we are moving mail to the others.",
			map[string]string{"smtp": MajorOutage})},
	}
	ids := map[string]string{}
	ctx := context.Background()
	sort.SliceStable(steps, func(i, j int) bool { return steps[i].at < steps[j].at })
	for _, s := range steps {
		clk.set(utc(s.at))
		if s.key == "private" {
			continue
		}
		var res *Result
		var err error
		switch {
		case s.tick:
			done, err := rb.Tick(ctx, clk.now(), PublishOptions{})
			if err != nil || len(done) != 1 || done[0].Error != "" || done[0].Result.Failed() > 0 {
				t.Fatalf("%s tick: %v %+v", s.at, err, done)
			}
			continue
		case s.window != nil:
			s.draft, err = rb.ScheduleDraft(s.draft.Title, s.services, *s.window, s.draft.Message)
		case s.cancel:
			var inc *Incident
			if inc, err = rb.Store.Load(ids[s.key]); err == nil {
				s.draft, err = rb.MaintenanceDraft(inc, Cancelled, "")
			}
		}
		if err != nil {
			t.Fatalf("%s %s: %v", s.at, s.key, err)
		}
		if s.rfo != nil {
			res, err = rb.PublishRFO(ctx, ids[s.key], *s.rfo, RFOOptions{})
		} else {
			res, err = rb.Publish(ctx, ids[s.key], s.draft, PublishOptions{})
		}
		if err != nil {
			t.Fatalf("%s %s: %v", s.at, s.key, err)
		}
		if res.Failed() > 0 {
			t.Fatalf("%s %s: %+v", s.at, s.key, res.Channels)
		}
		ids[s.key] = res.Incident.ID
	}
	// A monitoring alert on 26 Nov that nobody published and that was
	// dismissed: recorded, private, shown nowhere.
	clk.set(utc("2026-11-26 03:12"))
	in, err := rb.TakeAlerts(context.Background(), []alerts.Alert{{Source: "nodeping", Key: "imap-check", Firing: true,
		Name: "IMAP check", Summary: "IMAP check flapping", Severity: "critical", Labels: map[string]string{"service": "imap"}}})
	if err != nil {
		t.Fatal(err)
	}
	id := in[0].Incident
	clk.set(utc("2026-11-26 03:20"))
	if _, err := rb.Dismiss(context.Background(), id, "False alarm: the check host lost its network."); err != nil {
		t.Fatal(err)
	}
	ids["private"] = id
	clk.set(historyNow)
	return rb, clk, ids
}

func staticPage(t testing.TB, rb *Runbook) *static.Publisher {
	s, ok := rb.StatusPage.Pub.(*static.Publisher)
	if !ok {
		t.Fatal("not the static page")
	}
	return s
}

// siteFiles reads every file of a site, by path relative to it.
func siteFiles(t testing.TB, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() || strings.HasPrefix(rel, ".") {
			return nil
		}
		b, err := os.ReadFile(p)
		out[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSiteGolden builds the site of the generated history and compares its
// pages with the golden files (go test ./runbook -run TestSiteGolden -update).
func TestSiteGolden(t *testing.T) {
	rb, _, ids := historyRunbook(t)
	s := staticPage(t, rb)
	if _, err := rb.BuildSite(s); err != nil {
		t.Fatal(err)
	}
	files := siteFiles(t, s.Dir())
	var names []string
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	golden.Assert(t, "site/files.txt", strings.Join(names, "\n")+"\n")
	for _, n := range []string{"index.html", "history/index.html", "history/2026-10.html", "history/2026-11.html",
		"incidents/" + ids["login"] + ".html", "incidents/" + ids["login"] + "-rfo.html", "incidents/" + ids["upgrade"] + ".html",
		"status.json", "api/v2/summary.json", "api/v2/status.json", "feed.atom", "feed-webmail.atom"} {
		golden.Assert(t, "site/"+n, files[n])
	}
	for n, b := range files {
		if strings.Contains(b, "IMAP check flapping") || strings.Contains(b, ids["private"]) {
			t.Errorf("%s shows the private incident", n)
		}
		if strings.Contains(b, `<script>alert`) {
			t.Errorf("%s holds the typed markup unescaped", n)
		}
	}
}

// TestSiteOnePublish: one update re-renders only what changed (the
// incident's page, the shared files, its month of history), and what it
// writes is what a full build writes.
func TestSiteOnePublish(t *testing.T) {
	rb, clk, ids := historyRunbook(t)
	s := staticPage(t, rb)
	if _, err := rb.BuildSite(s); err != nil {
		t.Fatal(err)
	}
	before := siteFiles(t, s.Dir())
	clk.set(historyNow.Add(5 * time.Minute))
	if _, err := rb.Publish(context.Background(), ids["delay"], Draft{Via: "update", Status: Monitoring,
		Message: "The queue is draining.", States: map[string]string{"smtp": DegradedPerformance}}, PublishOptions{}); err != nil {
		t.Fatal(err)
	}
	after := siteFiles(t, s.Dir())
	var changed []string
	for n, b := range after {
		if before[n] != b {
			changed = append(changed, n)
		}
	}
	sort.Strings(changed)
	want := []string{"api/v2/status.json", "api/v2/summary.json", "feed-smtp.atom", "feed.atom",
		"history/2026-11.html", "history/index.html", "incidents/" + ids["delay"] + ".html", "index.html", "status.json"}
	if strings.Join(changed, " ") != strings.Join(want, " ") {
		t.Errorf("one publish changed\n%s\nwant\n%s", strings.Join(changed, " "), strings.Join(want, " "))
	}
	if _, err := rb.BuildSite(s); err != nil {
		t.Fatal(err)
	}
	for n, b := range siteFiles(t, s.Dir()) {
		if after[n] != b && slices.Contains(want, n) {
			t.Errorf("a full build writes %s differently from the publish:\n%s\n---\n%s", n, b, after[n])
		}
	}
	if !strings.Contains(after["index.html"], "The queue is draining.") || !strings.Contains(after["index.html"], "last updated just now") {
		t.Error("the index does not show the new update")
	}
}

var hrefRE = regexp.MustCompile(`(?:href|src)="([^"]*)"`)

// TestSiteLinks: every page links to the others relatively, so the site
// works from file:// and from any folder of any host; every link resolves
// to a file of the site, and nothing is loaded from elsewhere.
func TestSiteLinks(t *testing.T) {
	rb, _, _ := historyRunbook(t)
	s := staticPage(t, rb)
	if _, err := rb.BuildSite(s); err != nil {
		t.Fatal(err)
	}
	files := siteFiles(t, s.Dir())
	pages := 0
	for name, body := range files {
		if !strings.HasSuffix(name, ".html") {
			continue
		}
		pages++
		for _, m := range hrefRE.FindAllStringSubmatch(body, -1) {
			link := m[1]
			switch {
			case strings.HasPrefix(link, "https://status.example.com/"), strings.HasPrefix(link, "mailto:"):
				continue // the public URL (base_url) in a post's text
			case strings.Contains(link, "://"), strings.HasPrefix(link, "/"):
				t.Errorf("%s links to %s: not relative", name, link)
				continue
			}
			target := path.Join(path.Dir(name), strings.SplitN(link, "#", 2)[0])
			if _, ok := files[target]; !ok {
				t.Errorf("%s links to %s, which the site does not have", name, link)
			}
		}
	}
	if pages < 10 {
		t.Errorf("only %d pages", pages)
	}
}

// subscriberChannel is a link channel people can subscribe to (an
// announcement list).
type subscriberChannel struct {
	*fakeChannel
	address string
}

func (s subscriberChannel) Subscribe() string { return s.address }

// TestSiteSubscribe: the page offers the first subscribe address a link
// channel has, beside the Atom feed.
func TestSiteSubscribe(t *testing.T) {
	rb := testRunbook(t, map[string]*fakeChannel{"forum": {}})
	rb.Links = append(rb.Links, &Channel{Name: "list", Type: "email", Template: "social.txt.tmpl",
		Pub: subscriberChannel{&fakeChannel{limit: 5000}, "status+subscribe@example.com"}})
	open(t, rb)
	b, err := os.ReadFile(filepath.Join(staticPage(t, rb).Dir(), "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `Subscribe: <a href="feed.atom">Atom</a> · <a href="mailto:status&#43;subscribe@example.com">email</a>`) {
		t.Errorf("the page does not offer the list:\n%s", b)
	}
}

// TestSiteSurvivesADamagedRecord: a damaged event file in another incident
// (which list and show report) does not stop an update from reaching the
// page; the damaged incident is left out until it is repaired.
func TestSiteSurvivesADamagedRecord(t *testing.T) {
	rb := testRunbook(t, nil)
	ctx := context.Background()
	a, err := rb.Publish(ctx, "", Draft{Via: "open", Title: "Broken record", Status: Investigating, Message: "A."}, PublishOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := rb.Publish(ctx, "", Draft{Via: "open", Title: "Webmail slow", Status: Investigating, Message: "B."}, PublishOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(rb.Store.Dir, a.Incident.ID, "20990101T000000.000000000Z-note-zzzzzz.toml"), []byte("kind = \n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := rb.Publish(ctx, b.Incident.ID, Draft{Via: "update", Status: Identified, Message: "Found the cause of B."}, PublishOptions{})
	if err != nil || res.Failed() > 0 {
		t.Fatalf("update: %v %+v", err, res)
	}
	index, _ := os.ReadFile(filepath.Join(staticPage(t, rb).Dir(), "index.html"))
	if !strings.Contains(string(index), "Found the cause of B.") || strings.Contains(string(index), "Broken record") {
		t.Errorf("index after the update:\n%s", index)
	}
}
