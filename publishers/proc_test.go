package publishers

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestCommandSecretEndsWithItsChildren: a cmd: secret whose shell starts a
// child that outlives the timeout (`sleep 75; echo tok`) ends at the
// timeout, child and all, instead of when the child is done.
func TestCommandSecretEndsWithItsChildren(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("needs sh and process groups")
	}
	r := &Resolver{Timeout: 200 * time.Millisecond}
	s, _ := ParseSecret("cmd:sleep 75; echo tok-0123456789")
	start := time.Now()
	_, err := r.Resolve(context.Background(), s)
	if err == nil || !strings.Contains(err.Error(), "did not finish within 200ms") {
		t.Fatalf("err = %v, want the timeout", err)
	}
	// Far below the 75 s the child would take, far above the timeout.
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Resolve returned after %s: the child kept it waiting", d)
	}
}

func gitRepo(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	t.Setenv("GIT_CONFIG_GLOBAL", filepath.Join(t.TempDir(), "gitconfig"))
	dir := t.TempDir()
	for _, args := range [][]string{{"init", "-q"}, {"remote", "add", "origin", "ssh://git@git.example.invalid/ops/site.git"}} {
		if out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	return dir
}

// TestGitEnv: ssh runs in batch mode unless the user chose their own ssh
// command, which is left alone.
func TestGitEnv(t *testing.T) {
	for _, tc := range []struct {
		name      string
		env       map[string]string
		sshConfig string
		want      bool // GIT_SSH_COMMAND=BatchSSH added
	}{
		{name: "nothing chosen", want: true},
		{name: "GIT_SSH_COMMAND", env: map[string]string{"GIT_SSH_COMMAND": "ssh -i ~/.ssh/deploy"}},
		{name: "GIT_SSH", env: map[string]string{"GIT_SSH": "/usr/bin/plink"}},
		{name: "GIT_SSH_VARIANT", env: map[string]string{"GIT_SSH_VARIANT": "plink"}},
		{name: "core.sshCommand", sshConfig: "ssh -i ~/.ssh/deploy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := gitRepo(t)
			for _, k := range []string{"GIT_SSH_COMMAND", "GIT_SSH", "GIT_SSH_VARIANT"} {
				t.Setenv(k, tc.env[k])
			}
			if tc.sshConfig != "" {
				if out, err := exec.Command("git", "-C", dir, "config", "core.sshCommand", tc.sshConfig).CombinedOutput(); err != nil {
					t.Fatalf("git config: %v\n%s", err, out)
				}
			}
			env := GitEnv(context.Background(), dir)
			if !slices.Contains(env, "GIT_TERMINAL_PROMPT=0") {
				t.Error("GIT_TERMINAL_PROMPT=0 missing")
			}
			if got := slices.Contains(env, "GIT_SSH_COMMAND="+BatchSSH); got != tc.want {
				t.Errorf("GIT_SSH_COMMAND=%s added: %v, want %v", BatchSSH, got, tc.want)
			}
		})
	}
}

// TestRunGitSSHInBatchMode: git's ssh gets -o BatchMode=yes (an ssh on
// PATH that records its arguments stands in for OpenSSH).
func TestRunGitSSHInBatchMode(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("needs sh")
	}
	dir := gitRepo(t)
	for _, k := range []string{"GIT_SSH_COMMAND", "GIT_SSH", "GIT_SSH_VARIANT"} {
		t.Setenv(k, "")
	}
	bin := t.TempDir()
	args := filepath.Join(bin, "args")
	script := "#!/bin/sh\necho \"$@\" > " + args + "\nexit 255\n"
	if err := os.WriteFile(filepath.Join(bin, "ssh"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	if _, err := RunGit(context.Background(), dir, 10*time.Second, "ls-remote", "origin"); err == nil {
		t.Fatal("ls-remote through a failing ssh succeeded")
	}
	b, err := os.ReadFile(args)
	if err != nil {
		t.Fatalf("ssh was not run: %v", err)
	}
	if !strings.Contains(string(b), "-o BatchMode=yes") {
		t.Errorf("ssh ran with %q, want -o BatchMode=yes", b)
	}
}

// TestRunGitHangingSSH: an ssh that hangs (GIT_SSH_COMMAND never answers)
// is cut at git's timeout, with the ssh it started.
func TestRunGitHangingSSH(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("needs sh and process groups")
	}
	dir := gitRepo(t)
	t.Setenv("GIT_SSH_COMMAND", "sleep 60 #")
	start := time.Now()
	_, err := RunGit(context.Background(), dir, 300*time.Millisecond, "ls-remote", "origin")
	if err == nil || err.Error() != "did not finish within 300ms" {
		t.Fatalf("err = %v, want the timeout", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("RunGit returned after %s: the hanging ssh kept it waiting", d)
	}
}

func TestRedactURLCredentials(t *testing.T) {
	in := "fatal: unable to access 'https://bot:ghp_abc@github.com/o/r.git/': Could not resolve host"
	if got := RedactURLCredentials(in); strings.Contains(got, "ghp_abc") || !strings.Contains(got, "https://[redacted]@github.com") {
		t.Errorf("RedactURLCredentials = %s", got)
	}
}
