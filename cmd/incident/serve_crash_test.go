package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/incident-cli/incident/runbook"
)

// TestKilledServeAutoPostsOnce: `incident serve` is SIGKILLed at a random
// moment around the automatic first update of an alert nobody acknowledged
// (before it is due, while it claims, records, posts, or after), then
// started again. Every service must hold the automatic update exactly once,
// and nothing may stay undelivered. Trials run against the fakes of every
// HTTP channel with a little latency; the clock is injected.
//
//	go test ./cmd/incident -run TestKilledServeAutoPostsOnce -crash.trials=200 -v   # bench/crash.sh serve
func TestKilledServeAutoPostsOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	s := startFakes(fakeOptions{Reporter: t})
	t.Cleanup(s.close)
	for _, n := range fakeNames {
		f, _ := s.get(n)
		f.SetLatency(time.Millisecond, 6*time.Millisecond)
	}
	work := t.TempDir()
	dir := filepath.Join(work, "rb")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "incident.toml"), []byte(s.runbookTOML("wordpress")+s.socialTOML()), 0o600); err != nil {
		t.Fatal(err)
	}
	clock := filepath.Join(work, "clock")
	env := []string{"INCIDENT_TEST_MAIN=1", "INCIDENT_RUNBOOK=" + dir, "HOME=" + work, "USER=alice", "TZ=UTC", "PATH=" + os.Getenv("PATH"),
		"XDG_STATE_HOME=" + filepath.Join(work, "state"), "INCIDENT_TEST_CLOCK=" + clock}
	for k, v := range s.env {
		env = append(env, k+"="+v)
	}
	setClock := func(at time.Time) {
		if err := os.WriteFile(clock, []byte(at.Format(time.RFC3339Nano)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	store := &runbook.Store{Dir: filepath.Join(dir, "incidents")}
	run := func(args ...string) (string, error) {
		cmd := exec.Command(os.Args[0], args...)
		cmd.Env, cmd.Dir = env, work
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	serve := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "serve", "--listen", "127.0.0.1:0", "--tick", "5ms")
		cmd.Env, cmd.Dir = env, work
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	// posted waits until the incident's automatic update is out everywhere.
	posted := func(id string) bool {
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			if inc, err := store.LoadFresh(id); err == nil && len(inc.PublicUpdates()) == 1 && inc.Undelivered() == 0 {
				return true
			}
			time.Sleep(5 * time.Millisecond)
		}
		return false
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 11))
	var span time.Duration
	where := map[string]int{}
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	start := time.Now()
	trials := max(*crashTrials, 3)
	for trial := range trials {
		at := t0.Add(time.Duration(trial) * time.Hour)
		setClock(at)
		payload := filepath.Join(work, "alert.json")
		os.WriteFile(payload, []byte(fmt.Sprintf(`{"dedup_key": "trial-%d", "status": "firing", "title": "Crash trial alert %d", "service": "imap"}`, trial, trial)), 0o644)
		out, err := run("alert", "--source", "generic", "--file", payload, "--json")
		if err != nil {
			t.Fatalf("trial %d: alert: %v\n%s", trial, err, out)
		}
		id := between(out, `"incident": "`, `"`)
		setClock(at.Add(11 * time.Minute))
		cmd := serve()
		t1 := time.Now()
		if trial < 2 { // calibrate: how long until the update is out everywhere?
			if !posted(id) {
				t.Fatalf("trial %d: serve did not publish the automatic update", trial)
			}
			span = max(span, time.Since(t1))
			_ = cmd.Process.Signal(syscall.SIGINT)
			_ = cmd.Wait()
			where["finished"]++
		} else {
			time.Sleep(time.Duration(rng.Int64N(int64(span) + 1)))
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			inc, err := store.LoadFresh(id)
			if err != nil {
				t.Fatalf("trial %d: the record of %s does not load after the kill: %v", trial, id, err)
			}
			switch {
			case len(inc.PublicUpdates()) == 0:
				where["before recording the update"]++
			case inc.Undelivered() > 0:
				where["while posting"]++
			default:
				where["after the posts"]++
			}
			// The daemon comes back a little later; posts a killed run left
			// pending are retried a minute after they were recorded.
			setClock(at.Add(13 * time.Minute))
			again := serve()
			if !posted(id) {
				_ = again.Process.Kill()
				inc, _ := store.LoadFresh(id)
				t.Fatalf("trial %d: after a restart the automatic update of %s is not out everywhere: status %s, %d public, %d undelivered",
					trial, id, inc.Status, len(inc.PublicUpdates()), inc.Undelivered())
			}
			_ = again.Process.Signal(syscall.SIGINT)
			_ = again.Wait()
		}
		checkCrashTrial(t, s, store, run, trial, []string{"serve"}, []string{id})
		if t.Failed() {
			t.Fatalf("trial %d: see above", trial)
		}
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
	t.Logf("%d trials in %v (an automatic update takes %v): %s; no duplicates, no losses",
		trials, time.Since(start).Round(time.Millisecond), span.Round(time.Millisecond), strings.Join(parts, ", "))
}

func between(s, from, to string) string {
	_, rest, _ := strings.Cut(s, from)
	v, _, _ := strings.Cut(rest, to)
	return v
}
