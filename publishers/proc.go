package publishers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// waitDelay bounds how long Wait waits, after a child was killed or
// exited, for pipes that a process it started still holds open.
const waitDelay = time.Second

// Confine makes a command built with exec.CommandContext end when its
// context does, whatever it started: on Unix it runs in its own process
// group and cancelling kills the whole group (a shell and its children, git
// and its ssh), not only the direct child; and Wait gives up on pipes held
// open by anything that escaped after a second. Without it, `sh -c "sleep
// 75; echo tok"` holds its output open for 75 s after a 10 s timeout.
func Confine(cmd *exec.Cmd) {
	confine(cmd)
	if cmd.WaitDelay == 0 {
		cmd.WaitDelay = waitDelay
	}
}

// BatchSSH is the ssh command git gets when the user has not chosen one:
// ssh never prompts (for a password, a passphrase or an unknown host key),
// it fails instead.
const BatchSSH = "ssh -o BatchMode=yes"

// GitEnv is the environment for the user's git, run where no one can answer
// a prompt: GIT_TERMINAL_PROMPT=0, and GIT_SSH_COMMAND=BatchSSH unless the
// user chose their own ssh (GIT_SSH_COMMAND, GIT_SSH, GIT_SSH_VARIANT, or
// core.sshCommand in git's config for dir): theirs is left as it is, with
// nothing appended (add -o BatchMode=yes to it yourself).
func GitEnv(ctx context.Context, dir string) []string {
	env := append(os.Environ(), "GIT_TERMINAL_PROMPT=0")
	for _, name := range []string{"GIT_SSH_COMMAND", "GIT_SSH", "GIT_SSH_VARIANT"} {
		if os.Getenv(name) != "" {
			return env
		}
	}
	if sshCommandConfigured(ctx, dir) {
		return env
	}
	return append(env, "GIT_SSH_COMMAND="+BatchSSH)
}

var sshConfig sync.Map // dir -> bool: core.sshCommand is set

// sshCommandConfigured reports whether git's config for dir sets
// core.sshCommand (asked once per directory and process).
func sshCommandConfigured(ctx context.Context, dir string) bool {
	if v, ok := sshConfig.Load(dir); ok {
		return v.(bool)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "git", "config", "--get", "core.sshCommand")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0")
	Confine(cmd)
	out, _ := cmd.Output()
	set := strings.TrimSpace(string(out)) != ""
	sshConfig.Store(dir, set)
	return set
}

// GitError is a failed git command: its output (credentials in URLs
// redacted; the remote's first three lines and git's last three), and the
// timeout when it ran out of time.
type GitError struct {
	Err     error
	Output  string
	Timeout time.Duration // set when the command ran out of its own time
}

func (e *GitError) Error() string {
	if e.Timeout > 0 {
		return fmt.Sprintf("did not finish within %s", e.Timeout)
	}
	if e.Output != "" {
		return e.Output
	}
	return e.Err.Error()
}

func (e *GitError) Unwrap() error { return e.Err }

// ErrNoGit is returned when git is not installed.
var ErrNoGit = errors.New("git is not installed or not on PATH; install it or set git_push = false")

// RunGit runs the user's own git in dir (so their keys, credential helpers
// and config apply), confined (see Confine), never prompting (see GitEnv),
// and bounded by timeout. It returns the output with credentials in URLs
// redacted; a failure is a *GitError (or ErrNoGit, permanent). When ctx
// itself ends, the error is ctx's.
func RunGit(ctx context.Context, dir string, timeout time.Duration, args ...string) (string, error) {
	bin, err := exec.LookPath("git")
	if err != nil {
		return "", Permanent(ErrNoGit)
	}
	parent := ctx
	ctx, cancel := context.WithTimeout(parent, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Env = GitEnv(ctx, dir)
	Confine(cmd)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	text := RedactURLCredentials(strings.TrimSpace(out.String()))
	if err != nil {
		ge := &GitError{Err: err, Output: summary(text)}
		switch {
		case parent.Err() != nil: // the caller's deadline or cancel
			ge.Err, ge.Output = parent.Err(), ""
		case ctx.Err() != nil:
			ge.Err, ge.Timeout = ctx.Err(), timeout
		}
		return text, ge
	}
	return text, nil
}

// summary keeps what says why git failed: the remote's own words (its
// first three "remote:" lines) and git's last three lines.
func summary(s string) string {
	lines := strings.Split(s, "\n")
	var keep []string
	for i, l := range lines {
		if strings.HasPrefix(l, "remote:") && len(keep) < 3 && i < len(lines)-3 {
			keep = append(keep, strings.TrimSpace(l))
		}
	}
	return strings.Join(append(keep, lines[max(len(lines)-3, 0):]...), "; ")
}
