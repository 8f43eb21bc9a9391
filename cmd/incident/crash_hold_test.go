package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/incident-cli/incident/publishers/fakeservice"
	"github.com/incident-cli/incident/runbook"
)

// writePaths is, per fake, the path of the request that creates or edits a
// post (not a session or a look-up).
var writePaths = map[string]string{
	"wordpress": "/wp-json/wp/v2/posts", "statuspage": "/incidents", "discourse": "/posts.json",
	"mastodon": "/api/v1/statuses", "webhook": "", "twitter": "/2/tweets", "bluesky": "createRecord",
}

// TestCrashBetweenSendAndReceipt: the first attempt at a delivery is the
// one that skips the look-up before creating (Post.Fresh: no earlier
// attempt exists). Here that attempt lands and the process dies before its
// answer comes: on each service in turn, the fake stores the post (a new
// one for `open`, a reply or an edit for `update`), holds the answer, and
// the test SIGKILLs the binary right then. `incident retry` must finish the
// job without posting anything twice: every fake holds every recorded
// update exactly once, and nothing is left undelivered. With WordPress as
// the status page, then with Statuspage.
func TestCrashBetweenSendAndReceipt(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	for _, statusPage := range []string{"wordpress", "statuspage"} {
		t.Run(statusPage, func(t *testing.T) {
			s := startFakes(fakeOptions{Reporter: t})
			t.Cleanup(s.close)
			work := t.TempDir()
			dir := filepath.Join(work, "rb")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "incident.toml"), []byte(s.runbookTOML(statusPage)+s.socialTOML()), 0o600); err != nil {
				t.Fatal(err)
			}
			env := []string{"INCIDENT_TEST_MAIN=1", "INCIDENT_RUNBOOK=" + dir, "HOME=" + work, "USER=alice", "TZ=UTC", "PATH=" + os.Getenv("PATH"),
				"XDG_STATE_HOME=" + filepath.Join(work, "state"), "XDG_DATA_HOME=" + filepath.Join(work, "data"), "XDG_CONFIG_HOME=" + filepath.Join(work, "config")}
			for k, v := range s.env {
				env = append(env, k+"="+v)
			}
			store := &runbook.Store{Dir: filepath.Join(dir, "incidents")}
			run := func(args ...string) (string, error) {
				cmd := exec.Command(os.Args[0], args...)
				cmd.Env, cmd.Dir = env, work
				out, err := cmd.CombinedOutput()
				return string(out), err
			}
			services := []string{statusPage, "discourse", "mastodon", "webhook", "twitter", "bluesky"}
			trial := 0
			for i, svc := range services {
				title := fmt.Sprintf("Held answer %d", i)
				var id string
				for _, phase := range []string{"open", "update"} {
					args := []string{"open", "--title", title, "--service", "imap", "--message", "Investigating " + svc + ".", "--yes"}
					if phase == "update" {
						args = []string{"update", id, "--status", "identified", "--message", "Found it (" + svc + ").", "--yes"}
					}
					killHeld(t, s, svc, env, work, args)
					ids, _ := store.IDs()
					for _, x := range ids {
						if inc, err := store.Load(x); err == nil && inc.Title == title {
							id = x
						}
					}
					if id == "" {
						t.Fatalf("%s on %s: no incident recorded before the kill", phase, svc)
					}
					if out, err := run("retry"); err != nil {
						t.Fatalf("%s held on %s: retry: %v\n%s", phase, svc, err, out)
					}
					if statusPage == "wordpress" {
						checkCrashTrial(t, s, store, run, trial, args, []string{id})
					} else {
						checkHeldStatuspage(t, s, store, run, phase+" held on "+svc)
					}
					trial++
					if t.Failed() {
						t.Fatalf("%s held on %s: see above", phase, svc)
					}
				}
			}
		})
	}
}

// killHeld runs the command with the next write to svc's post path held
// after it was stored, and SIGKILLs it once the fake holds the answer.
func killHeld(t *testing.T, s *fakeSet, svc string, env []string, work string, args []string) {
	t.Helper()
	f, err := s.get(svc)
	if err != nil {
		t.Fatal(err)
	}
	held := make(chan string, 1)
	f.Inject(fakeservice.Fault{Mode: fakeservice.Hold, Writes: true, Path: writePaths[svc], Times: 1, Held: held})
	defer f.Clear()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env, cmd.Dir = env, work
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case req := <-held:
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		<-done
		t.Logf("%v: killed while %s held the answer to %s", args[0], svc, req)
	case <-done:
		t.Fatalf("%v finished before %s got the post (exit %d):\n%s", args, svc, cmd.ProcessState.ExitCode(), out.String())
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("%v: %s never got the post:\n%s", args, svc, out.String())
	}
}

// checkHeldStatuspage is checkCrashTrial's check for a runbook whose status
// page is Statuspage: every incident is delivered everywhere, Statuspage
// holds one incident per incident on record and no update twice, and every
// fake holds every post once.
func checkHeldStatuspage(t *testing.T, s *fakeSet, store *runbook.Store, run func(...string) (string, error), what string) {
	t.Helper()
	ids, err := store.IDs()
	if err != nil {
		t.Fatal(err)
	}
	if out, err := run("list", "--all", "--json"); err != nil || strings.Contains(out, `"undelivered": 1`) {
		t.Errorf("%s: list --all --json: %v\n%s", what, err, out)
	}
	updates := 0
	for _, id := range ids {
		inc, err := store.Load(id)
		if err != nil {
			t.Fatal(err)
		}
		if n := inc.Undelivered(); n != 0 {
			t.Errorf("%s: %s has %d undelivered post(s) after retry (LOSS)", what, id, n)
		}
		updates += len(inc.PublicUpdates())
	}
	if n := len(s.sp.Incidents()); n != len(ids) {
		t.Errorf("%s: Statuspage holds %d incidents for %d on record (DUPLICATE or LOSS)", what, n, len(ids))
	}
	if n, _ := s.count("statuspage", "updates"); n != updates {
		t.Errorf("%s: Statuspage holds %d incident updates for %d recorded (DUPLICATE or LOSS)", what, n, updates)
	}
	for _, n := range fakeNames {
		if err := s.once(n); err != nil {
			t.Errorf("%s: %v", what, err)
		}
	}
	for _, n := range []string{"discourse", "mastodon", "webhook", "twitter", "bluesky"} {
		if got, _ := s.count(n, ""); got != updates {
			t.Errorf("%s: %s holds %d posts for %d updates (DUPLICATE or LOSS)", what, n, got, updates)
		}
		if err := s.threaded(n); err != nil {
			t.Errorf("%s: %v", what, err)
		}
	}
	if p := s.problems(); len(p) > 0 {
		t.Errorf("protocol problems: %q", p)
	}
}
