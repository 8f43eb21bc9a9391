package runbook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/incident-cli/incident/publishers"
)

// SyncConfig is the [sync] table: share the runbook through git.
type SyncConfig struct {
	Git     bool     `toml:"git"`     // pull before reading, commit and push after writing
	Timeout Duration `toml:"timeout"` // per git call (default 20s)
	Pushes  int      `toml:"pushes"`  // attempts at a rejected push, each after a rebase (default 3)
}

// syncKeys are the keys of [sync].
var syncKeys = []string{"git", "timeout", "pushes"}

// ErrSyncConflict is returned when git stopped on a conflict: the repository
// is left as git left it, for a person to resolve.
var ErrSyncConflict = errors.New("git stopped on a conflict")

// ErrNoUpstream is what sync is pending on when the branch tracks no remote
// branch: nothing is shared with anyone.
var ErrNoUpstream = errors.New("the runbook's branch has no upstream, so nothing is shared: push it once with `git push -u origin HEAD`")

// Sync runs the user's own git in the runbook, so their SSH keys, credential
// helpers and config apply. Every call has a timeout and never prompts.
type Sync struct {
	Dir     string
	Timeout time.Duration
	Pushes  int
	// Pending is set when something could not be pushed (or pulled): the
	// command says so in one line, and the next command pushes.
	Pending error
}

func (s *Sync) git(ctx context.Context, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = s.Dir
	// Never a prompt (GIT_TERMINAL_PROMPT=0, ssh in batch mode unless the
	// user chose their own ssh); the timeout ends git and what it started.
	cmd.Env = append(publishers.GitEnv(ctx, s.Dir), "GIT_MERGE_AUTOEDIT=no", "LC_ALL=C")
	publishers.Confine(cmd)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	text := strings.TrimSpace(out.String())
	if ctx.Err() == context.DeadlineExceeded {
		return text, fmt.Errorf("git %s: no answer within %s", args[0], s.Timeout)
	}
	if err != nil {
		return text, fmt.Errorf("git %s: %v: %s", args[0], err, lastLine(text))
	}
	return text, nil
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// hasUpstream reports whether the current branch tracks a remote branch.
func (s *Sync) hasUpstream(ctx context.Context) bool {
	_, err := s.git(ctx, "rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{u}")
	return err == nil
}

// Pull fetches and rebases local commits onto the remote (autostash). A
// network failure is not an error: it is noted in Pending and the command
// goes on. A conflict stops: ErrSyncConflict, the repository as git left it.
func (s *Sync) Pull(ctx context.Context) error {
	if !s.hasUpstream(ctx) {
		return nil
	}
	out, err := s.git(ctx, "pull", "--rebase", "--autostash", "--quiet")
	if err == nil {
		return nil
	}
	if s.inConflict(ctx) || strings.Contains(out, "CONFLICT") {
		return fmt.Errorf("%w while pulling the runbook: %s; nothing was lost: resolve it (`git status` in %s), then run `incident sync`", ErrSyncConflict, lastLine(out), s.Dir)
	}
	s.Pending = err
	return nil
}

func (s *Sync) inConflict(ctx context.Context) bool {
	out, _ := s.git(ctx, "status", "--porcelain")
	for _, l := range strings.Split(out, "\n") {
		if len(l) >= 2 && (l[:2] == "UU" || l[:2] == "AA" || l[:2] == "DU" || l[:2] == "UD") {
			return true
		}
	}
	for _, d := range []string{"rebase-merge", "rebase-apply"} {
		if p, err := s.git(ctx, "rev-parse", "--git-path", d); err == nil {
			if _, err := os.Stat(s.Dir + "/" + p); err == nil {
				return true
			}
			if _, err := os.Stat(p); err == nil {
				return true
			}
		}
	}
	return false
}

// Commit commits the incident records (only incidents/, never locks or temp
// files, never other changes the user has in progress).
func (s *Sync) Commit(ctx context.Context, message string) error {
	// Dotfiles are machine-local: locks, temp files, folders being made.
	paths := []string{"--", "incidents", ":(exclude)incidents/.*", ":(exclude)incidents/*/.*"}
	if _, err := s.git(ctx, append([]string{"add", "--all"}, paths...)...); err != nil {
		return err
	}
	if out, _ := s.git(ctx, "diff", "--cached", "--name-only", "--", "incidents"); out == "" {
		return nil
	}
	_, err := s.git(ctx, "commit", "--quiet", "--no-verify", "-m", message, "--", "incidents")
	return err
}

// Push pushes, rebasing onto the remote and trying again when the push is
// rejected because another responder pushed first. Event files never
// conflict: each is a new file. What could not be pushed (no upstream, the
// remote out of reach, every try rejected) is left in Pending.
func (s *Sync) Push(ctx context.Context) error {
	if !s.hasUpstream(ctx) {
		s.Pending = ErrNoUpstream
		return nil
	}
	var err error
	tries := max(s.Pushes, 1)
	for range tries {
		if _, err = s.git(ctx, "push", "--quiet"); err == nil {
			s.Pending = nil
			return nil
		}
		if perr := s.Pull(ctx); perr != nil {
			return perr
		}
		if s.Pending != nil { // the remote cannot be reached: no point trying again now
			return nil
		}
	}
	s.Pending = fmt.Errorf("the push was rejected %d times (%v)", tries, err)
	return nil
}

// History returns, for every event file added under path (an incident's
// folder) in the remote branch's history, its position: the order of the
// commits that added them, oldest first, on the first-parent line. Pushes
// that were rejected are rebased behind the one that landed, so the
// position says who pushed first. Keys are event ids (file names without
// .toml).
func (s *Sync) History(ctx context.Context, path string) (map[string]int, error) {
	out, err := s.git(ctx, "log", "--first-parent", "--reverse", "--diff-filter=A", "--name-only", "--format=%x00", "@{u}", "--", path)
	if err != nil {
		return nil, err
	}
	pos := map[string]int{}
	for i, commit := range strings.Split(out, "\x00") {
		for _, name := range strings.Split(commit, "\n") {
			name = strings.TrimSpace(name)
			if base := filepath.Base(name); strings.HasSuffix(base, ".toml") {
				if _, dup := pos[strings.TrimSuffix(base, ".toml")]; !dup {
					pos[strings.TrimSuffix(base, ".toml")] = i
				}
			}
		}
	}
	return pos, nil
}

// Ahead counts local commits not on the remote.
func (s *Sync) Ahead(ctx context.Context) int {
	out, err := s.git(ctx, "rev-list", "--count", "@{u}..HEAD")
	if err != nil {
		return 0
	}
	var n int
	fmt.Sscan(out, &n)
	return n
}

// SyncBefore pulls, when the runbook is shared through git.
func (r *Runbook) SyncBefore(ctx context.Context) error {
	if r.Sync == nil {
		return nil
	}
	return r.Sync.Pull(ctx)
}

// SyncAfter commits the records written and pushes them. It never fails the
// command for a network problem: Pending says that sync is pending.
func (r *Runbook) SyncAfter(ctx context.Context, message string) error {
	if r.Sync == nil {
		return nil
	}
	// A cancelled command (Ctrl-C) still records its events in git.
	ctx = context.WithoutCancel(ctx)
	if err := r.Sync.Commit(ctx, message); err != nil {
		r.Sync.Pending = err
		return nil
	}
	return r.Sync.Push(ctx)
}

// CommitMessage describes what this process wrote, for the git commit:
// its last update ("incident: update #3 (identified) on ID"), else its last
// event ("incident: note on ID").
func (r *Runbook) CommitMessage() string {
	written := r.Store.Written()
	if len(written) == 0 {
		return "incident: records"
	}
	last := written[len(written)-1]
	ids := map[string]bool{}
	for _, w := range written {
		ids[w.Incident] = true
		if w.Kind == KindUpdate || w.Kind == KindOpened {
			last = w
		}
	}
	what := string(last.Kind)
	if inc, err := r.Store.Load(last.Incident); err == nil && (last.Kind == KindUpdate || last.Kind == KindOpened) {
		for _, u := range inc.Updates {
			switch {
			case u.Event.ID != last.ID:
			case u.RFO:
				what = "RFO"
			default:
				what = fmt.Sprintf("update #%d (%s)", u.Number, u.Event.Status)
			}
		}
	}
	if len(ids) > 1 {
		return fmt.Sprintf("incident: %s on %s and %d more", what, last.Incident, len(ids)-1)
	}
	return fmt.Sprintf("incident: %s on %s", what, last.Incident)
}
