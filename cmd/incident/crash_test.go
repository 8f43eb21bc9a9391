package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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

	"github.com/incident-cli/incident/publishers/wordpress"
	"github.com/incident-cli/incident/runbook"
)

var crashTrials = flag.Int("crash.trials", 50, "trials of TestCrashThenRetry (bench/crash.sh runs 500)")

// TestCrashThenRetry: SPEC's "Killed at any moment, the tool loses nothing:
// `incident retry` finishes the job, and no channel receives the same update
// twice", tried on the real binary against the fakes of WordPress (the
// status page), Discourse, Mastodon, a webhook receiver that deduplicates
// on Idempotency-Key, X and Bluesky. Each trial runs the next command of an incident's life
// (open, update, update, close, rfo, then a new incident) and SIGKILLs it
// after a random delay that covers the time before, during and after the
// posts; the fakes answer after a random 1-6 ms, so kills land mid-flight.
// Then `incident retry` (no id: it must find the undelivered work itself)
// runs to the end, and the test requires that the record loads (`incident
// show --json`), that nothing is left undelivered, and that every fake holds
// every recorded update exactly once: found by its idempotency key (Mastodon,
// webhook), marker (Discourse) or the receipt's id (X, which has no key, and
// Bluesky, whose record key the channel derives from the update's key), with
// nothing else held, and, for WordPress, one post per incident (and one per
// RFO) whose text lists each update once.
//
//	go test ./cmd/incident -run TestCrashThenRetry -crash.trials=500 -v   # bench/crash.sh
func TestCrashThenRetry(t *testing.T) {
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
	if err := os.WriteFile(filepath.Join(work, "rfo.md"), []byte("## Summary\n\nIMAP logins failed.\n\n## Root cause\n\nA full disk.\n\n## What we did\n\nWe freed space.\n\n## What we are changing\n\nDisk alerts.\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"INCIDENT_TEST_MAIN=1", "INCIDENT_RUNBOOK=" + dir, "HOME=" + work, "USER=alice", "TZ=UTC", "PATH=" + os.Getenv("PATH"),
		"XDG_STATE_HOME=" + filepath.Join(work, "state"), "XDG_DATA_HOME=" + filepath.Join(work, "data"), "XDG_CONFIG_HOME=" + filepath.Join(work, "config")}
	for k, v := range s.env {
		env = append(env, k+"="+v)
	}
	store := &runbook.Store{Dir: filepath.Join(dir, "incidents")} // read without the cache the binary keeps
	run := func(args ...string) (string, error) {
		cmd := exec.Command(os.Args[0], args...)
		cmd.Env = env
		cmd.Dir = work
		out, err := cmd.CombinedOutput()
		return string(out), err
	}

	var (
		cur    string // the incident the trials work on ("" opens one)
		seen   = map[string]bool{}
		where  = map[string]int{} // where kills landed
		span   time.Duration      // how long an unkilled command takes
		rng    = rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
		titles int
		// phantoms are incident folders a killed open left without events.
		phantoms []string
	)
	next := func() []string {
		if cur != "" {
			inc, err := store.Load(cur)
			if err != nil {
				t.Fatalf("load %s: %v", cur, err)
			}
			switch {
			case inc.Open() && len(inc.PublicUpdates()) >= 3:
				return []string{"close", cur, "--message", fmt.Sprintf("Resolved (%s).", cur), "--yes"}
			case inc.Open():
				st := []string{"identified", "monitoring", "identified"}[len(inc.PublicUpdates())%3]
				return []string{"update", cur, "--status", st, "--message", fmt.Sprintf("Update %d of %s.", len(inc.PublicUpdates())+1, cur), "--yes"}
			case len(inc.Updates) == len(inc.PublicUpdates()):
				return []string{"rfo", cur, "--from", "rfo.md", "--yes"}
			}
			cur = ""
		}
		titles++
		return []string{"open", "--title", fmt.Sprintf("Crash trial incident %d", titles), "--service", "imap",
			"--message", fmt.Sprintf("Investigating incident %d.", titles), "--yes"}
	}

	trials := *crashTrials
	start := time.Now()
	for trial := 0; trial < trials; trial++ {
		args := next()
		before := ledgerOf(t, store, cur)
		cmd := exec.Command(os.Args[0], args...)
		cmd.Env, cmd.Dir = env, work
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		t0 := time.Now()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		killed := false
		if trial >= 2 { // the first two calibrate: how long does a command take?
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
			if err := cmd.Wait(); err != nil {
				t.Fatalf("%v: %v\n%s", args, err, out.String())
			}
			span = max(span, time.Since(t0))
		}
		if !killed && cmd.ProcessState.ExitCode() != 0 {
			t.Fatalf("trial %d: %v exited %d:\n%s", trial, args, cmd.ProcessState.ExitCode(), out.String())
		}
		// Which incident did an open make, if it got that far? A kill
		// between making the incident's folder and writing its first event
		// leaves an empty folder, which is no incident (see
		// TestKilledOpenLeavesNoPhantomIncident): it is counted, and the
		// trials go on with a new incident.
		ids, _ := store.IDs()
		for _, id := range ids {
			if !seen[id] {
				seen[id] = true
				cur = id
				if evs, err := store.Events(id); err == nil && len(evs) == 0 {
					phantoms = append(phantoms, id)
					cur = ""
				}
			}
		}
		// Where did the kill land?
		after := ledgerOf(t, store, cur)
		switch {
		case !killed:
			where["finished"]++
		case after.updates == before.updates:
			where["before recording the update"]++
		case after.pending > 0:
			where["while posting"]++
		default:
			where["after the posts"]++
		}

		if out, err := run("retry"); err != nil {
			t.Fatalf("trial %d (%v, killed %v): retry: %v\n%s", trial, args, killed, err, out)
		}
		touched := []string{}
		if cur != "" {
			touched = append(touched, cur)
		}
		checkCrashTrial(t, s, store, run, trial, args, touched)
		if t.Failed() {
			t.Fatalf("trial %d (%v) killed %v: see above", trial, args, killed)
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
	t.Logf("%d trials in %v (an unkilled command takes %v): %s; %d incidents; no duplicates, no losses",
		trials, time.Since(start).Round(time.Millisecond), span.Round(time.Millisecond), strings.Join(parts, ", "), len(seen))
	if len(phantoms) > 0 {
		t.Logf("%d killed open(s) left an empty incident folder, which no command takes for an incident: %s", len(phantoms), strings.Join(phantoms, ", "))
	}
	if trials >= 50 && where["while posting"] == 0 {
		t.Errorf("no kill landed while posting: the delays do not cover the publish")
	}
}

type ledgerCount struct{ updates, pending int }

// ledgerOf counts an incident's recorded updates and its deliveries not
// sent (none for "", or for an empty folder a killed open left).
func ledgerOf(t *testing.T, store *runbook.Store, id string) ledgerCount {
	t.Helper()
	if id == "" {
		return ledgerCount{}
	}
	if evs, err := store.Events(id); err == nil && len(evs) == 0 {
		return ledgerCount{}
	}
	inc, err := store.Load(id)
	if err != nil {
		t.Fatalf("the record of %s does not load: %v", id, err)
	}
	return ledgerCount{updates: len(inc.Updates), pending: inc.Undelivered()}
}

// keyHash is the Discourse channel's marker hash of a post key.
func keyHash(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:16])
}

// checkCrashTrial: every incident's record loads through the binary, nothing
// is undelivered, and every fake holds every recorded update exactly once
// (and nothing else).
func checkCrashTrial(t *testing.T, s *fakeSet, store *runbook.Store, run func(...string) (string, error), trial int, args []string, touched []string) {
	t.Helper()
	ids, err := store.IDs()
	if err != nil {
		t.Fatal(err)
	}
	// Through the binary: every incident's summary says nothing is
	// undelivered, and the incident this trial worked on shows.
	out, err := run("list", "--all", "--json")
	var sums []runbook.Summary
	if err == nil {
		err = json.Unmarshal([]byte(out), &sums)
	}
	if err != nil {
		t.Fatalf("trial %d: list --all --json: %v\n%s", trial, err, out)
	}
	listed := map[string]bool{}
	for _, sum := range sums {
		listed[sum.ID] = true
		if sum.Undelivered != 0 {
			t.Errorf("trial %d: list says %s has %d undelivered post(s) after retry (LOSS)", trial, sum.ID, sum.Undelivered)
		}
	}
	byKey := map[string]map[string]int{"discourse": {}, "mastodon": {}, "webhook": {}, "twitter": {}, "bluesky": {}}
	for _, p := range s.dc.Posts() {
		byKey["discourse"][p.Marker]++
	}
	for _, st := range s.md.Statuses() {
		byKey["mastodon"][st.IdempotencyKey]++
	}
	for _, d := range s.wh.Deliveries() {
		byKey["webhook"][d.IdempotencyKey]++
	}
	for _, p := range s.x.Posts() {
		byKey["twitter"][p.ID]++
	}
	for _, rec := range s.bs.Records() {
		byKey["bluesky"][rec.URI]++
	}
	wpPosts := map[string]int{}
	wpContent := map[string]string{}
	for _, p := range s.wp.Posts() {
		wpPosts[p.Slug]++
		wpContent[p.Slug] = p.Content
	}
	expected := map[string]int{}
	for _, id := range ids {
		// The record loads through the binary, and says nothing is pending.
		if slices.Contains(touched, id) {
			out, err := run("show", "--json", id)
			if err != nil {
				t.Errorf("trial %d: show --json %s: %v\n%s", trial, id, err, out)
				continue
			}
			var shown struct {
				Undelivered int `json:"undelivered"`
				Log         []struct {
					Deliveries []struct{ Channel, State string }
				} `json:"update_log"`
			}
			if err := json.Unmarshal([]byte(out), &shown); err != nil {
				t.Errorf("trial %d: show --json %s: %v", trial, id, err)
			}
			if shown.Undelivered != 0 {
				t.Errorf("trial %d: %s has %d undelivered post(s) after retry (LOSS)", trial, id, shown.Undelivered)
			}
			for _, u := range shown.Log {
				for _, d := range u.Deliveries {
					if d.State != "sent" {
						t.Errorf("trial %d: show --json %s: %s is %s after retry (LOSS)", trial, id, d.Channel, d.State)
					}
				}
			}
		}
		if evs, err := store.Events(id); err == nil && len(evs) == 0 {
			if listed[id] {
				t.Errorf("trial %d: list shows %s, an empty folder a killed open left, as an incident", trial, id)
			}
			continue
		}
		if !listed[id] {
			t.Errorf("trial %d: list --all does not show %s", trial, id)
		}
		inc, err := store.Load(id)
		if err != nil {
			t.Fatalf("trial %d: load %s: %v", trial, id, err)
		}
		if inc.Title == "" {
			t.Errorf("trial %d: incident %s has events but no opened event", trial, id)
		}
		for _, u := range inc.Updates {
			for _, d := range u.Deliveries {
				if d.State != runbook.Sent {
					t.Errorf("trial %d: %s update %s on %s is %s after retry (LOSS): %s", trial, id, u.Event.ID, d.Channel, d.State, d.Error)
					continue
				}
				fk, ok := linkFakes[d.Channel]
				if !ok {
					fk, ok = socialFakes[d.Channel]
				}
				if !ok {
					continue
				}
				k := id + "/" + u.Event.ID + "/" + d.Channel
				switch {
				case fk == "discourse":
					k = keyHash(k)
				case socialFakes[d.Channel] != "":
					if d.Receipt == nil {
						t.Errorf("trial %d: %s update %s on %s is sent without a receipt", trial, id, u.Event.ID, d.Channel)
						continue
					}
					k = d.Receipt.ID
				}
				expected[fk+" "+k]++
				switch n := byKey[fk][k]; {
				case n == 0:
					t.Errorf("trial %d: %s does not hold update %s of %s although the record says it was sent (LOSS)", trial, fk, u.Event.ID, id)
				case n > 1:
					t.Errorf("trial %d: %s holds update %s of %s %d times (DUPLICATE)", trial, fk, u.Event.ID, id, n)
				}
			}
		}
		// WordPress: one post per incident, listing each update once; one RFO post.
		slug := wordpress.Slug(id)
		if len(inc.PublicUpdates()) > 0 && wpPosts[slug] != 1 {
			t.Errorf("trial %d: wordpress holds %d posts for %s (want 1)", trial, wpPosts[slug], id)
		}
		if h := wpHeading.FindAllString(wpContent[slug], -1); len(h) != len(inc.PublicUpdates()) {
			t.Errorf("trial %d: the status post of %s lists %d updates, want %d", trial, id, len(h), len(inc.PublicUpdates()))
		}
		for _, u := range inc.PublicUpdates() {
			if n := strings.Count(wpContent[slug], "<p>"+u.Event.Message+"</p>"); n != 1 {
				t.Errorf("trial %d: the status post of %s shows update %d %d times", trial, id, u.Number, n)
			}
		}
		if rfo := len(inc.Updates) - len(inc.PublicUpdates()); wpPosts[slug+"-rfo"] != min(rfo, 1) {
			t.Errorf("trial %d: wordpress holds %d RFO posts for %s", trial, wpPosts[slug+"-rfo"], id)
		}
	}
	// Nothing a fake holds is unaccounted for (a post whose update is not in
	// the record, or that carries another key).
	for fk, m := range byKey {
		for k, n := range m {
			if expected[fk+" "+k] == 0 {
				t.Errorf("trial %d: %s holds %d post(s) with key %q that no recorded delivery has (DUPLICATE or stray)", trial, fk, n, k)
			}
		}
	}
	for slug, n := range wpPosts {
		if n != 1 || !slices.ContainsFunc(ids, func(id string) bool { s := wordpress.Slug(id); return slug == s || slug == s+"-rfo" }) {
			t.Errorf("trial %d: wordpress holds %d post(s) with slug %s (DUPLICATE or stray)", trial, n, slug)
		}
	}
	for _, n := range fakeNames {
		if err := s.once(n); err != nil {
			t.Errorf("trial %d (%v): %v", trial, args, err)
		}
	}
	for _, n := range []string{"discourse", "mastodon", "webhook", "twitter", "bluesky"} {
		if err := s.threaded(n); err != nil && !strings.Contains(err.Error(), "holds nothing") {
			t.Errorf("trial %d: %v", trial, err)
		}
	}
	if p := s.problems(); len(p) > 0 {
		t.Errorf("protocol problems: %q", p)
	}
}

// TestKilledOpenLeavesNoPhantomIncident: `incident open` makes the
// incident's folder (Store.Create), then writes its first event; a SIGKILL
// between the two (TestCrashThenRetry hits it about once in 40 opens: the
// event write syncs the file and the folder) leaves an empty folder. Killed
// at any moment, the tool must leave a state every command handles; this one
// is taken for an open incident with no title, no status and no updates,
// overdue since the year 1: `incident status` exited 4, `status --nagios`
// said CRITICAL (monitoring paged someone until a person deleted the
// folder), and `incident update` without an id refused because two
// incidents were open (fixed in ac2a211: an empty folder is no incident).
//
// The state is made as the kill leaves it: the folder of an open whose
// first event was never written, next to a real incident.
func TestKilledOpenLeavesNoPhantomIncident(t *testing.T) {
	work := t.TempDir()
	dir := filepath.Join(work, "rb")
	if err := os.MkdirAll(filepath.Join(dir, "incidents", "2026-11-27-imap-pop-login-failures"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "incident.toml"), []byte("[status_page]\ntype = \"static\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"INCIDENT_TEST_MAIN=1", "INCIDENT_RUNBOOK=" + dir, "HOME=" + work, "USER=alice", "TZ=UTC", "PATH=" + os.Getenv("PATH"),
		"XDG_STATE_HOME=" + filepath.Join(work, "state")}
	run := func(args ...string) (string, int) {
		cmd := exec.Command(os.Args[0], args...)
		cmd.Env, cmd.Dir = env, work
		out, _ := cmd.CombinedOutput()
		return string(out), cmd.ProcessState.ExitCode()
	}
	if out, code := run("open", "--title", "SMTP delays", "--message", "Investigating.", "--yes"); code != 0 {
		t.Fatalf("open: exit %d\n%s", code, out)
	}
	if out, code := run("status"); code != 0 {
		t.Errorf("incident status: exit %d, want 0 (the one real incident is not overdue):\n%s", code, out)
	}
	if out, code := run("status", "--nagios"); code != 0 || !strings.HasPrefix(out, "INCIDENT OK") {
		t.Errorf("incident status --nagios: exit %d, want 0 and OK:\n%s", code, out)
	}
	if out, code := run("update", "--message", "Found it.", "--yes"); code != 0 {
		t.Errorf("incident update (one real incident is open): exit %d, want 0:\n%s", code, out)
	}
}
