package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/incident-cli/incident/internal/mailer/mailertest"
	"github.com/incident-cli/incident/runbook"
)

var pagingTrials = flag.Int("paging.trials", 50, "trials of TestPagingCrash (bench/paging-crash.sh runs 500)")

// TestPagingCrash: "no level is paged twice or skipped" when `incident
// tick` is SIGKILLed at random moments mid-escalation. Each trial moves
// the clock 30 s and opens a new incident from an alert, so that every
// tick has pages due at several levels of several incidents: level 1 at
// once to a webhook bridge and email, level 2 at 2 min to Pushover
// (urgent) and the bridge, level 3 at 4 min to the bridge, again every 2
// min; each incident is acknowledged 7 min after it opened (stand-downs,
// cancels) and closed at 9 min. A trial runs a tick and kills it after a
// random delay (the fakes answer after 1-6 ms, so kills land mid-page),
// then runs a tick to the end at the same time. At the end (past
// PageStale, so pages a kill left in doubt are sent again) every page the
// ladder called for is recorded as sent, and each fake holds each page
// once; twice only where a kill struck between the page's "sending"
// record and its result, the one window where a service without
// idempotency (Pushover, SMTP) may take it twice. The bridge deduplicates
// on the key, so it holds every page exactly once even then. A repeat
// round a kill left in doubt is superseded by the next round (rounds are
// not made up), and a page left in doubt by the acknowledgement; only so
// may a page stay unsent.
//
//	go test ./cmd/incident -run TestPagingCrash -paging.trials=500 -v   # bench/paging-crash.sh
func TestPagingCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	work := t.TempDir()
	clockFile := filepath.Join(work, "clock")
	base := time.Date(2026, 12, 1, 12, 3, 0, 0, time.UTC)
	setClock := func(at time.Time) {
		if err := os.WriteFile(clockFile+".tmp", []byte(at.Format(time.RFC3339Nano)+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(clockFile+".tmp", clockFile); err != nil {
			t.Fatal(err)
		}
	}
	setClock(base)
	f := startPagerFakes(scriptClock(clockFile))
	t.Cleanup(f.close)
	f.po.SetLatency(time.Millisecond, 6*time.Millisecond)
	f.wh.SetLatency(time.Millisecond, 6*time.Millisecond)
	mail := mailertest.NewServer(mailertest.Options{Username: "pager@example.com", Password: "smtp-S3CR3T-0123", Reporter: t})
	dir := filepath.Join(work, "rb")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(pagingCrashTOML, mail.URL, f.po.URL, f.wh.HookURL)
	if err := os.WriteFile(filepath.Join(dir, "incident.toml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"INCIDENT_TEST_MAIN=1", "INCIDENT_RUNBOOK=" + dir, "INCIDENT_TEST_CLOCK=" + clockFile, "HOME=" + work, "USER=alice",
		"TZ=UTC", "PATH=" + os.Getenv("PATH"), "XDG_STATE_HOME=" + filepath.Join(work, "state"), "XDG_DATA_HOME=" + filepath.Join(work, "data"),
		"XDG_CONFIG_HOME=" + filepath.Join(work, "config"), "SMTP_PASSWORD=smtp-S3CR3T-0123"}
	for k, v := range f.env {
		env = append(env, k+"="+v)
	}
	run := func(extra []string, args ...string) {
		t.Helper()
		cmd := exec.Command(os.Args[0], args...)
		cmd.Env, cmd.Dir = append(env, extra...), work
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	store := &runbook.Store{Dir: filepath.Join(dir, "incidents")}
	// recovery runs a tick to the end; a poll may meet Pushover's 429 when
	// a killed tick polled at the same moment, which is harmless.
	var lastRecovery time.Duration
	recovery := func(trial int) {
		cmd := exec.Command(os.Args[0], "tick")
		cmd.Env, cmd.Dir = env, work
		t0 := time.Now()
		out, err := cmd.CombinedOutput()
		lastRecovery = time.Since(t0)
		if err != nil && (strings.Contains(string(out), "page FAILED") || strings.Contains(string(out), "cancel FAILED") || !strings.Contains(string(out), "poll FAILED")) {
			t.Fatalf("trial %d: tick: %v\n%s", trial, err, out)
		}
	}
	var (
		rng   = rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 14))
		span  time.Duration
		doubt = map[string]int{} // incident/page key -> kills that left it in doubt
		// seenSending is when each page's attempt in doubt began.
		seenSending = map[string]time.Time{}
		where       = map[string]int{}
		trials      = *pagingTrials
		opened      []string // incident ids, by trial
		start       = time.Now()
	)
	for trial := 0; trial < trials; trial++ {
		now := base.Add(time.Duration(trial) * 30 * time.Second)
		// Acknowledge the incident opened 7 min ago, close the one opened
		// 9 min ago, then open a new one: each at its own moment.
		if j := trial - 14; j >= 0 {
			setClock(now.Add(-10 * time.Second))
			run([]string{"USER=carol"}, "ack", opened[j])
		}
		if j := trial - 18; j >= 0 {
			setClock(now.Add(-5 * time.Second))
			run(nil, "dismiss", opened[j], "--reason", "drill")
		}
		setClock(now)
		alert := filepath.Join(work, "down.json")
		if err := os.WriteFile(alert, []byte(fmt.Sprintf(`{"event": "DOWN", "id": "check-%d", "label": "IMAP check %d", "type": "PORT", "message": "Connection refused"}`, trial, trial)), 0o600); err != nil {
			t.Fatal(err)
		}
		before, _ := store.IDs()
		run(nil, "alert", "--source", "nodeping", "--file", alert)
		after, _ := store.IDs()
		for _, id := range after {
			if !slices.Contains(before, id) {
				opened = append(opened, id)
			}
		}
		if len(opened) != trial+1 {
			t.Fatalf("trial %d: %d incidents opened", trial, len(opened))
		}

		cmd := exec.Command(os.Args[0], "tick")
		cmd.Env, cmd.Dir = env, work
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		t0 := time.Now()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		killed := false
		if trial >= 2 {
			// A tick grows with the incidents it reads: the kills cover
			// the time the last recovery took, and more (its pages).
			span = max(20*time.Millisecond, 3*lastRecovery)
			delay := time.Duration(rng.Int64N(int64(span) + 1))
			done := make(chan struct{})
			go func() { _ = cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(delay):
				_ = cmd.Process.Kill()
				killed = true
				<-done
			}
		} else {
			_ = cmd.Wait()
			span = max(span, time.Since(t0))
		}
		inDoubt := 0
		for _, id := range opened {
			inc, err := store.Load(id)
			if err != nil {
				t.Fatalf("trial %d: the record of %s does not load: %v", trial, id, err)
			}
			for _, p := range inc.Pages {
				k := id + "/" + p.Key
				if p.State == runbook.PageSending && !seenSending[k].Equal(p.At) {
					seenSending[k] = p.At // a new attempt this kill left in doubt
					doubt[k]++
					inDoubt++
				}
			}
		}
		switch {
		case !killed:
			where["finished"]++
		case inDoubt > 0:
			where["mid-page"]++
		default:
			where["between pages"]++
		}
		recovery(trial)
	}
	// Past every incident's ladder, and past PageStale: pages a kill left
	// in doubt go out again.
	end := base.Add(time.Duration(trials)*30*time.Second + 10*time.Minute)
	for _, id := range opened {
		setClock(end.Add(-time.Minute))
		if inc, _ := store.Load(id); inc.Open() && !inc.Acked() {
			run([]string{"USER=carol"}, "ack", id)
		}
	}
	setClock(end)
	recovery(trials)
	setClock(end.Add(PageStaleForTest))
	recovery(trials + 1)

	// Every page the ladder called for is recorded as sent.
	perIncident := []string{"page/1/0/bridge", "page/1/0/mail/alice", "page/2/0/bridge", "page/2/0/phones/alice", "page/2/0/phones/bob",
		"page/3/0/bridge", "page/3/1/bridge", "ack/bridge", "ack/mail/alice", "ack/phones/alice", "ack/phones/bob", "cancel/phones"}
	superseded := 0
	for i, id := range opened {
		inc, err := store.Load(id)
		if err != nil {
			t.Fatal(err)
		}
		if i >= len(opened)-14 {
			continue // acknowledged at the end, wherever its ladder stood
		}
		var got []string
		for _, p := range inc.Pages {
			// A page a kill left in doubt is overtaken when the next
			// repeat round, or the acknowledgement, came before it was
			// due again.
			overtaken := doubt[id+"/"+p.Key] > 0 && p.Kind == runbook.PageAlert &&
				(inc.Superseded(p) || inc.AckedAt.Before(p.At.Add(runbook.PageStale)))
			switch {
			case p.State == runbook.PageSent:
				got = append(got, p.Key)
			case overtaken:
				superseded++
				got = append(got, p.Key)
			default:
				t.Errorf("%s: %s is %s: %s (SKIPPED)", id, p.Key, p.State, p.Error)
			}
		}
		for _, k := range perIncident {
			if !slices.Contains(got, k) {
				t.Errorf("%s: %s was never paged (SKIPPED); pages: %v", id, k, got)
				if os.Getenv("PAGING_CRASH_DEBUG") != "" {
					for _, e := range inc.Events {
						if e.Kind == runbook.KindPage || e.Kind == runbook.KindAck || e.Kind == runbook.KindOpened {
							st := ""
							if e.Page != nil {
								st = e.Page.State
							}
							t.Logf("  %s %s %s %s %s", e.ID, e.Kind, e.Action, st, e.At.Format(time.RFC3339Nano))
						}
					}
				}
			}
		}
	}
	// Each fake holds each page once; twice only where a kill left it in
	// doubt.
	bridge, requests := map[string]int{}, map[string]int{}
	for _, dl := range f.wh.Deliveries() {
		bridge[dl.Key]++
	}
	for _, k := range f.wh.Keys() {
		requests[k]++
	}
	for k, n := range bridge {
		if n != 1 {
			t.Errorf("the bridge holds %s %d times (it deduplicates: want 1)", k, n)
		}
		if requests[k] > 1+doubt[k] {
			t.Errorf("%s was sent to the bridge %d times; kills left it in doubt %d times", k, requests[k], doubt[k])
		}
	}
	// Pushover and email carry no key: a page is told by its incident,
	// person and priority (2: level 2, 0: the stand-down), or its
	// Message-ID.
	po := map[string]int{}
	for _, m := range f.po.Messages() {
		po[fmt.Sprintf("%s/%s/%d", strings.Join(m.Tags, ","), person(m.User), m.Priority)]++
	}
	for k, n := range po {
		parts := strings.Split(k, "/")
		key := parts[0] + "/page/2/0/phones/" + parts[1]
		if parts[2] == "0" {
			key = parts[0] + "/ack/phones/" + parts[1]
		}
		if n > 1+doubt[key] {
			t.Errorf("pushover took %s %d times; kills left it in doubt %d times", key, n, doubt[key])
		}
	}
	mails := map[string]int{}
	for _, m := range mail.Messages() {
		mails[m.Header.Get("Message-Id")]++
	}
	mailDoubt := 0
	for k, n := range doubt {
		if strings.Contains(k, "/mail/") {
			mailDoubt += n
		}
	}
	extra := 0
	for _, n := range mails {
		extra += n - 1
	}
	if extra > mailDoubt {
		t.Errorf("email: %d pages taken more than once; kills left %d in doubt", extra, mailDoubt)
	}
	keys := make([]string, 0, len(where))
	for k := range where {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, where[k]))
	}
	total := 0
	for _, c := range doubt {
		total += c
	}
	t.Logf("%d trials, %d incidents, in %v (kills within %v of the start): %s; %d page(s) left in doubt by a kill, each paged again at most once (%d overtaken by the next round or the ack); %d bridge pages, %d Pushover, %d emails; no level skipped",
		trials, len(opened), time.Since(start).Round(time.Millisecond), span.Round(time.Millisecond), strings.Join(parts, ", "), total, superseded,
		len(bridge), len(f.po.Messages()), len(mail.Messages()))
	if trials >= 50 && where["mid-page"] == 0 {
		t.Errorf("no kill landed mid-page: the delays do not cover the pages")
	}
}

// PageStaleForTest is runbook.PageStale: pages in doubt are paged again
// after it.
const PageStaleForTest = runbook.PageStale + time.Second

const pagingCrashTOML = `organization = "Example Mail"
zones = ["Europe/Oslo", "UTC"]
first_update_within = "2h"

[alerts]
publish_after = "off"

[[alerts.route]]
name = "imap"
source = "nodeping"
match = "IMAP*"
severity = "major"
title = "IMAP down"

[[pager]]
name = "mail"
type = "email"
url = %q
username = "pager@example.com"
password = "env:SMTP_PASSWORD"
from = "pager@example.com"
to = { alice = "alice@example.com" }

[[pager]]
name = "phones"
type = "pushover"
url = %q
token = "env:PUSHOVER_TOKEN"
to = { alice = "env:PUSHOVER_ALICE", bob = "env:PUSHOVER_BOB" }

[[pager]]
name = "bridge"
type = "webhook"
url = %q
headers = { Authorization = "Bearer env:PAGER_HOOK_TOKEN" }

[[escalation]]
notify = ["bridge", "mail:alice"]
[[escalation]]
after = "2m"
notify = ["phones", "bridge"]
[[escalation]]
after = "4m"
notify = ["bridge"]
repeat = "2m"
`
