package runbook

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestRelatedIncidents: an incident opened as a recurrence of an earlier
// one records it on its opened event; its status post says "Related" with
// a link to the earlier post and its date; channels are told; the RFO says
// it is a recurrence; an unknown id is refused.
func TestRelatedIncidents(t *testing.T) {
	forum := &fakeChannel{}
	rb := testRunbook(t, map[string]*fakeChannel{"forum": forum})
	now := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	rb.now = func() time.Time { return now }
	first := open(t, rb).Incident
	if _, err := rb.Publish(context.Background(), first.ID, Draft{Via: "close", Status: Resolved, Message: "Fixed."}, PublishOptions{}); err != nil {
		t.Fatal(err)
	}
	firstURL := rb.Related(&Incident{Related: []string{first.ID}})[0].URL
	if !strings.HasSuffix(firstURL, "/incidents/"+first.ID+".html") {
		t.Fatalf("the earlier incident's URL = %q", firstURL)
	}

	now = now.Add(7 * 24 * time.Hour)
	if _, err := rb.Publish(context.Background(), "", Draft{Via: "open", Title: "IMAP logins fail again", Services: []string{"imap"},
		Status: Investigating, Message: "Logins fail.", Related: []string{"2026-01-01-nothing"}}, PublishOptions{}); err == nil ||
		!strings.Contains(err.Error(), `--related "2026-01-01-nothing": no such incident`) {
		t.Fatalf("an unknown related incident: %v", err)
	}
	res, err := rb.Publish(context.Background(), "", Draft{Via: "open", Title: "IMAP logins fail again", Services: []string{"imap"},
		Status: Investigating, Message: "Logins fail.", Related: []string{first.ID}}, PublishOptions{})
	if err != nil {
		t.Fatal(err)
	}
	inc := res.Incident
	if !slices.Equal(inc.Related, []string{first.ID}) || !slices.Equal(inc.Events[0].Related, []string{first.ID}) {
		t.Fatalf("related = %v, opened event %v", inc.Related, inc.Events[0].Related)
	}
	raw, _ := os.ReadFile(filepath.Join(rb.Store.Dir, inc.ID, firstFile(t, rb.Store.Dir, inc.ID)))
	if !strings.Contains(string(raw), `related = ["`+first.ID+`"]`) {
		t.Errorf("the opened event does not record it:\n%s", raw)
	}
	// The status post: "Related: [title](url) (date)", the link relative
	// on a page read from disk.
	post := res.Rendered[0].Text
	if want := "**Related:** [IMAP/POP login failures](" + first.ID + ".html) (2026-11-20)"; !strings.Contains(post, want) {
		t.Errorf("the status post lacks %q:\n%s", want, post)
	}
	page, _ := os.ReadFile(filepath.Join(rb.Dir, "site", "incidents", inc.ID+".html"))
	if !strings.Contains(string(page), `<a href="`+first.ID+`.html">IMAP/POP login failures</a> (2026-11-20)`) {
		t.Errorf("the incident's page does not link the related one")
	}
	// Channels are told.
	told := 0
	for _, p := range forum.posts {
		if p.Incident.ID != inc.ID {
			continue
		}
		told++
		if len(p.Incident.Related) != 1 || p.Incident.Related[0].URL != firstURL ||
			p.Incident.Related[0].Title != "IMAP/POP login failures" || !p.Incident.Related[0].StartedAt.Equal(first.StartedAt) {
			t.Errorf("the forum was told %+v", p.Incident.Related)
		}
	}
	if told != 1 {
		t.Errorf("the forum got %d posts of the new incident", told)
	}
	// The RFO says it is a recurrence.
	if _, err := rb.Publish(context.Background(), inc.ID, Draft{Via: "close", Status: Resolved, Message: "Fixed again."}, PublishOptions{}); err != nil {
		t.Fatal(err)
	}
	rfo, err := rb.PublishRFO(context.Background(), inc.ID, RFOText{Summary: "Logins failed.", RootCause: "x", Mitigation: "y", FollowUp: "z"},
		RFOOptions{PublishOptions: PublishOptions{DryRun: true}})
	if err != nil {
		t.Fatal(err)
	}
	if want := "## Summary\n\nLogins failed.\n\nThis is a recurrence of [IMAP/POP login failures](" + first.ID + ".html) on 2026-11-20.\n"; !strings.Contains(rfo.Rendered[0].Text, want) {
		t.Errorf("the RFO lacks %q:\n%s", want, rfo.Rendered[0].Text)
	}
	// A report written as a file without a summary gets one for it.
	text, _, err := rb.ParseRFO("rfo.md", "## Cause\nAn attack.\n", RFOText{})
	if err != nil {
		t.Fatal(err)
	}
	if rfo, err = rb.PublishRFO(context.Background(), inc.ID, text, RFOOptions{PublishOptions: PublishOptions{DryRun: true}}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(rfo.Rendered[0].Text, "## Summary\n\nThis is a recurrence of [IMAP/POP login failures]") {
		t.Errorf("no summary carries the recurrence:\n%s", rfo.Rendered[0].Text)
	}
}

func firstFile(t *testing.T, dir, id string) string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, id, "*-opened-*.toml"))
	if err != nil || len(names) != 1 {
		t.Fatalf("opened events: %v %v", names, err)
	}
	return filepath.Base(names[0])
}

// TestRecurrenceCandidates: open asks about incidents resolved in the last
// 14 days on one of the same services, most recently resolved first.
func TestRecurrenceCandidates(t *testing.T) {
	rb := testRunbook(t, nil)
	now := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	rb.now = func() time.Time { return now }
	mk := func(title string, services []string, resolve bool) string {
		t.Helper()
		res, err := rb.Publish(context.Background(), "", Draft{Via: "open", Title: title, Services: services, Status: Investigating, Message: "x"}, PublishOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if resolve {
			if _, err := rb.Publish(context.Background(), res.Incident.ID, Draft{Via: "close", Status: Resolved, Message: "y"}, PublishOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		now = now.Add(24 * time.Hour)
		return res.Incident.ID
	}
	mk("Old IMAP trouble", []string{"imap"}, true) // resolved 1 Nov
	now = now.Add(10 * 24 * time.Hour)
	imap := mk("IMAP trouble", []string{"imap", "webmail"}, true) // 12 Nov
	smtp := mk("SMTP trouble", []string{"smtp"}, true)            // 13 Nov
	mk("Open IMAP trouble", []string{"imap"}, false)              // 14 Nov, still open
	webmail := mk("Webmail trouble", []string{"webmail"}, true)   // 15 Nov
	// Now 16 Nov: the old one was resolved 15 days ago.
	ids := func(services []string, n int) []string {
		t.Helper()
		sums, err := rb.RecurrenceCandidates(services, n)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, s := range sums {
			out = append(out, s.ID)
		}
		return out
	}
	for _, tc := range []struct {
		services []string
		n        int
		want     []string
	}{
		{[]string{"imap"}, 3, []string{imap}},
		{[]string{"webmail", "smtp"}, 3, []string{webmail, smtp, imap}},
		{[]string{"webmail", "smtp"}, 2, []string{webmail, smtp}},
		{[]string{"dns"}, 3, nil},
		{nil, 3, nil},
	} {
		if got := ids(tc.services, tc.n); !slices.Equal(got, tc.want) {
			t.Errorf("candidates for %v = %v, want %v", tc.services, got, tc.want)
		}
	}
}
