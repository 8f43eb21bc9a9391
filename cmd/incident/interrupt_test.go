package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// interruptRunbook writes a runbook whose webhook channel is srv.
func interruptRunbook(t *testing.T, srv *httptest.Server) []string {
	t.Helper()
	work := t.TempDir()
	rb := filepath.Join(work, "rb")
	os.MkdirAll(rb, 0o755)
	cfg := `[status_page]
type = "static"
base_url = "https://status.example.com"

[[channel]]
name = "chat"
type = "webhook"
url = "` + srv.URL + `"
`
	if err := os.WriteFile(filepath.Join(rb, "incident.toml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return []string{"HOME=" + work, "XDG_STATE_HOME=" + filepath.Join(work, "state"), "INCIDENT_RUNBOOK=" + rb,
		"USER=alice", "PATH=" + os.Getenv("PATH"), "TZ=UTC", "INCIDENT_TEST_MAIN=1"}
}

func incidentCmd(env []string, args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = env
	return cmd
}

// undelivered reads `incident list --json` and sums undelivered posts.
func undelivered(t *testing.T, env []string) int {
	t.Helper()
	out, err := incidentCmd(env, "list", "--all", "--json").Output()
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	var sums []struct{ Undelivered int }
	if err := json.Unmarshal(out, &sums); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, s := range sums {
		n += s.Undelivered
	}
	return n
}

// TestFirstInterruptLetsPostsInFlightFinish: Ctrl-C while a channel is
// answering. The post in flight is not abandoned: its answer is recorded,
// and nothing is left to retry.
func TestFirstInterruptLetsPostsInFlightFinish(t *testing.T) {
	var posts atomic.Int32
	arrived := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		time.Sleep(700 * time.Millisecond)
		posts.Add(1)
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	env := interruptRunbook(t, srv)
	cmd := incidentCmd(env, "open", "--title", "IMAP", "--message", "Investigating.", "--yes")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	<-arrived
	cmd.Process.Signal(syscall.SIGINT)
	cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit %d:\n%s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "interrupted: finishing in-flight posts") || !strings.Contains(stderr.String(), "✓ chat") {
		t.Errorf("stderr:\n%s", stderr.String())
	}
	if n := undelivered(t, env); n != 0 || posts.Load() != 1 {
		t.Errorf("undelivered %d, posts %d", n, posts.Load())
	}
}

// TestInterruptDuringBackoff: the channel asked to come back later; Ctrl-C
// stops the wait at once, the ledger says failed, and retry delivers.
func TestInterruptDuringBackoff(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.Header().Set("Retry-After", "60")
			http.Error(w, "slow down", http.StatusTooManyRequests)
			return
		}
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	env := interruptRunbook(t, srv)
	cmd := incidentCmd(env, "open", "--title", "IMAP", "--message", "Investigating.", "--yes")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for calls.Load() == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	cmd.Process.Signal(syscall.SIGINT)
	cmd.Wait()
	if waited := time.Since(start); waited > 5*time.Second {
		t.Errorf("the interrupted command took %s to stop", waited)
	}
	if code := cmd.ProcessState.ExitCode(); code != exitPartial {
		t.Errorf("exit %d, want %d (the status page has the update)", code, exitPartial)
	}
	if n := undelivered(t, env); n != 1 {
		t.Fatalf("undelivered = %d, want 1", n)
	}
	if out, err := incidentCmd(env, "retry").CombinedOutput(); err != nil {
		t.Fatalf("retry: %v\n%s", err, out)
	}
	if n := undelivered(t, env); n != 0 || calls.Load() != 2 {
		t.Errorf("after retry: undelivered %d, calls %d", n, calls.Load())
	}
}

// TestSecondInterruptExitsAtOnce: a channel hangs; the second Ctrl-C quits
// without waiting. The update is recorded, so retry completes it.
func TestSecondInterruptExitsAtOnce(t *testing.T) {
	var calls atomic.Int32
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			select {
			case <-release:
			case <-r.Context().Done():
			}
			return
		}
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	defer close(release)
	env := interruptRunbook(t, srv)
	cmd := incidentCmd(env, "open", "--title", "IMAP", "--message", "Investigating.", "--yes")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for calls.Load() == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGINT)
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	cmd.Process.Signal(syscall.SIGINT)
	cmd.Wait()
	if waited := time.Since(start); waited > 2*time.Second {
		t.Errorf("the second Ctrl-C took %s", waited)
	}
	if code := cmd.ProcessState.ExitCode(); code != 130 {
		t.Errorf("exit %d, want 130", code)
	}
	if n := undelivered(t, env); n != 1 {
		t.Fatalf("undelivered = %d, want 1 (the webhook post)", n)
	}
	if out, err := incidentCmd(env, "retry").CombinedOutput(); err != nil {
		t.Fatalf("retry: %v\n%s", err, out)
	}
	if n := undelivered(t, env); n != 0 {
		t.Errorf("after retry: undelivered %d", n)
	}
}
