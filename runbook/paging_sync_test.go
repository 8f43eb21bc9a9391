package runbook

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/incident-cli/incident/alerts"
)

// sharedPagingRunbook is sharedRunbook with pagers and an escalation, the
// same fakes behind both machines' pagers (so their counts are the sum of
// what both sent), and a clock both read.
func sharedPagingRunbook(t *testing.T) (a, b *laptop, fakes map[string]*fakePager, po *fakeEmergencies, now *time.Time) {
	t.Helper()
	_, a, b = sharedRunbook(t, &fakeChannel{})
	cfg, err := os.ReadFile(filepath.Join(a.dir, ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	extra := strings.SplitN(pagingTOML, "[[pager]]", 2)[1]
	extra = "\n[alerts]\npublish_after = \"off\"\n\n[[alerts.route]]\nname = \"imap\"\nsource = \"nodeping\"\nmatch = \"IMAP*\"\nservice = \"imap\"\nseverity = \"major\"\n\n[[pager]]" + extra
	if err := os.WriteFile(filepath.Join(a.dir, ConfigFile), append(cfg, []byte(extra)...), 0o600); err != nil {
		t.Fatal(err)
	}
	git(t, a.dir, "commit", "--quiet", "-am", "pagers")
	git(t, a.dir, "push", "--quiet")
	git(t, b.dir, "pull", "--quiet")
	t0 := time.Date(2026, 12, 1, 12, 3, 0, 0, time.UTC)
	now = &t0
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return *now }
	fakes = map[string]*fakePager{}
	po = &fakeEmergencies{fakePager: fakePager{name: "phones"}, acked: map[string]string{}}
	fakes["phones"] = &po.fakePager
	for _, l := range []*laptop{a, b} {
		who, host := l.rb.Responder, l.rb.Host
		rb, err := Open(Location{Dir: l.dir}, Options{Getenv: func(string) string { return "" }, StateDir: t.TempDir(), Now: clock})
		if err != nil {
			t.Fatal(err)
		}
		rb.Responder, rb.Host, rb.RetryPolicy = who, host, l.rb.RetryPolicy
		for _, p := range rb.Pagers {
			if p.Name == "phones" {
				p.Pager = po
				continue
			}
			if fakes[p.Name] == nil {
				fakes[p.Name] = &fakePager{name: p.Name}
			}
			p.Pager = fakes[p.Name]
		}
		l.rb = rb
	}
	return a, b, fakes, po, now
}

// Two daemons sharing the runbook through git page each level once
// between them; an ack typed on a laptop reaches a daemon with its next
// pull, and that daemon's next tick cancels the emergencies and sends the
// stand-downs, once.
func TestTwoDaemonsPageOnce(t *testing.T) {
	alice, bob, fakes, po, now := sharedPagingRunbook(t)
	in, err := alice.rb.TakeAlerts(context.Background(), []alerts.Alert{nodeping(true)})
	if err != nil {
		t.Fatal(err)
	}
	id := in[0].Incident
	if _, err := bob.rb.TakeAlerts(context.Background(), []alerts.Alert{nodeping(true)}); err != nil {
		t.Fatal(err)
	}
	for _, l := range []*laptop{alice, bob, alice} {
		l.run(t, func(*Runbook) error { return nil })
	}
	both := func(d time.Duration) {
		t.Helper()
		*now = time.Date(2026, 12, 1, 12, 3, 0, 0, time.UTC).Add(d)
		var wg sync.WaitGroup
		for _, l := range []*laptop{alice, bob} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := l.rb.SyncBefore(context.Background()); err != nil {
					t.Error(err)
				}
				done, err := l.rb.Tick(context.Background(), *now, PublishOptions{})
				if err != nil {
					t.Error(err)
				}
				for _, d := range done {
					if d.Error != "" {
						t.Errorf("%s: %s: %s", l.rb.Host, d.Action.Key, d.Error)
					}
				}
				_ = l.rb.SyncAfter(context.Background(), "tick")
			}()
		}
		wg.Wait()
	}
	count := func() string {
		var parts []string
		for _, n := range []string{"mail", "ops-irc", "phones", "sms"} {
			parts = append(parts, n+"="+strings.Join(fakes[n].sent(), ","))
		}
		return strings.Join(parts, " ")
	}
	both(0)
	both(30 * time.Second)
	if got, want := count(), "mail=alert/alice/1 ops-irc=alert//1 phones= sms="; got != want {
		t.Fatalf("level 1: %s, want %s", got, want)
	}
	both(5 * time.Minute)
	both(5*time.Minute + 5*time.Second)
	if got, want := count(), "mail=alert/alice/1 ops-irc=alert//1 phones=alert/alice/2/urgent sms="; got != want {
		t.Fatalf("level 2: %s, want %s", got, want)
	}
	// bob acknowledges on his laptop: the commit reaches alice's daemon
	// with her next pull.
	*now = time.Date(2026, 12, 1, 12, 9, 0, 0, time.UTC)
	bob.run(t, func(rb *Runbook) error { _, err := rb.Ack(context.Background(), id, "cli", "bob"); return err })
	*now = time.Date(2026, 12, 1, 12, 9, 15, 0, time.UTC)
	alice.run(t, func(rb *Runbook) error {
		done, err := rb.Tick(context.Background(), *now, PublishOptions{})
		for _, d := range done {
			if d.Error != "" {
				t.Errorf("%s: %s", d.Action.Key, d.Error)
			}
		}
		return err
	})
	if got, want := count(), "mail=alert/alice/1,ack/alice/0 ops-irc=alert//1,ack//0 phones=alert/alice/2/urgent,ack/alice/0 sms="; got != want {
		t.Fatalf("after the ack: %s, want %s", got, want)
	}
	if len(po.cancelled) != 1 {
		t.Fatalf("cancelled %v", po.cancelled)
	}
	both(20 * time.Minute)
	both(40 * time.Minute)
	if got, want := count(), "mail=alert/alice/1,ack/alice/0 ops-irc=alert//1,ack//0 phones=alert/alice/2/urgent,ack/alice/0 sms="; got != want {
		t.Fatalf("later: %s", got)
	}
	if len(po.cancelled) != 1 {
		t.Fatalf("cancelled %v", po.cancelled)
	}
}
