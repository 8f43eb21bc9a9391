package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestTrustAtTerminal: at a terminal, a cmd: secret not trusted yet is
// asked about (huh, accessible mode): no leaves it unrun and the command
// fails; yes trusts it, the command goes on, and the next run asks nothing.
func TestTrustAtTerminal(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary in a terminal")
	}
	work := t.TempDir()
	rb := filepath.Join(work, "rb")
	marker := filepath.Join(work, "ran")
	if err := os.MkdirAll(rb, 0o755); err != nil {
		t.Fatal(err)
	}
	config := "[status_page]\ntype = \"wordpress\"\nurl = \"https://status.example.com\"\nusername = \"bot\"\npassword = \"cmd:sh -c 'touch " + marker + "; echo S3CR3T-terminal-0123'\"\n"
	if err := os.WriteFile(filepath.Join(rb, "incident.toml"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"HOME=" + work, "XDG_STATE_HOME=" + filepath.Join(work, "state"), "XDG_CONFIG_HOME=" + filepath.Join(work, "config"),
		"INCIDENT_RUNBOOK=" + rb, "TERM=xterm", "ACCESSIBLE=1", "USER=bob", "PATH=" + os.Getenv("PATH"), "TZ=UTC"}

	term := startTerminal(t, env, "doctor")
	term.waitFor(`incident\.toml:5 cmd:sh …`)
	term.waitFor(`Trust them\?.*\[y/N\]`)
	term.pty.WriteString("n\r")
	if code := term.wait(); code != exitFailed {
		t.Fatalf("declined: exit %d, want %d", code, exitFailed)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("the command ran although it was not trusted")
	}

	term = startTerminal(t, env, "doctor")
	term.waitFor(`Trust them\?.*\[y/N\]`)
	term.pty.WriteString("y\r")
	term.waitFor(`trusted 1 cmd: secret`)
	term.waitFor(`ok   secret cmd:sh …: resolves`)
	if code := term.wait(); code != 0 {
		t.Fatalf("trusted: exit %d", code)
	}
	if _, err := os.Stat(marker); err != nil {
		t.Fatalf("the trusted command did not run: %v", err)
	}

	term = startTerminal(t, env, "doctor")
	term.waitFor(`ok   secret cmd:sh …: resolves`)
	if code := term.wait(); code != 0 {
		t.Fatalf("second run: exit %d", code)
	}
}
