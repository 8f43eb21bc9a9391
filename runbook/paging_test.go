package runbook

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/incident-cli/incident/alerts"
	"github.com/incident-cli/incident/pagers"
	"github.com/incident-cli/incident/publishers"
)

// The ladder climbs on time: level 1 at once, level 2 at 5 min, level 3 at
// 15 min and again every 10; each page once however often the timers run,
// and the rota's person of the moment.
func TestLadderClimbsOnTime(t *testing.T) {
	g := newPagingRig(t, pagingTOML)
	id := g.alert(t)
	steps := []struct {
		at   time.Duration
		want string
	}{
		{0, "mail=1 ops-irc=1"},
		{time.Second, "mail=1 ops-irc=1"},
		{4*time.Minute + 59*time.Second, "mail=1 ops-irc=1"},
		{5 * time.Minute, "mail=1 ops-irc=1 phones=1"},
		{14 * time.Minute, "mail=1 ops-irc=1 phones=1"},
		{15 * time.Minute, "mail=1 ops-irc=1 phones=1 sms=1"},
		{25 * time.Minute, "mail=1 ops-irc=1 phones=1 sms=2"},
		{25*time.Minute + 30*time.Second, "mail=1 ops-irc=1 phones=1 sms=2"},
		// The timers stopped for 22 minutes: the newest round only.
		{47 * time.Minute, "mail=1 ops-irc=1 phones=1 sms=3"},
		{55 * time.Minute, "mail=1 ops-irc=1 phones=1 sms=4"},
	}
	for _, s := range steps {
		noErrors(t, g.at(t, s.at))
		if got := g.counts(); got != s.want {
			t.Fatalf("at +%s: %s, want %s", s.at, got, s.want)
		}
	}
	// 13:03 on a Tuesday in Oslo: alice is on call.
	if got := g.fakes["mail"].sent(); !slices.Equal(got, []string{"alert/alice/1"}) {
		t.Errorf("mail = %v", got)
	}
	if got := g.fakes["phones"].sent(); !slices.Equal(got, []string{"alert/alice/2/urgent"}) {
		t.Errorf("phones = %v", got)
	}
	if got := g.fakes["ops-irc"].sent(); !slices.Equal(got, []string{"alert//1"}) {
		t.Errorf("ops-irc = %v", got)
	}
	inc, err := g.rb.Store.Load(id)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, p := range inc.Pages {
		keys = append(keys, p.Key+"="+p.State)
	}
	want := []string{"page/1/0/ops-irc=sent", "page/1/0/mail/alice=sent", "page/2/0/phones/alice=sent",
		"page/3/0/sms/lead=sent", "page/3/1/sms/lead=sent", "page/3/3/sms/lead=sent", "page/3/4/sms/lead=sent"}
	if !slices.Equal(keys, want) {
		t.Errorf("pages = %v\nwant    %v", keys, want)
	}
	p := g.fakes["phones"].pages[0]
	if p.Key != id+"/page/2/0/phones/alice" || !strings.Contains(p.Text, "incident ack "+id) || !strings.HasPrefix(p.Subject, "[MAJOR] IMAP/POP: ") ||
		!strings.Contains(p.Text, "Firing since") || !strings.Contains(p.Text, "IMAP check is down") || strings.Contains(p.Text, "http") {
		t.Errorf("page = %+v", p)
	}
}

// An acknowledgement stops the ladder at once; everyone already paged gets
// a stand-down (not the person who acknowledged), and emergencies still
// repeating are cancelled, each once.
func TestLadderStopsOnAck(t *testing.T) {
	g := newPagingRig(t, pagingTOML)
	id := g.alert(t)
	noErrors(t, g.at(t, 0))
	noErrors(t, g.at(t, 5*time.Minute))
	*g.now = time.Date(2026, 12, 1, 12, 9, 0, 0, time.UTC)
	if _, err := g.rb.Ack(context.Background(), id, "cli", "bob"); err != nil {
		t.Fatal(err)
	}
	for _, d := range []time.Duration{6 * time.Minute, 7 * time.Minute, 15 * time.Minute, 60 * time.Minute} {
		noErrors(t, g.at(t, d))
	}
	if got := g.counts(); got != "mail=2 ops-irc=2 phones=2" {
		t.Fatalf("counts = %s", got)
	}
	if got := g.fakes["phones"].sent(); !slices.Equal(got, []string{"alert/alice/2/urgent", "ack/alice/0"}) {
		t.Errorf("phones = %v", got)
	}
	if !slices.Equal(g.po.cancelled, []string{id}) {
		t.Errorf("cancelled = %v", g.po.cancelled)
	}
	ack := g.fakes["ops-irc"].pages[1]
	if ack.Kind != pagers.KindAck || ack.AckedBy != "bob" || !strings.Contains(ack.Subject, "acknowledged by bob") {
		t.Errorf("stand-down = %+v", ack)
	}
	if d := g.at(t, 61*time.Minute); len(d) != 0 {
		t.Errorf("after everything: %+v", d)
	}
}

// A tap on Acknowledge in the app, read back by a poll, is the incident's
// acknowledgement by that person: the ladder stops, the emergencies are
// cancelled, and the others get a stand-down, but not the person who
// tapped.
func TestEmergencyAcknowledgedInTheApp(t *testing.T) {
	g := newPagingRig(t, pagingTOML)
	id := g.alert(t)
	noErrors(t, g.at(t, 0))
	noErrors(t, g.at(t, 5*time.Minute))
	noErrors(t, g.at(t, 5*time.Minute+10*time.Second))
	if g.po.polls != 0 {
		t.Fatalf("polled %d times before PollEvery", g.po.polls)
	}
	noErrors(t, g.at(t, 5*time.Minute+15*time.Second))
	if g.po.polls != 1 {
		t.Fatalf("polls = %d", g.po.polls)
	}
	g.po.mu.Lock()
	g.po.acked["r1"] = "alice"
	g.po.mu.Unlock()
	noErrors(t, g.at(t, 5*time.Minute+20*time.Second))
	if g.po.polls != 1 {
		t.Fatalf("polls = %d: polled again within PollEvery", g.po.polls)
	}
	done := g.at(t, 5*time.Minute+30*time.Second)
	noErrors(t, done)
	inc, _ := g.rb.Store.Load(id)
	if !inc.Acked() || inc.AckedBy != "alice" || inc.AckHow != "pushover" {
		t.Fatalf("acked %v by %q how %q", inc.AckedAt, inc.AckedBy, inc.AckHow)
	}
	noErrors(t, g.at(t, 6*time.Minute))
	noErrors(t, g.at(t, 30*time.Minute))
	if !slices.Equal(g.po.cancelled, []string{id}) {
		t.Errorf("cancelled = %v", g.po.cancelled)
	}
	// alice tapped: the IRC channel is told (everyone), her email is not.
	if got := g.counts(); got != "mail=1 ops-irc=2 phones=1" {
		t.Errorf("counts = %s", got)
	}
	if g.po.polls != 2 {
		t.Errorf("polls = %d, want 2 (none once acknowledged)", g.po.polls)
	}
}

// A pager that fails is retried with backoff from its last failure, and
// neither holds up the other pagers nor is paged twice once it succeeds;
// a permanent refusal is not retried, and shows in the summary.
func TestFailingPagerRetried(t *testing.T) {
	g := newPagingRig(t, pagingTOML)
	id := g.alert(t)
	g.fakes["ops-irc"].answers = []error{errors.New("irc: connection reset"), errors.New("irc: connection reset")}
	done := g.at(t, 0)
	if len(done) != 2 || g.counts() != "mail=1" {
		t.Fatalf("done = %+v, counts %s", done, g.counts())
	}
	sums, _ := g.rb.Summaries()
	if len(sums[0].PagersFailed) != 1 || !strings.Contains(sums[0].PagersFailed[0], "ops-irc: irc: connection reset (1 attempt(s))") {
		t.Errorf("summary: %q", sums[0].PagersFailed)
	}
	noErrors(t, g.at(t, 14*time.Second))
	if got := g.counts(); got != "mail=1" {
		t.Fatalf("retried before the backoff: %s", got)
	}
	if d := g.at(t, 15*time.Second); len(d) != 1 || d[0].Error == "" {
		t.Fatalf("second try: %+v", d)
	}
	noErrors(t, g.at(t, 15*time.Second+29*time.Second))
	noErrors(t, g.at(t, 45*time.Second))
	noErrors(t, g.at(t, 2*time.Minute))
	if got := g.counts(); got != "mail=1 ops-irc=1" {
		t.Fatalf("counts = %s", got)
	}
	inc, _ := g.rb.Store.Load(id)
	if p := inc.Page("page/1/0/ops-irc"); p.State != PageSent || p.Failures != 2 || p.Attempts != 3 {
		t.Errorf("page = %+v", p)
	}
	if s := Summarize(inc); len(s.PagersFailed) != 0 {
		t.Errorf("still failing: %v", s.PagersFailed)
	}
	// A refusal retrying cannot fix: not retried, shown, and the ladder
	// goes on on the other pagers.
	g.fakes["phones"].answers = []error{publishers.Permanent(errors.New("pushover: send to alice: user key invalid"))}
	if d := g.at(t, 5*time.Minute); len(d) != 1 || !strings.Contains(d[0].Error, "user key invalid") {
		t.Fatalf("done = %+v", d)
	}
	for _, d := range []time.Duration{6 * time.Minute, 15 * time.Minute} {
		g.at(t, d)
	}
	if got := g.counts(); got != "mail=1 ops-irc=1 sms=1" {
		t.Errorf("counts = %s", got)
	}
	inc, _ = g.rb.Store.Load(id)
	if s := Summarize(inc); len(s.PagersFailed) != 1 || !strings.Contains(s.PagersFailed[0], "given up") {
		t.Errorf("summary: %v", s.PagersFailed)
	}
}

// A pager that hangs holds up neither the other pagers nor the automatic
// first update.
func TestHangingPagerBlocksNothing(t *testing.T) {
	g := newPagingRig(t, strings.Replace(pagingTOML, `publish_after = "off"`, `publish_after = "5m"`, 1))
	forum := &fakeChannel{limit: 500}
	g.rb.Links = append(g.rb.Links, &Channel{Name: "forum", Type: "fake", Template: "social.txt.tmpl", Pub: forum})
	g.alert(t)
	noErrors(t, g.at(t, 0))
	g.fakes["phones"].hang = true
	start := time.Now()
	done := g.at(t, 5*time.Minute)
	var kinds []string
	for _, d := range done {
		kinds = append(kinds, d.Action.Kind)
		if d.Action.Kind == ActionAutoPost && d.Error != "" {
			t.Errorf("autopost: %s", d.Error)
		}
	}
	if !slices.Contains(kinds, ActionAutoPost) || len(forum.seen) != 1 {
		t.Fatalf("done %v; forum took %d", kinds, len(forum.seen))
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("the tick took %s", el)
	}
}

// A page whose process died mid-attempt (its sending record has no
// result) is tried again with the same key, PageStale later.
func TestPageKilledMidAttempt(t *testing.T) {
	g := newPagingRig(t, pagingTOML)
	id := g.alert(t)
	e := Event{Kind: KindPage, At: *g.now, By: "alice", Host: "h", Action: "page/1/0/ops-irc",
		Page: &PageRecord{Kind: PageAlert, Level: 1, Pager: "ops-irc", State: PageSending}}
	if err := g.rb.Store.Append(id, &e); err != nil {
		t.Fatal(err)
	}
	noErrors(t, g.at(t, 0))
	if got := g.counts(); got != "mail=1" {
		t.Fatalf("counts = %s", got)
	}
	noErrors(t, g.at(t, PageStale))
	if got := g.counts(); got != "mail=1 ops-irc=1" {
		t.Fatalf("counts = %s", got)
	}
	if k := g.fakes["ops-irc"].pages[0].Key; k != id+"/page/1/0/ops-irc" {
		t.Errorf("key = %s", k)
	}
}

// An incident a person opened pages no one by itself.
func TestOpenedByHandDoesNotPage(t *testing.T) {
	g := newPagingRig(t, pagingTOML)
	if _, err := g.rb.Publish(context.Background(), "", Draft{Via: "open", Title: "IMAP down", Services: []string{"imap"},
		Status: Investigating, Message: "We are investigating."}, PublishOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, d := range []time.Duration{0, 5 * time.Minute, time.Hour} {
		noErrors(t, g.at(t, d))
	}
	if got := g.counts(); got != "" {
		t.Errorf("counts = %s", got)
	}
}

// A minor incident pages by email only, and never urgently.
func TestMinorPagesByEmailOnly(t *testing.T) {
	g := newPagingRig(t, strings.Replace(pagingTOML, `severity = "major"`, `severity = "minor"`, 1))
	g.alert(t)
	for _, d := range []time.Duration{0, 5 * time.Minute, 15 * time.Minute, 25 * time.Minute} {
		noErrors(t, g.at(t, d))
	}
	if got := g.counts(); got != "mail=1" {
		t.Errorf("counts = %s", got)
	}
}

// Quiet hours stop the ladder's clock for incidents that are not
// critical: an alert at 23:10 in Oslo pages level 1 at 07:00 and level 2
// five minutes later; a critical one pages at once.
func TestQuietHours(t *testing.T) {
	cfg := pagingTOML + `
[paging.quiet_hours]
from = "22:00"
to = "07:00"
zone = "Europe/Oslo"
`
	for _, sev := range []string{"major", "critical"} {
		t.Run(sev, func(t *testing.T) {
			g := newPagingRig(t, strings.Replace(cfg, `severity = "major"`, `severity = "`+sev+`"`, 1))
			*g.now = time.Date(2026, 12, 1, 22, 10, 0, 0, time.UTC) // 23:10 in Oslo
			g.alert(t)
			tickAt := func(h, m int) {
				*g.now = time.Date(2026, 12, 1, h, m, 0, 0, time.UTC)
				if h < 12 {
					*g.now = g.now.AddDate(0, 0, 1)
				}
				d, err := g.rb.Tick(context.Background(), *g.now, PublishOptions{})
				if err != nil {
					t.Fatal(err)
				}
				noErrors(t, d)
			}
			tickAt(22, 10)
			tickAt(22, 16)
			if sev == "critical" {
				if got := g.counts(); got != "mail=1 ops-irc=1 phones=1" {
					t.Fatalf("critical: counts = %s", got)
				}
				return
			}
			tickAt(5, 59) // 06:59 in Oslo
			if got := g.counts(); got != "" {
				t.Fatalf("in quiet hours: %s", got)
			}
			tickAt(6, 0) // 07:00
			if got := g.counts(); got != "mail=1 ops-irc=1" {
				t.Fatalf("at 07:00: %s", got)
			}
			tickAt(6, 4)
			tickAt(6, 5)
			if got := g.counts(); got != "mail=1 ops-irc=1 phones=1" {
				t.Fatalf("at 07:05: %s", got)
			}
			// The rota at 07:00 on Wednesday in Oslo: before alice's 08:00.
			if got := g.fakes["phones"].sent(); !slices.Equal(got, []string{"alert/bob/2/urgent"}) {
				t.Errorf("phones = %v", got)
			}
		})
	}
}

// Recovery before anyone acknowledged closes the incident; those paged
// are told to stand down, and the emergencies are cancelled.
func TestRecoveryStandsDown(t *testing.T) {
	g := newPagingRig(t, pagingTOML)
	id := g.alert(t)
	noErrors(t, g.at(t, 0))
	noErrors(t, g.at(t, 5*time.Minute))
	*g.now = time.Date(2026, 12, 1, 12, 10, 0, 0, time.UTC)
	if _, err := g.rb.TakeAlerts(context.Background(), []alerts.Alert{nodeping(false)}); err != nil {
		t.Fatal(err)
	}
	noErrors(t, g.at(t, 8*time.Minute))
	noErrors(t, g.at(t, 30*time.Minute))
	inc, _ := g.rb.Store.Load(id)
	if inc.Status != Dismissed {
		t.Fatalf("status %s", inc.Status)
	}
	if got := g.counts(); got != "mail=2 ops-irc=2 phones=2" {
		t.Errorf("counts = %s", got)
	}
	sd := g.fakes["mail"].pages[1]
	if !strings.HasPrefix(sd.Subject, "[CLOSED] IMAP/POP: ") || !strings.Contains(sd.Text, "recovered after 7 min") {
		t.Errorf("stand-down: %q\n%s", sd.Subject, sd.Text)
	}
	if len(g.po.cancelled) != 1 {
		t.Errorf("cancelled %v", g.po.cancelled)
	}
}
