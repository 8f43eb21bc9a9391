package publishers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Secret is a reference to a secret in config: env:NAME, file:PATH or
// cmd:COMMAND. The config never holds the secret itself; decoding a literal
// value fails with an error that shows the three forms. Its String is the
// reference without a cmd:'s arguments (which may hold a token inline),
// never the value, so it is safe to print.
type Secret struct {
	ref string
}

// MinSecret is the shortest secret value accepted: redaction replaces
// every occurrence of a value in what is shown or recorded, and a shorter
// one would match ordinary text (and be guessed from what it left).
const MinSecret = 8

// ErrLiteralSecret is returned when a secret field holds a value instead of a reference.
var ErrLiteralSecret = errors.New("secrets are never written in the config: use env:NAME (an environment variable), file:PATH (a file's content) or cmd:COMMAND (a command's output, e.g. cmd:pass show mastodon/token)")

// ParseSecret checks a reference.
func ParseSecret(ref string) (Secret, error) {
	kind, rest, ok := strings.Cut(ref, ":")
	if !ok || strings.TrimSpace(rest) == "" {
		return Secret{}, ErrLiteralSecret
	}
	switch kind {
	case "env", "file", "cmd":
		return Secret{ref: ref}, nil
	}
	return Secret{}, ErrLiteralSecret
}

// FindSecret reads a config value that is a reference ("env:TOKEN") or a
// word and a reference ("Bearer env:TOKEN"), as header values may be. It
// returns the text before the reference and the reference.
func FindSecret(v string) (prefix string, s Secret, ok bool) {
	at := 0
	if _, err := ParseSecret(v); err != nil {
		at = -1
		for _, kind := range []string{" env:", " file:", " cmd:"} {
			if i := strings.Index(v, kind); i >= 0 && (at < 0 || i+1 < at) {
				at = i + 1
			}
		}
	}
	if at < 0 {
		return "", Secret{}, false
	}
	s, err := ParseSecret(v[at:])
	if err != nil {
		return "", Secret{}, false
	}
	return v[:at], s, true
}

// UnmarshalText implements encoding.TextUnmarshaler so config structs can hold
// Secret fields decoded strictly.
func (s *Secret) UnmarshalText(b []byte) error {
	v, err := ParseSecret(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// MarshalText returns the printable reference (see String).
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// String returns the reference as it may be shown: env:NAME, file:PATH, and
// for a command only its name, "cmd:pass …": the arguments may carry a
// token inline. Never the value.
func (s Secret) String() string {
	kind, rest, _ := strings.Cut(s.ref, ":")
	if kind != "cmd" {
		return s.ref
	}
	return "cmd:" + commandName(rest)
}

// Ref returns the whole reference, a cmd:'s arguments included: for
// comparing and hashing references, never for showing them.
func (s Secret) Ref() string { return s.ref }

// IsCommand reports whether the secret is a cmd: reference.
func (s Secret) IsCommand() bool { return strings.HasPrefix(s.ref, "cmd:") }

// commandName is a command's first word, with " …" when more follows.
func commandName(command string) string {
	f := strings.Fields(command)
	if len(f) == 0 {
		return ""
	}
	name := f[0]
	if i := strings.IndexAny(name, shellChars+"="); i >= 0 {
		name = name[:i] // never more than the word: not "TOKEN=abc" nor "get;echo"
	}
	if len(f) > 1 || name != f[0] {
		name += " …"
	}
	return name
}

// IsZero reports whether no reference was given.
func (s Secret) IsZero() bool { return s.ref == "" }

// Where names the place a user fixes the secret, for hints: "the environment
// variable DISCOURSE_API_KEY", "the file ~/.x", "the output of `pass show x`".
func (s Secret) Where() string {
	kind, rest, _ := strings.Cut(s.ref, ":")
	switch kind {
	case "env":
		return "the environment variable " + rest
	case "file":
		return "the file " + rest
	case "cmd":
		return "the output of `" + commandName(rest) + "`"
	}
	return "the config"
}

// Resolver turns secret references into values, lazily, once each. It
// remembers every value it handed out so that Redact can remove them from
// anything about to be shown or recorded.
type Resolver struct {
	Getenv  func(string) string // os.Getenv when nil
	Dir     string              // relative file: paths are relative to it
	Timeout time.Duration       // for cmd:, 10s when zero
	// Allow, when set, is asked before a cmd: secret runs; its error stops
	// it (the runbook allows only the commands the user trusted).
	Allow func(Secret) error

	mu     sync.Mutex
	values map[string]string
}

// Resolve returns the secret's value.
func (r *Resolver) Resolve(ctx context.Context, s Secret) (string, error) {
	if s.IsZero() {
		return "", errors.New("no secret configured")
	}
	r.mu.Lock()
	if v, ok := r.values[s.ref]; ok {
		r.mu.Unlock()
		return v, nil
	}
	r.mu.Unlock()
	v, err := r.resolve(ctx, s)
	if err != nil {
		return "", err
	}
	if len(v) < MinSecret {
		return "", fmt.Errorf("secret %s: the value from %s is %d characters; a value this short cannot be kept out of output and records safely, and no real credential is that short: check it", s, s.Where(), len(v))
	}
	r.mu.Lock()
	if r.values == nil {
		r.values = map[string]string{}
	}
	r.values[s.ref] = v
	r.mu.Unlock()
	return v, nil
}

func (r *Resolver) resolve(ctx context.Context, s Secret) (string, error) {
	kind, rest, _ := strings.Cut(s.ref, ":")
	switch kind {
	case "env":
		getenv := r.Getenv
		if getenv == nil {
			getenv = os.Getenv
		}
		v := getenv(rest)
		if v == "" {
			return "", fmt.Errorf("secret %s: the environment variable %s is not set; export it or change the reference", s, rest)
		}
		return v, nil
	case "file":
		p := expandHome(rest)
		if !filepath.IsAbs(p) && r.Dir != "" {
			p = filepath.Join(r.Dir, p)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return "", fmt.Errorf("secret %s: cannot read the file: %v", s, errors.Unwrap(err))
		}
		v := strings.TrimSpace(string(b))
		if v == "" {
			return "", fmt.Errorf("secret %s: the file is empty", s)
		}
		return v, nil
	case "cmd":
		if r.Allow != nil {
			if err := r.Allow(s); err != nil {
				return "", err
			}
		}
		return r.runCommand(ctx, s.String(), rest)
	}
	return "", ErrLiteralSecret
}

// shellChars are the characters that ask for a shell: a cmd: reference holding
// any of them runs under sh -c, otherwise the command runs directly.
const shellChars = "|&;<>()$`\\\"'*?[]{}~#\n"

func (r *Resolver) runCommand(ctx context.Context, ref, command string) (string, error) {
	timeout := r.Timeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var cmd *exec.Cmd
	if strings.ContainsAny(command, shellChars) {
		cmd = exec.CommandContext(ctx, "sh", "-c", command)
	} else {
		f := strings.Fields(command)
		cmd = exec.CommandContext(ctx, f[0], f[1:]...)
	}
	if r.Dir != "" {
		cmd.Dir = r.Dir
	}
	Confine(cmd) // a timeout ends the command and everything it started
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() == context.DeadlineExceeded {
			return "", fmt.Errorf("secret %s: the command did not finish within %s", ref, timeout)
		}
		// The command's stderr is not shown: it could echo the secret.
		return "", fmt.Errorf("secret %s: the command failed (%v); run it by hand to see why", ref, err)
	}
	v := strings.TrimSpace(out.String())
	if v == "" {
		return "", fmt.Errorf("secret %s: the command printed nothing", ref)
	}
	return v, nil
}

// Redact replaces every secret value this resolver handed out with
// "[redacted]". A secret's beginning standing right before a "…" (text that
// was cut there before it came here) is removed too.
func (r *Resolver) Redact(s string) string {
	if r == nil {
		return s
	}
	vs := r.valueList()
	return redactAtCuts(redactAll(s, vs), vs)
}

// Clip is the package's Clip with every secret value this resolver handed
// out, and extra: redact, cut to n bytes, and leave no secret's beginning at
// the cut.
func (r *Resolver) Clip(s string, n int, extra ...string) string {
	vs := extra
	if r != nil {
		vs = append(r.valueList(), extra...)
	}
	return Clip(redactAtCuts(redactAll(s, vs), vs), n, vs...)
}

func (r *Resolver) valueList() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	vs := make([]string, 0, len(r.values))
	for _, v := range r.values {
		vs = append(vs, v)
	}
	return vs
}

func expandHome(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, p[1:])
		}
	}
	return p
}
