package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// binary runs this test binary as `incident` on the runbook in work/rb.
func binary(t *testing.T, work string) func(args ...string) (string, int) {
	t.Helper()
	env := []string{"INCIDENT_TEST_MAIN=1", "INCIDENT_RUNBOOK=" + filepath.Join(work, "rb"), "HOME=" + work, "USER=alice", "TZ=UTC",
		"PATH=" + os.Getenv("PATH"), "XDG_STATE_HOME=" + filepath.Join(work, "state"), "XDG_CONFIG_HOME=" + filepath.Join(work, "config")}
	return func(args ...string) (string, int) {
		cmd := exec.Command(os.Args[0], args...)
		cmd.Env, cmd.Dir = env, work
		out, _ := cmd.CombinedOutput()
		return string(out), cmd.ProcessState.ExitCode()
	}
}

// TestHostileEventFile: a 4 MB event file of nested arrays (a Go stack
// overflow for the TOML decoder) in an incident's folder is reported by
// name; nothing crashes, and the Nagios check answers UNKNOWN.
func TestHostileEventFile(t *testing.T) {
	work := t.TempDir()
	dir := filepath.Join(work, "rb")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "incident.toml"), []byte("[status_page]\ntype = \"static\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	run := binary(t, work)
	if out, code := run("open", "--title", "SMTP delays", "--message", "Investigating.", "--yes"); code != 0 {
		t.Fatalf("open: exit %d\n%s", code, out)
	}
	folders, _ := filepath.Glob(filepath.Join(dir, "incidents", "*"))
	if len(folders) != 1 {
		t.Fatalf("incident folders: %v", folders)
	}
	bad := filepath.Join(folders[0], "20261127T235959.000000000Z-note-zzzzzz.toml")
	const depth = 2 << 20
	src := "kind = \"note\"\nx = " + strings.Repeat("[", depth) + strings.Repeat("]", depth) + "\n"
	if err := os.WriteFile(bad, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"list"}, 1, bad},
		{[]string{"show"}, 1, bad},
		{[]string{"status"}, 1, bad},
		{[]string{"status", "--nagios"}, 3, "INCIDENT UNKNOWN - " + bad},
	} {
		out, code := run(tc.args...)
		if code != tc.code || !strings.Contains(out, tc.want) || strings.Contains(out, "goroutine") {
			t.Errorf("incident %s: exit %d, want %d and %q:\n%.600s", strings.Join(tc.args, " "), code, tc.code, tc.want, out)
		}
	}
}
