package hugo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/incident-cli/incident/publishers"
)

// Timeouts for the user's git: local commands and network ones (push,
// ls-remote). The caller's context may end them sooner.
const (
	localTimeout  = 30 * time.Second
	remoteTimeout = 2 * time.Minute
)

// gitRunner runs the user's own git binary in the site directory. git never
// prompts (GIT_TERMINAL_PROMPT=0): a push needing a password fails instead of
// hanging.
type gitRunner struct {
	dir    string
	remote time.Duration // remoteTimeout when zero (tests shorten it)
}

// publish commits rel (only rel, whatever else is staged) and pushes. A
// failed add or commit is permanent (fix the repository, then retry); a
// failed push is retryable, the page stays written and committed.
func (g gitRunner) publish(ctx context.Context, rel, message string) error {
	if _, err := g.run(ctx, localTimeout, "add", "--", rel); err != nil {
		return g.classify("git add", err, false)
	}
	// Exit status 1: the page differs from HEAD and needs a commit; 0: an
	// earlier attempt already committed it.
	_, err := g.run(ctx, localTimeout, "diff", "--cached", "--quiet", "--", rel)
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee) && ee.ExitCode() == 1:
		if _, err := g.run(ctx, localTimeout, "commit", "--quiet", "-m", message, "--", rel); err != nil {
			return g.classify("git commit", err, false)
		}
	case err != nil:
		return g.classify("git diff", err, false)
	}
	if _, err := g.run(ctx, g.remoteTimeout(), "push", "--quiet"); err != nil {
		return g.classify("git push", err, true)
	}
	return nil
}

// lsRemote checks that the default remote answers with the user's credentials.
func (g gitRunner) lsRemote(ctx context.Context) error {
	if _, err := g.run(ctx, g.remoteTimeout(), "ls-remote", "--quiet", "--heads"); err != nil {
		return g.classify("git ls-remote", err, true)
	}
	return nil
}

func (g gitRunner) remoteTimeout() time.Duration {
	if g.remote > 0 {
		return g.remote
	}
	return remoteTimeout
}

// gitError is a failed git command with its (redacted) output.
type gitError struct {
	err     error
	output  string
	timeout time.Duration // set when the command ran out of time
}

func (e *gitError) Error() string {
	if e.timeout > 0 {
		return fmt.Sprintf("did not finish within %s", e.timeout)
	}
	if e.output != "" {
		return e.output
	}
	return e.err.Error()
}

func (e *gitError) Unwrap() error { return e.err }

// run runs git with args in the site directory, bounded by timeout.
func (g gitRunner) run(ctx context.Context, timeout time.Duration, args ...string) (string, error) {
	bin, err := exec.LookPath("git")
	if err != nil {
		return "", publishers.Permanent(errors.New("git is not installed or not on PATH; install it or set git_push = false"))
	}
	parent := ctx
	ctx, cancel := context.WithTimeout(parent, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = g.dir
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0")
	cmd.WaitDelay = 250 * time.Millisecond // a helper (git-remote-https) may hold the output open
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	text := redact(strings.TrimSpace(out.String()))
	if err != nil {
		ge := &gitError{err: err, output: lastLines(text, 3)}
		switch {
		case parent.Err() != nil: // the caller's deadline or cancel
			ge.err, ge.output = parent.Err(), ""
		case ctx.Err() != nil:
			ge.err, ge.timeout = ctx.Err(), timeout
		}
		return text, ge
	}
	return text, nil
}

// classify words the error; retryable says whether trying again may help
// (a push), and a context that ended is always worth another attempt.
func (g gitRunner) classify(op string, err error, retryable bool) error {
	if errors.Is(err, context.DeadlineExceeded) {
		retryable = true
	}
	var ge *gitError
	if !errors.As(err, &ge) {
		return fmt.Errorf("%s: %w", op, err) // git is missing: already permanent
	}
	e := fmt.Errorf("%s in %s: %w", op, g.dir, err)
	if retryable {
		return e
	}
	return publishers.Permanent(e)
}

var urlCredentials = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@`) })

// redact removes credentials embedded in remote URLs (https://user:token@host).
func redact(s string) string {
	return urlCredentials().ReplaceAllString(s, "${1}[redacted]@")
}

func lastLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "; ")
}
