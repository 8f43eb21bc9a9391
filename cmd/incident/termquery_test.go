package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/incident-cli/incident/runbook"
)

// osc11 is the query for the terminal's background colour.
var osc11 = []byte("\x1b]11;?")

// TestNoTerminalQueryWithoutPrompt: at a terminal, commands that never
// prompt send the terminal nothing (Bubble Tea's start-up query for the
// background colour is held back: internal/termquiet), so they never wait
// for its answer; a command that prompts asks, before its first form, and
// gets the answer (the test terminal gives one).
func TestNoTerminalQueryWithoutPrompt(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary in a terminal")
	}
	work := t.TempDir()
	rb := filepath.Join(work, "rb")
	if _, err := runbook.Init(rb, false); err != nil {
		t.Fatal(err)
	}
	env := []string{"HOME=" + work, "XDG_STATE_HOME=" + filepath.Join(work, "state"), "XDG_DATA_HOME=" + filepath.Join(work, "data"),
		"XDG_CONFIG_HOME=" + filepath.Join(work, "config"), "INCIDENT_RUNBOOK=" + rb, "TERM=xterm-256color", "USER=alice",
		"PATH=" + os.Getenv("PATH"), "TZ=UTC"}
	for _, args := range [][]string{{"version"}, {"status"}, {"list"}, {"doctor"}} {
		term := startTerminal(t, env, args...)
		term.wait()
		term.mu.Lock()
		out := term.out.Bytes()
		term.mu.Unlock()
		if bytes.Contains(out, osc11) {
			t.Errorf("incident %v asked the terminal for its background colour:\n%q", args, out)
		}
	}

	term := startTerminal(t, env, "open")
	term.waitFor(`Title`)
	term.mu.Lock()
	asked := bytes.Contains(term.out.Bytes(), osc11)
	term.mu.Unlock()
	if !asked {
		t.Errorf("incident open showed its first form without asking the terminal for its background colour")
	}
	term.pty.WriteString("\x03") // Ctrl-C
	term.wait()
}
