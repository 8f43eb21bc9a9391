package runbook

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/incident-cli/incident/alerts"
	"github.com/incident-cli/incident/pagers"
	"github.com/incident-cli/incident/publishers"
)

// fakePager records pages; answers are consumed one per call (nil:
// success), and a hang blocks until the attempt's deadline.
type fakePager struct {
	mu      sync.Mutex
	name    string
	pages   []pagers.Page
	answers []error
	hang    bool
	n       int
}

func (f *fakePager) Page(ctx context.Context, p pagers.Page) (pagers.Receipt, error) {
	f.mu.Lock()
	var err error
	if len(f.answers) > 0 {
		err, f.answers = f.answers[0], f.answers[1:]
	}
	hang := f.hang
	f.mu.Unlock()
	if hang {
		<-ctx.Done()
		return pagers.Receipt{}, ctx.Err()
	}
	if err != nil {
		return pagers.Receipt{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	f.pages = append(f.pages, p)
	rec := pagers.Receipt{ID: fmt.Sprintf("%s-%d", f.name, f.n), At: p.Now}
	if p.Person != "" {
		rec.To = []string{p.Person}
	}
	if p.Urgent {
		rec.Meta = map[string]string{"receipt": fmt.Sprintf("r%d", f.n)}
	}
	return rec, nil
}

// sent lists "kind/person/level/urgent" of every page, in order.
func (f *fakePager) sent() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, p := range f.pages {
		s := fmt.Sprintf("%s/%s/%d", p.Kind, p.Person, p.Level)
		if p.Urgent {
			s += "/urgent"
		}
		out = append(out, s)
	}
	return out
}

// fakeEmergencies is a fakePager whose urgent pages can be acknowledged
// in the app and cancelled, like Pushover's.
type fakeEmergencies struct {
	fakePager
	acked     map[string]string // receipt -> who tapped Acknowledge
	polls     int
	cancelled []string // incidents
}

func (f *fakeEmergencies) Acknowledged(ctx context.Context, r pagers.Receipt) (pagers.Ack, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.polls++
	if who, ok := f.acked[r.Meta["receipt"]]; ok {
		return pagers.Ack{Acknowledged: true, By: who, At: r.At.Add(time.Minute)}, nil
	}
	return pagers.Ack{}, nil
}

func (f *fakeEmergencies) Cancel(ctx context.Context, incident string, rs []pagers.Receipt) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cancelled = append(f.cancelled, incident)
	return nil
}

const pagingTOML = `
organization = "Example Mail"
zones = ["Europe/Oslo", "UTC"]

[[service]]
id = "imap"
name = "IMAP/POP"

[alerts]
publish_after = "off"

[[alerts.route]]
name = "imap"
source = "nodeping"
match = "IMAP*"
service = "imap"
severity = "major"
title = "IMAP/POP connection problems"

[[pager]]
name = "ops-irc"
type = "irc"
url = "irc://127.0.0.1:6667/#ops"
nick = "incident"

[[pager]]
name = "mail"
type = "email"
url = "smtp://127.0.0.1:2525"
from = "pager@example.com"
to = { alice = "alice@example.com", bob = "bob@example.com" }

[[pager]]
name = "phones"
type = "pushover"
token = "env:PUSHOVER_TOKEN"
to = { alice = "env:PO_ALICE", bob = "env:PO_BOB" }

[[pager]]
name = "sms"
type = "twilio"
account_sid = "AC0123456789abcdef0123456789abcdef"
auth_token = "env:TWILIO_TOKEN"
from = "+15005550006"
to = { lead = "+14155550101" }

[[escalation]]
after = "0m"
notify = ["ops-irc", "mail:oncall"]

[[escalation]]
after = "5m"
notify = ["phones:oncall"]

[[escalation]]
after = "15m"
notify = ["sms:lead"]
repeat = "10m"

[[rota]]
person = "alice"
days = ["mon", "tue", "wed", "thu", "fri"]
from = "08:00"
to = "18:00"

[[rota]]
person = "bob"
`

// pagingRig is a runbook from TOML whose pagers are fakes, with a clock
// the test moves.
type pagingRig struct {
	rb    *Runbook
	now   *time.Time
	fakes map[string]*fakePager
	po    *fakeEmergencies
}

func newPagingRig(t *testing.T, config string) *pagingRig {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ConfigFile), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 1, 12, 3, 0, 0, time.UTC) // a Tuesday, 13:03 in Oslo
	rb, err := Open(Location{Dir: dir}, Options{Getenv: func(string) string { return "" }, StateDir: t.TempDir(),
		Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	rb.RetryPolicy = RetryPolicy{Attempts: 3, Base: time.Millisecond, Max: 5 * time.Millisecond, Timeout: 200 * time.Millisecond,
		Budget: time.Second, Sleep: func(ctx context.Context, d time.Duration) error { return nil }}
	g := &pagingRig{rb: rb, now: &now, fakes: map[string]*fakePager{}}
	for _, p := range rb.Pagers {
		if p.Type == "pushover" {
			g.po = &fakeEmergencies{fakePager: fakePager{name: p.Name}, acked: map[string]string{}}
			p.Pager = g.po
			g.fakes[p.Name] = &g.po.fakePager
			continue
		}
		f := &fakePager{name: p.Name}
		p.Pager = f
		g.fakes[p.Name] = f
	}
	return g
}

// at moves the clock to 12:03 + d and ticks.
func (g *pagingRig) at(t *testing.T, d time.Duration) []Done {
	t.Helper()
	*g.now = time.Date(2026, 12, 1, 12, 3, 0, 0, time.UTC).Add(d)
	done, err := g.rb.Tick(context.Background(), *g.now, PublishOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return done
}

func (g *pagingRig) alert(t *testing.T) string {
	t.Helper()
	in, err := g.rb.TakeAlerts(context.Background(), []alerts.Alert{nodeping(true)})
	if err != nil {
		t.Fatal(err)
	}
	return in[0].Incident
}

// counts says how many pages each fake took: "mail=1 ops-irc=1".
func (g *pagingRig) counts() string {
	var parts []string
	for _, name := range []string{"mail", "ops-irc", "phones", "sms"} {
		if f := g.fakes[name]; f != nil && len(f.sent()) > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", name, len(f.sent())))
		}
	}
	return strings.Join(parts, " ")
}

func noErrors(t *testing.T, done []Done) {
	t.Helper()
	for _, d := range done {
		if d.Error != "" {
			t.Fatalf("%s %s: %s", d.Action.Kind, d.Action.Key, d.Error)
		}
	}
}

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

// The RFO timeline shows who was paged, when and by what, and the first
// acknowledgement; the figures gain the time from the first alert to it.
func TestTimelineShowsPages(t *testing.T) {
	g := newPagingRig(t, pagingTOML)
	id := g.alert(t)
	noErrors(t, g.at(t, 0))
	noErrors(t, g.at(t, 5*time.Minute))
	g.po.mu.Lock()
	g.po.acked["r1"] = "alice"
	g.po.mu.Unlock()
	noErrors(t, g.at(t, 6*time.Minute))
	inc, _ := g.rb.Store.Load(id)
	var got []string
	for _, l := range g.rb.Timeline(inc) {
		got = append(got, l.At.In(g.rb.Zones[0]).Format("15:04")+" "+l.Text)
	}
	want := []string{
		"13:03 We opened an incident.",
		"13:03 Paged everyone on ops-irc by IRC; alice by email.",
		"13:08 Paged alice by Pushover.",
		"13:09 Acknowledged by alice (Pushover).",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("timeline:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if f := g.rb.Figures(inc); f.AlertToAck != 6*time.Minute {
		t.Errorf("alert to ack = %s", f.AlertToAck)
	}
}

// A page by hand goes to a pager, a person, the person on call or a
// level, is recorded (kind manual, with its message) and never repeated
// by the timers; a test page is recorded nowhere.
func TestPageByHand(t *testing.T) {
	g := newPagingRig(t, pagingTOML)
	id := g.alert(t)
	if err := g.rb.Escalation.Policies[0].Levels[0].Targets[0]; err.Pager != "ops-irc" {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, tc := range []struct {
		to, want string
	}{
		{"phones:oncall", "phones:alice"},
		{"2", "phones:alice"},
		{"mail", "mail:"},
		{"1", "ops-irc: mail:alice"},
	} {
		res, err := g.rb.PageByHand(ctx, id, tc.to, "the disk is full")
		if err != nil {
			t.Fatalf("%s: %v", tc.to, err)
		}
		var got []string
		for _, x := range res {
			if x.Error != "" {
				t.Errorf("%s: %s", tc.to, x.Error)
			}
			got = append(got, x.Pager+":"+x.Person)
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("--to %s paged %v, want %s", tc.to, got, tc.want)
		}
	}
	p := g.fakes["phones"].pages[0]
	if p.Kind != pagers.KindManual || p.Urgent || !strings.Contains(p.Text, "responder calls you in: the disk is full") {
		t.Errorf("page: %+v", p)
	}
	for _, bad := range []string{"phone", "phones:carol", "7", ""} {
		_, err := g.rb.PageByHand(ctx, id, bad, "")
		var ue *UsageError
		if !errors.As(err, &ue) {
			t.Errorf("--to %q: %v, want a usage error", bad, err)
		}
	}
	g.fakes["sms"].answers = []error{publishers.Permanent(errors.New("twilio: 21211 invalid number"))}
	res, err := g.rb.PageByHand(ctx, id, "sms:lead", "")
	if err != nil || len(res) != 1 || !strings.Contains(res[0].Error, "21211") {
		t.Fatalf("failing page by hand: %+v %v", res, err)
	}
	inc, _ := g.rb.Store.Load(id)
	manual := 0
	for _, p := range inc.Pages {
		if p.Kind == PageManual {
			manual++
		}
	}
	if manual != 6 {
		t.Errorf("%d manual pages recorded", manual)
	}
	before := g.counts()
	if _, err := g.rb.TestPage(ctx, "phones:bob", "drill"); err != nil {
		t.Fatal(err)
	}
	tp := g.fakes["phones"].pages[len(g.fakes["phones"].pages)-1]
	if tp.Kind != pagers.KindTest || tp.Person != "bob" || !strings.HasPrefix(tp.Subject, "[TEST]") {
		t.Errorf("test page: %+v", tp)
	}
	if inc2, _ := g.rb.Store.Load(id); len(inc2.Pages) != len(inc.Pages) {
		t.Errorf("the test page was recorded")
	}
	if before == g.counts() {
		t.Errorf("no test page went out")
	}
	// The ladder ran on independently: level 1 and no repeat of the manual pages.
	noErrors(t, g.at(t, 0))
	noErrors(t, g.at(t, 10*time.Minute))
	if got := g.fakes["sms"].sent(); len(got) != 0 {
		t.Errorf("sms: %v", got)
	}
}
