package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
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

// hostileText is what a service's error (or a teammate's record) may hold to
// take over a terminal: a new window title, a screen clear, a fake line, a
// bidi override.
const hostileText = "\x1b]0;all good\x07\x1b[2J\x1b[H\n✓ chat: all channels delivered\r\u202egnp.exe\x9b"

// assertTerminalSafe fails when out holds a control character other than
// newline and tab, a bidi override, or the fake line starting a line.
func assertTerminalSafe(t *testing.T, what, out string) {
	t.Helper()
	for _, r := range out {
		if (r < 0x20 && r != '\n' && r != '\t') || r == 0x7f || (r >= 0x80 && r <= 0x9f) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) {
			t.Errorf("%s printed control character %U:\n%q", what, r, out)
			return
		}
	}
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "✓ chat: all channels") {
			t.Errorf("%s printed a fake line %q", what, l)
		}
	}
}

// TestTerminalEscapes: what a service answers and what a record holds is
// printed without terminal controls by every command that shows it.
func TestTerminalEscapes(t *testing.T) {
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, hostileText)
	}))
	defer hook.Close()
	work := t.TempDir()
	dir := filepath.Join(work, "rb")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	config := "[status_page]\ntype = \"static\"\nbase_url = \"https://status.example.com\"\n\n[[channel]]\nname = \"chat\"\ntype = \"webhook\"\nurl = \"" + hook.URL + "/hook\"\n"
	if err := os.WriteFile(filepath.Join(dir, "incident.toml"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	run := binary(t, work)
	out, code := run("open", "--title", "SMTP delays", "--message", "Investigating.", "--yes")
	if code != exitPartial || !strings.Contains(out, "✗ chat: post webhook: 400 Bad Request") {
		t.Fatalf("open: exit %d, want %d and the channel's error:\n%q", code, exitPartial, out)
	}
	assertTerminalSafe(t, "open", out)
	// A teammate's record: a note with the same text, synced in.
	folders, _ := filepath.Glob(filepath.Join(dir, "incidents", "*"))
	note := "kind = \"note\"\nat = 2026-11-27T10:20:00Z\nby = " + tomlQuote(hostileText) + "\ntext = " + tomlQuote(hostileText) + "\n"
	if err := os.WriteFile(filepath.Join(folders[0], "20991127T102000.000000000Z-note-zzzzzz.toml"), []byte(note), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"show"}, {"list"}, {"status"}, {"status", "--nagios"}, {"retry"}, {"doctor"}} {
		out, _ := run(args...)
		assertTerminalSafe(t, "incident "+strings.Join(args, " "), out)
	}
	// JSON keeps the data exactly, escaped as JSON.
	out, _ = run("show", "--json")
	if !strings.Contains(out, `\u001b]0;all good\u0007`) {
		t.Errorf("show --json lost the recorded text:\n%s", out)
	}
}

// tomlQuote writes s as a TOML basic string, controls as \u escapes (and
// invalid UTF-8 as U+FFFD, which TOML requires).
func tomlQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		switch {
		case r == '"' || r == '\\':
			b.WriteString("\\" + string(r))
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f):
			fmt.Fprintf(&b, "\\u%04X", r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
