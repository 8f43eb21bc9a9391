package main

import (
	"bytes"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/incident-cli/incident/internal/mailer/mailertest"
	"github.com/incident-cli/incident/pagers/irc/ngircdtest"
	"github.com/incident-cli/incident/pagers/pushover/pushovertest"
)

const ngircdPass = "ngircd-pass-0123"

// drillRig is a runbook for the binary whose pagers reach a real IRC
// server (ngircd, with a reader in #ops), an SMTP server and the Pushover
// fake, all on loopback.
type drillRig struct {
	work, dir string
	env       []string
	reader    *ngircdtest.Reader
	mail      *mailertest.Server
	po        *pushovertest.Server
}

func newDrillRig(t *testing.T, escalation string, clock func() time.Time) *drillRig {
	t.Helper()
	addr := ngircdtest.Start(t, ngircdPass)
	g := &drillRig{work: t.TempDir()}
	g.reader = ngircdtest.Join(t, addr, ngircdPass, "oncall-reader", "#ops")
	g.mail = mailertest.NewServer(mailertest.Options{Username: "pager@example.com", Password: "smtp-S3CR3T-0123", Reporter: t})
	g.po = pushovertest.NewServer(pushovertest.Options{Now: clock, Reporter: t})
	g.dir = filepath.Join(g.work, "rb")
	if err := os.MkdirAll(g.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`organization = "Example Mail"
zones = ["Europe/Oslo", "UTC"]
first_update_within = "2h"

[[service]]
id = "imap"
name = "IMAP/POP"

[alerts]
publish_after = "off"

[[alerts.route]]
name = "imap"
match = "IMAP*"
service = "imap"
severity = "critical"
title = "IMAP is down"

[[pager]]
name = "ops-irc"
type = "irc"
url = "irc://%s/#ops"
nick = "incident-pager"
password = "env:IRC_PASSWORD"

[[pager]]
name = "mail"
type = "email"
url = %q
username = "pager@example.com"
password = "env:SMTP_PASSWORD"
from = "pager@example.com"
to = { alice = "alice@example.com", bob = "bob@example.com" }

[[pager]]
name = "phones"
type = "pushover"
url = %q
token = "env:PUSHOVER_TOKEN"
to = { alice = "env:PUSHOVER_ALICE", bob = "env:PUSHOVER_BOB" }
%s`, addr, g.mail.URL, g.po.URL, escalation)
	if err := os.WriteFile(filepath.Join(g.dir, "incident.toml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	g.env = []string{"INCIDENT_TEST_MAIN=1", "INCIDENT_RUNBOOK=" + g.dir, "HOME=" + g.work, "USER=alice", "TZ=UTC", "PATH=" + os.Getenv("PATH"),
		"XDG_STATE_HOME=" + filepath.Join(g.work, "state"), "XDG_DATA_HOME=" + filepath.Join(g.work, "data"),
		"XDG_CONFIG_HOME=" + filepath.Join(g.work, "config"), "IRC_PASSWORD=" + ngircdPass, "SMTP_PASSWORD=smtp-S3CR3T-0123",
		"PUSHOVER_TOKEN=" + pushovertest.DefaultToken, "PUSHOVER_ALICE=" + pushovertest.AliceKey, "PUSHOVER_BOB=" + pushovertest.BobKey}
	return g
}

func (g *drillRig) run(t *testing.T, extra []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env, cmd.Dir = append(slices.Clone(g.env), extra...), g.work
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("incident %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// The binary pages a real IRC server: an alert's level 1 (read back by a
// client in #ops), a test page, and the stand-down after `incident ack`.
func TestPagingThroughNgircd(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	clockFile := filepath.Join(t.TempDir(), "clock")
	set := func(at string) {
		if err := os.WriteFile(clockFile, []byte(at+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	set("2026-12-01T12:03:00Z")
	g := newDrillRig(t, `
[[escalation]]
notify = ["ops-irc", "mail:alice"]
[[escalation]]
after = "5m"
notify = ["phones:alice"]
`, scriptClock(clockFile))
	g.env = append(g.env, "INCIDENT_TEST_CLOCK="+clockFile)
	alert := filepath.Join(g.work, "down.json")
	if err := os.WriteFile(alert, []byte(`{"event": "DOWN", "id": "ngircd-K", "label": "IMAP check", "type": "PORT", "message": "Connection refused"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	out := g.run(t, nil, "alert", "--source", "nodeping", "--file", alert)
	id := strings.Fields(strings.SplitN(out, ": opened ", 2)[1])[0]
	out = g.run(t, nil, "tick")
	if !strings.Contains(out, "paged everyone by ops-irc (level 1)") || !strings.Contains(out, "paged alice by mail (level 1)") {
		t.Fatalf("tick:\n%s", out)
	}
	g.reader.Wait(t, "incident-pager", "[CRITICAL] IMAP/POP: IMAP is down", 10*time.Second)
	g.reader.Wait(t, "incident-pager", "Acknowledge: incident ack "+id, 10*time.Second)
	g.run(t, nil, "page", "--test", "ops-irc", "--message", "a drill")
	g.reader.Wait(t, "incident-pager", "[TEST] a test page from incident", 10*time.Second)
	set("2026-12-01T12:04:00Z")
	g.run(t, []string{"USER=carol"}, "ack", id)
	set("2026-12-01T12:04:15Z")
	out = g.run(t, nil, "tick")
	if !strings.Contains(out, "told everyone by ops-irc: acknowledged by carol") {
		t.Fatalf("tick after the ack:\n%s", out)
	}
	g.reader.Wait(t, "incident-pager", "(acknowledged by carol)", 10*time.Second)
	if n := len(g.mail.Messages()); n != 2 {
		t.Errorf("mail took %d pages, want the page and its stand-down", n)
	}
	set("2026-12-01T12:10:00Z")
	g.run(t, nil, "tick")
	if n := len(g.po.Messages()); n != 0 {
		t.Errorf("pushover took %d pages after the ack", n)
	}
}

var (
	drill      = flag.Bool("drill", false, "run TestDrill: a real-time drill of `incident serve` (bench/drill.sh)")
	drillTick  = flag.Duration("drill.tick", time.Second, "TestDrill: incident serve --tick")
	drillAfter = flag.Duration("drill.after", 10*time.Second, "TestDrill: level 2's after")
)

// TestDrill is the drill of the README's "Escalation and paging", in real
// time: `incident serve` takes an Alertmanager alert over HTTP; level 1
// pages IRC (a real ngircd, read back by a client in #ops) and email at
// once, level 2 pages Pushover (urgent) after -drill.after, and someone
// types `incident ack`: the emergency is cancelled, those paged are told,
// and level 3 never comes. It logs the time from the alert to each page
// (bench/drill.sh runs it).
func TestDrill(t *testing.T) {
	if !*drill {
		t.Skip("a real-time drill: run with -drill (bench/drill.sh)")
	}
	after := *drillAfter
	g := newDrillRig(t, fmt.Sprintf(`
[[escalation]]
after = "0s"
notify = ["ops-irc", "mail:alice"]
[[escalation]]
after = %q
notify = ["phones:alice"]
[[escalation]]
after = %q
notify = ["phones:bob", "mail:bob"]
`, after.String(), (3*after).String()), time.Now)
	addrFile := filepath.Join(g.work, "addr")
	serve := exec.Command(os.Args[0], "serve", "--listen", "127.0.0.1:0", "--addr-file", addrFile, "--tick", drillTick.String())
	serve.Env, serve.Dir = g.env, g.work
	var log bytes.Buffer
	serve.Stdout, serve.Stderr = &log, &log
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = serve.Process.Signal(os.Interrupt)
		_ = serve.Wait()
		if t.Failed() {
			t.Logf("incident serve:\n%s", log.String())
		}
	})
	var addr string
	for deadline := time.Now().Add(10 * time.Second); addr == ""; {
		if b, err := os.ReadFile(addrFile); err == nil && strings.HasSuffix(string(b), "\n") {
			addr = strings.TrimSpace(string(b))
		} else if time.Now().After(deadline) {
			t.Fatal("incident serve did not start")
		}
		time.Sleep(20 * time.Millisecond) // waiting for the daemon to listen, not timing the test
	}
	body := `{"version":"4","groupKey":"{}:{alertname=\"IMAPDown\"}","truncatedAlerts":0,"status":"firing","receiver":"incident",
 "groupLabels":{"alertname":"IMAPDown"},"commonLabels":{"alertname":"IMAPDown"},"commonAnnotations":{"summary":"IMAP is down"},"externalURL":"http://am:9093",
 "alerts":[{"status":"firing","labels":{"alertname":"IMAPDown"},"annotations":{"summary":"imap1: connection refused"},
 "startsAt":"` + time.Now().UTC().Format(time.RFC3339) + `","endsAt":"0001-01-01T00:00:00Z","generatorURL":"","fingerprint":"92716253bb78e41d"}]}`
	t0 := time.Now()
	resp, err := http.Post("http://"+addr+"/alerts/alertmanager", "application/json", strings.NewReader(body))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("alert: %v %v", resp, err)
	}
	resp.Body.Close()
	recorded := time.Since(t0)
	// A watcher notes when each thing first happens, side by side.
	var mu sync.Mutex
	seen := map[string]time.Duration{}
	conds := map[string]func() bool{
		"mail": func() bool { return len(g.mail.Messages()) >= 1 },
		"po":   func() bool { return len(g.po.Messages()) >= 1 },
		"cancelled": func() bool {
			for _, r := range g.po.Receipts() {
				if r.Cancelled {
					return true
				}
			}
			return false
		},
	}
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			for name, ok := range conds {
				mu.Lock()
				_, done := seen[name]
				mu.Unlock()
				if !done && ok() {
					mu.Lock()
					seen[name] = time.Since(t0)
					mu.Unlock()
				}
			}
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond): // polling the fakes, not timing the test
			}
		}
	}()
	waitFor := func(what string, timeout time.Duration) time.Duration {
		t.Helper()
		for deadline := time.Now().Add(timeout); ; {
			mu.Lock()
			d, ok := seen[what]
			mu.Unlock()
			if ok {
				return d
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within %s", what, timeout)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	irc := g.reader.Wait(t, "incident-pager", "[CRITICAL] IMAP/POP: IMAP is down", 30*time.Second).At.Sub(t0)
	mail := waitFor("mail", 30*time.Second)
	po := waitFor("po", after+30*time.Second)
	if m := g.po.Messages()[0]; m.Priority != 2 || m.User != pushovertest.AliceKey {
		t.Errorf("pushover page: priority %d to %s", m.Priority, m.User)
	}
	id := ""
	entries, _ := os.ReadDir(filepath.Join(g.dir, "incidents"))
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			id = e.Name()
		}
	}
	ackStart := time.Now()
	g.run(t, []string{"USER=carol"}, "ack", id)
	ack := time.Since(t0)
	cancelled := waitFor("cancelled", 30*time.Second)
	standDown := g.reader.Wait(t, "incident-pager", "(acknowledged by carol)", 30*time.Second).At.Sub(t0)
	// Level 3 would have come at 3×after: it must not.
	if wait := 3*after + 2**drillTick - time.Since(t0); wait > 0 {
		time.Sleep(wait) // real time is what this drill measures
	}
	for _, m := range g.po.Messages() {
		if m.User == pushovertest.BobKey {
			t.Errorf("level 3 paged bob after the ack")
		}
	}
	for _, m := range g.mail.Messages() {
		if slices.Contains(m.To, "bob@example.com") {
			t.Errorf("level 3 mailed bob after the ack")
		}
	}
	t.Logf("drill (serve --tick %s, level 2 after %s): alert recorded in %s; IRC page read back in #ops at %s; email at %s; Pushover (urgent) at %s; "+
		"ack typed at %s; emergency cancelled %s after the ack; stand-down in #ops %s after the ack; level 3 never paged",
		*drillTick, after, recorded.Round(time.Millisecond), irc.Round(time.Millisecond), mail.Round(time.Millisecond), po.Round(time.Millisecond),
		ack.Round(time.Millisecond), (cancelled - ackStart.Sub(t0)).Round(time.Millisecond), (standDown - ackStart.Sub(t0)).Round(time.Millisecond))
}
