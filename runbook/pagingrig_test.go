package runbook

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/incident-cli/incident/alerts"
	"github.com/incident-cli/incident/pagers"
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
