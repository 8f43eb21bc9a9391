package runbook

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/incident-cli/incident/publishers"
)

// trustEnv is an environment with its own config and state directories.
func trustEnv(t *testing.T) func(string) string {
	home := t.TempDir()
	return func(k string) string {
		return map[string]string{"XDG_CONFIG_HOME": filepath.Join(home, "config"), "XDG_STATE_HOME": filepath.Join(home, "state")}[k]
	}
}

func cmdConfig(marker, command string) string {
	return "[status_page]\ntype = \"wordpress\"\nurl = \"https://status.example.com\"\nusername = \"bot\"\npassword = \"cmd:sh -c 'touch " + marker + "; " + command + "'\"\n"
}

// TestCommandsRunOnlyOnceTrusted: a cmd: secret runs only once the user
// trusted it; a new or changed one is untrusted again, and refusing names
// it by file:line and command name only.
func TestCommandsRunOnlyOnceTrusted(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("needs sh")
	}
	getenv := trustEnv(t)
	marker := filepath.Join(t.TempDir(), "ran")
	loc := writeRunbook(t, cmdConfig(marker, "echo S3CR3T-from-cmd-1"))
	open := func() *Runbook {
		rb, err := Open(loc, Options{Getenv: getenv})
		if err != nil {
			t.Fatal(err)
		}
		return rb
	}
	password := func(rb *Runbook) publishers.Secret { return rb.secretRefs()[0] }
	rb := open()
	if got := rb.UntrustedCommands(); len(got) != 1 {
		t.Fatalf("untrusted commands %v, want the password's", got)
	}
	_, err := rb.Secrets.Resolve(context.Background(), password(rb))
	var ue *UntrustedCommandsError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "incident.toml:5 cmd:sh …") || strings.Contains(err.Error(), "S3CR3T") || strings.Contains(err.Error(), "touch") {
		t.Fatalf("untrusted: err = %v, want a refusal naming incident.toml:5 cmd:sh … only", err)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("the untrusted command ran")
	}
	if err := rb.TrustCommands(); err != nil {
		t.Fatal(err)
	}
	if v, err := rb.Secrets.Resolve(context.Background(), password(rb)); err != nil || v != "S3CR3T-from-cmd-1" {
		t.Fatalf("trusted: %q, %v", v, err)
	}
	if rb := open(); len(rb.UntrustedCommands()) != 0 {
		t.Errorf("trusted commands are untrusted after reopening: %v", rb.UntrustedCommands())
	}
	// A pull changes the command: it is untrusted again.
	if err := os.WriteFile(filepath.Join(loc.Dir, ConfigFile), []byte(cmdConfig(marker, "echo S3CR3T-from-cmd-2")), 0o600); err != nil {
		t.Fatal(err)
	}
	os.Remove(marker)
	rb = open()
	if got := rb.UntrustedCommands(); len(got) != 1 {
		t.Fatalf("after a change: untrusted %v, want the changed one", got)
	}
	if _, err := rb.Secrets.Resolve(context.Background(), password(rb)); !errors.As(err, &ue) {
		t.Errorf("changed command: err = %v, want a refusal", err)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("the changed command ran before it was trusted")
	}
	rep, err := Trust(loc.Dir, getenv)
	if err != nil || len(rep.Commands) != 1 || rep.TrustFile != "" {
		t.Fatalf("Trust = %+v, %v", rep, err)
	}
	if rb := open(); len(rb.UntrustedCommands()) != 0 {
		t.Errorf("after incident trust: untrusted %v", rb.UntrustedCommands())
	}
}

// TestOwnershipRefused: a runbook folder or config that others can write,
// or that belongs to someone else, is not used until trusted (`incident
// trust` adds it to the user's list); a trust list others can write is
// itself refused.
func TestOwnershipRefused(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix modes")
	}
	getenv := trustEnv(t)
	loc := writeRunbook(t, "[status_page]\ntype = \"static\"\n")
	open := func() error {
		_, err := Open(loc, Options{Getenv: getenv})
		return err
	}
	cfg := filepath.Join(loc.Dir, ConfigFile)
	for _, tc := range []struct {
		path string
		mode os.FileMode
		want string
	}{
		{cfg, 0o664, "can be changed by its group"},
		{cfg, 0o606, "can be changed by anyone"},
		{loc.Dir, 0o775, "can be changed by its group"},
	} {
		os.Chmod(tc.path, tc.mode)
		err := open()
		var ue *UntrustedError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.path+" "+tc.want) || !strings.Contains(err.Error(), "incident trust "+loc.Dir) {
			t.Errorf("%s mode %v: Open = %v, want a refusal", tc.path, tc.mode, err)
		}
		os.Chmod(tc.path, map[bool]os.FileMode{true: 0o700, false: 0o600}[tc.path == loc.Dir])
	}
	if err := open(); err != nil {
		t.Fatalf("private again: %v", err)
	}
	if os.Geteuid() == 0 {
		if err := os.Chown(cfg, 4242, 4242); err != nil {
			t.Fatal(err)
		}
		if err := open(); err == nil || !strings.Contains(err.Error(), "belongs to uid 4242, not to you") {
			t.Fatalf("someone else's config: Open = %v, want a refusal", err)
		}
	} else {
		os.Chmod(cfg, 0o664)
	}
	rep, err := Trust(loc.Dir, getenv)
	if err != nil || rep.TrustFile == "" {
		t.Fatalf("Trust = %+v, %v; want the folder added to the trust list", rep, err)
	}
	if err := open(); err != nil {
		t.Fatalf("trusted: %v", err)
	}
	b, _ := os.ReadFile(rep.TrustFile)
	if !strings.Contains(string(b), `trust = ["`+realPath(loc.Dir)+`"]`) {
		t.Errorf("trust list:\n%s", b)
	}
	// A trust list others could have written trusts nothing.
	os.Chmod(rep.TrustFile, 0o666)
	if err := open(); err == nil || !strings.Contains(err.Error(), "it names the runbooks you trust") {
		t.Errorf("writable trust list: Open = %v, want a refusal", err)
	}
}

// TestTrustThroughASymlink: a runbook reached through a symbolic link is
// trusted for the path the commands use.
func TestTrustThroughASymlink(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("needs sh and symbolic links")
	}
	getenv := trustEnv(t)
	real := writeRunbook(t, cmdConfig(filepath.Join(t.TempDir(), "ran"), "echo S3CR3T-from-cmd-1"))
	link := filepath.Join(t.TempDir(), "ops")
	if err := os.Symlink(real.Dir, link); err != nil {
		t.Fatal(err)
	}
	loc, err := Find(link, getenv, "/")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Trust(loc.Dir, getenv); err != nil {
		t.Fatal(err)
	}
	rb, err := Open(loc, Options{Getenv: getenv})
	if err != nil {
		t.Fatal(err)
	}
	if cmds := rb.UntrustedCommands(); len(cmds) != 0 {
		t.Errorf("untrusted after incident trust through a link: %v", cmds)
	}
}
