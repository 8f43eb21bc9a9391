package runbook

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/incident-cli/incident/internal/golden"
)

const rfoConfig = `organization = "Example Mail"
zones = ["Europe/Oslo", "UTC"]
cadence = "30m"

[[service]]
id = "imap"
name = "IMAP/POP"

[[service]]
id = "webmail"
name = "Webmail"
`

// recordedIncident writes an incident that starts before midnight in Oslo and
// ends after it: four public updates, a public and a private note, checklist
// steps, a resolution.
func recordedIncident(t *testing.T) (*Runbook, string) {
	t.Helper()
	loc := writeRunbook(t, rfoConfig)
	start := time.Date(2026, 11, 27, 22, 38, 0, 0, time.UTC) // 23:38 in Oslo
	now := start
	rb, err := Open(loc, Options{Getenv: func(string) string { return "" }, StateDir: t.TempDir(), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	at := func(min int) time.Time { return start.Add(time.Duration(min) * time.Minute) }
	acc := 1200
	started := at(0)
	sp := rb.StatusPage.Name
	opened := Event{Kind: KindOpened, At: at(9), By: "alice", Title: "IMAP/POP login failures", Severity: "major", Services: []string{"imap", "webmail"}, Accounts: &acc, StartedAt: &started}
	id, unlock, err := rb.Store.Create(rb.Store.NewID(opened.Title, at(9)), &opened)
	if err != nil {
		t.Fatal(err)
	}
	unlock()
	events := []Event{
		{Kind: KindUpdate, At: at(10), By: "alice", Status: Investigating, Message: "We are investigating reports of IMAP and POP login failures. Next update within 30 min.", Channels: []string{sp}},
		{Kind: KindStep, At: at(12), By: "alice", Phase: "open", Step: "escalate", Title: "Call the on-call colleague", Outcome: "done", Run: "r1"},
		{Kind: KindNote, At: at(20), By: "alice", Text: "Called bob; he thinks it is the 23:30 config push.", Public: false},
		{Kind: KindNote, At: at(31), By: "bob", Text: "Found a brute-force attack from 203.0.113.0/24 exhausting IMAP workers.", Public: true},
		{Kind: KindUpdate, At: at(35), By: "bob", Status: Identified, Message: "A brute-force attack overloads the IMAP servers. We are blocking it.", Channels: []string{sp}},
		{Kind: KindUpdate, At: at(80), By: "bob", Status: Monitoring, Message: "The attack is blocked and logins work again for most customers.", Channels: []string{sp}},
		{Kind: KindUpdate, At: at(100), By: "bob", Status: Resolved, Message: "Logins work normally again. An RFO follows.", Channels: []string{sp}},
	}
	for i := range events {
		if err := rb.Store.Append(id, &events[i]); err != nil {
			t.Fatal(err)
		}
	}
	now = at(24 * 60)
	return rb, id
}

func TestRFOGolden(t *testing.T) {
	rb, id := recordedIncident(t)
	inc, err := rb.Store.Load(id)
	if err != nil {
		t.Fatal(err)
	}
	tl := rb.FormatTimeline(rb.Timeline(inc))
	golden.Assert(t, "timeline.txt", tl)
	if strings.Contains(tl, "Called bob") {
		t.Error("a private note reached the timeline")
	}
	f := rb.Figures(inc)
	if f.FirstUpdateAfter != 10*time.Minute || f.Updates != 4 || f.LongestGap != 45*time.Minute || f.Duration != 100*time.Minute {
		t.Errorf("figures = %+v", f)
	}

	// The responder writes the sections one by one (the walk, the flags)
	// and edits the timeline: drops one line, adds one.
	edited := strings.Replace(tl, "- 2026-11-27 23:50: Call the on-call colleague.\n", "", 1) +
		"- 2026-11-28 09:00: We raised the IMAP worker limit on every server.\n"
	text := rb.DraftRFO(inc)
	text.Summary = "Between 23:38 and 01:18 (Oslo time) many customers could not log in over IMAP or POP."
	text.Impact = "Mail clients showed password prompts; webmail was slow."
	text.RootCause = "A brute-force attack from one network exhausted the IMAP worker processes."
	text.Mitigation = "We blocked the attacking network and restarted the workers."
	text.FollowUp = "- Per-network connection limits (bob, 2026-12-04)\n- Alert on worker exhaustion (alice, 2026-12-02)"
	if text.Timeline, err = rb.ParseTimeline(edited); err != nil {
		t.Fatal(err)
	}
	res, err := rb.PublishRFO(context.Background(), id, text, RFOOptions{PublishOptions: PublishOptions{DryRun: true}})
	if err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, "rfo.md", res.Rendered[0].Title+"\n\n"+res.Rendered[0].Text)

	if _, err := rb.ParseTimeline("- yesterday: something"); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("bad timeline line: %v", err)
	}
}

func TestRFOPublishAndEdit(t *testing.T) {
	forum := &fakeChannel{}
	rb := testRunbook(t, map[string]*fakeChannel{"forum": forum})
	res := open(t, rb)
	id := res.Incident.ID
	if _, err := rb.PublishRFO(context.Background(), id, RFOText{Summary: "x", RootCause: "y", Mitigation: "z", FollowUp: "w"}, RFOOptions{}); err == nil {
		t.Fatal("an RFO was published for an open incident")
	}
	if _, err := rb.Publish(context.Background(), id, Draft{Via: "close", Status: Resolved, Message: "Fixed."}, PublishOptions{}); err != nil {
		t.Fatal(err)
	}
	text := RFOText{Summary: "Logins failed.", RootCause: "An attack.", Mitigation: "Blocked it.", FollowUp: "Limits."}
	if _, err := rb.PublishRFO(context.Background(), id, text, RFOOptions{PublishOptions: PublishOptions{}}); err == nil {
		// missing timeline is fine: PublishRFO takes what it is given
	}
	inc, _ := rb.Store.Load(id)
	rfo := rb.RFOPublished(inc)
	if rfo == nil || !strings.HasSuffix(rfo.URL, "-rfo.html") {
		t.Fatalf("RFO receipt = %+v", rfo)
	}
	page, _ := os.ReadFile(filepath.Join(rb.Dir, "site", "incidents", id+".html"))
	if !strings.Contains(string(page), id+"-rfo.html") {
		t.Error("the incident's page does not link to the RFO")
	}
	if forum.count() != 3 { // open, close, RFO link
		t.Fatalf("forum posts = %d", forum.count())
	}
	// An edit updates the same post and does not post links again...
	text.Summary = "Logins failed for 95 minutes."
	if _, err := rb.PublishRFO(context.Background(), id, text, RFOOptions{}); err != nil {
		t.Fatal(err)
	}
	inc, _ = rb.Store.Load(id)
	if rb.RFOPublished(inc).URL != rfo.URL || forum.count() != 3 {
		t.Errorf("edit: receipt %v, forum posts %d", rb.RFOPublished(inc), forum.count())
	}
	rfoPage, _ := os.ReadFile(filepath.Join(rb.Dir, "site", "incidents", id+"-rfo.html"))
	if !strings.Contains(string(rfoPage), "95 minutes") {
		t.Error("the RFO page was not updated")
	}
	// ...unless asked.
	if _, err := rb.PublishRFO(context.Background(), id, text, RFOOptions{Announce: true}); err != nil {
		t.Fatal(err)
	}
	if forum.count() != 4 {
		t.Errorf("announce: forum posts = %d", forum.count())
	}
	for _, p := range forum.posts {
		if strings.Contains(p.Text, "Reason For Outage") && !strings.Contains(p.Text, "-rfo.html") {
			t.Errorf("RFO link post does not link to the RFO: %q", p.Text)
		}
	}
}
