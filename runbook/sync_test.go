package runbook

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/incident-cli/incident/alerts"
)

// laptop is one responder's clone of a runbook shared through git.
type laptop struct {
	rb  *Runbook
	dir string
}

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// sharedRunbook makes a bare repository and two clones of a runbook with
// [sync] git = true, each used by its own responder on its own machine, both
// posting to the same forum.
func sharedRunbook(t *testing.T, forum *fakeChannel) (remote string, a, b *laptop) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	t.Setenv("GIT_CONFIG_GLOBAL", filepath.Join(t.TempDir(), "gitconfig"))
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	for _, k := range []string{"GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME"} {
		t.Setenv(k, "Responder")
	}
	for _, k := range []string{"GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL"} {
		t.Setenv(k, "ops@example.com")
	}
	root := t.TempDir()
	remote = filepath.Join(root, "remote.git")
	git(t, root, "init", "--quiet", "--bare", "--initial-branch=main", remote)
	dirA := filepath.Join(root, "alice")
	if _, err := InitWith(dirA, false, true); err != nil {
		t.Fatal(err)
	}
	git(t, dirA, "branch", "-M", "main")
	git(t, dirA, "remote", "add", "origin", remote)
	git(t, dirA, "push", "--quiet", "-u", "origin", "main")
	dirB := filepath.Join(root, "bob")
	git(t, root, "clone", "--quiet", remote, dirB)
	mk := func(dir, who string) *laptop {
		rb, err := Open(Location{Dir: dir}, Options{Getenv: func(string) string { return "" }, StateDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		rb.Responder, rb.Host = who, who+"-laptop"
		rb.Links = append(rb.Links, &Channel{Name: "forum", Type: "fake", Template: "social.txt.tmpl", Pub: forum})
		rb.RetryPolicy = RetryPolicy{Attempts: 1, Base: time.Millisecond, Max: time.Millisecond, Timeout: time.Second, Budget: time.Second}
		return &laptop{rb: rb, dir: dir}
	}
	return remote, mk(dirA, "alice"), mk(dirB, "bob")
}

// run does what a command does: pull, act, commit and push.
func (l *laptop) run(t *testing.T, act func(rb *Runbook) error) {
	t.Helper()
	ctx := context.Background()
	if err := l.rb.SyncBefore(ctx); err != nil {
		t.Fatal(err)
	}
	if err := act(l.rb); err != nil {
		t.Fatal(err)
	}
	if err := l.rb.SyncAfter(ctx, l.rb.CommitMessage()); err != nil {
		t.Fatal(err)
	}
}

func updateBy(id, msg string) func(*Runbook) error {
	return func(rb *Runbook) error {
		_, err := rb.Publish(context.Background(), id, Draft{Via: "update", Status: Identified, Message: msg}, PublishOptions{})
		return err
	}
}

func TestTwoLaptops(t *testing.T) {
	forum := &fakeChannel{}
	remote, alice, bob := sharedRunbook(t, forum)
	var id string
	alice.run(t, func(rb *Runbook) error {
		res, err := rb.Publish(context.Background(), "", Draft{Via: "open", Title: "IMAP/POP login failures", Status: Investigating, Message: "Investigating."}, PublishOptions{})
		if err == nil {
			id = res.Incident.ID
		}
		return err
	})
	if msg := git(t, alice.dir, "log", "-1", "--format=%s"); !strings.Contains(msg, "update #1 (investigating) on "+id) {
		t.Errorf("commit message = %q", msg)
	}
	// Bob, on his laptop, updates the incident Alice opened.
	bob.run(t, updateBy(id, "Bob: found it."))
	// Both update at once, neither having pulled the other's update.
	var wg sync.WaitGroup
	for _, l := range []*laptop{alice, bob} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := l.rb.Publish(context.Background(), id, Draft{Via: "update", Status: Identified, Message: "from " + l.rb.Responder}, PublishOptions{}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	for _, l := range []*laptop{alice, bob} {
		if err := l.rb.SyncAfter(context.Background(), l.rb.CommitMessage()); err != nil || l.rb.Sync.Pending != nil {
			t.Fatalf("%s: push: %v %v", l.rb.Responder, err, l.rb.Sync.Pending)
		}
	}
	alice.run(t, func(*Runbook) error { return nil })
	// Bob goes offline (the remote cannot be reached) and updates anyway.
	os.Rename(remote, remote+".away")
	bob.run(t, updateBy(id, "Bob, offline: still on it."))
	if bob.rb.Sync.Pending == nil {
		t.Fatal("an unreachable remote did not leave sync pending")
	}
	if n := forum.count(); n != 5 {
		t.Fatalf("offline update not published: forum has %d posts", n)
	}
	// Back online: the next command pushes.
	os.Rename(remote+".away", remote)
	bob.run(t, func(*Runbook) error { return nil })
	if bob.rb.Sync.Pending != nil {
		t.Fatalf("still pending: %v", bob.rb.Sync.Pending)
	}
	alice.run(t, func(*Runbook) error { return nil })

	for _, l := range []*laptop{alice, bob} {
		inc, err := l.rb.Store.Load(id)
		if err != nil {
			t.Fatal(err)
		}
		var msgs []string
		for _, u := range inc.PublicUpdates() {
			msgs = append(msgs, u.Event.Message)
		}
		if len(msgs) != 5 || inc.Undelivered() != 0 {
			t.Errorf("%s sees %d updates %q, %d undelivered", l.rb.Responder, len(msgs), msgs, inc.Undelivered())
		}
		for i, u := range inc.PublicUpdates() {
			if u.Number != i+1 {
				t.Errorf("%s: update %d numbered %d", l.rb.Responder, i, u.Number)
			}
		}
	}
	if forum.count() != 5 {
		t.Errorf("forum posts = %d, want 5", forum.count())
	}
	if out := git(t, alice.dir, "status", "--porcelain", "--", "incidents"); out != "" {
		t.Errorf("alice's clone is not clean:\n%s", out)
	}
}

// openWithFailedPost opens an incident on l whose post to forum fails once,
// leaving a failed delivery for retry.
func openWithFailedPost(t *testing.T, l *laptop, forum *fakeChannel) string {
	t.Helper()
	var id string
	forum.answers = []error{os.ErrDeadlineExceeded}
	l.run(t, func(rb *Runbook) error {
		res, err := rb.Publish(context.Background(), "", Draft{Via: "open", Title: "IMAP", Status: Investigating, Message: "Investigating."}, PublishOptions{})
		if err == nil {
			id = res.Incident.ID
		}
		return err
	})
	return id
}

// TestRetryRace: a delivery failed; both laptops run retry at once. Only
// one of them calls the forum.
func TestRetryRace(t *testing.T) {
	forum := &fakeChannel{}
	_, alice, bob := sharedRunbook(t, forum)
	id := openWithFailedPost(t, alice, forum)
	bob.run(t, func(*Runbook) error { return nil })
	callsBefore := forum.calls
	var wg sync.WaitGroup
	for _, l := range []*laptop{alice, bob} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := l.rb.Retry(context.Background(), id, PublishOptions{}); err != nil {
				t.Error(err)
			}
			l.rb.SyncAfter(context.Background(), l.rb.CommitMessage())
		}()
	}
	wg.Wait()
	if got := forum.calls - callsBefore; got != 1 || forum.count() != 1 {
		t.Fatalf("the forum was called %d times (posts %d); want exactly once", got, forum.count())
	}
	alice.run(t, func(*Runbook) error { return nil })
	inc, _ := alice.rb.Store.Load(id)
	if inc.Undelivered() != 0 {
		t.Errorf("undelivered after the race: %d", inc.Undelivered())
	}
}

// TestClaims: a machine that claimed a delivery is left to finish it; a
// claim first seen ClaimTTL ago belongs to a run that died and is taken
// over.
func TestClaims(t *testing.T) {
	forum := &fakeChannel{}
	_, alice, bob := sharedRunbook(t, forum)
	id := openWithFailedPost(t, alice, forum)
	inc, _ := alice.rb.Store.Load(id)
	// Alice's retry claims the delivery (and is, say, killed before posting).
	if _, err := alice.rb.coordinate(context.Background(), id, []string{deliveryKey(inc.Updates[0].Event.ID, "forum")}, "test"); err != nil {
		t.Fatal(err)
	}
	bob.rb.SyncBefore(context.Background())
	res, err := bob.rb.Retry(context.Background(), id, PublishOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Channels) != 1 || !res.Channels[0].Skipped || !strings.Contains(res.Channels[0].Error, "left to alice@alice-laptop") {
		t.Fatalf("bob did not leave the claimed delivery to alice: %+v", res.Channels)
	}
	if forum.count() != 0 {
		t.Fatalf("forum posts = %d", forum.count())
	}
	// ClaimTTL after Bob first saw it, the claim is stale: Bob takes the
	// delivery over.
	later := time.Now().Add(ClaimTTL + time.Minute)
	bob.rb.now = func() time.Time { return later }
	res, err = bob.rb.Retry(context.Background(), id, PublishOptions{})
	if err != nil || res.Failed() != 0 || forum.count() != 1 {
		t.Fatalf("takeover: %v %+v, forum posts %d", err, res.Channels, forum.count())
	}
}

// TestClaimsUnderClockSkew: Bob's clock is 4 minutes ahead. Alice's claim,
// seconds old, must not look stale to him.
func TestClaimsUnderClockSkew(t *testing.T) {
	forum := &fakeChannel{}
	_, alice, bob := sharedRunbook(t, forum)
	id := openWithFailedPost(t, alice, forum)
	inc, _ := alice.rb.Store.Load(id)
	if _, err := alice.rb.coordinate(context.Background(), id, []string{deliveryKey(inc.Updates[0].Event.ID, "forum")}, "test"); err != nil {
		t.Fatal(err)
	}
	ahead := time.Now().Add(4 * time.Minute)
	bob.rb.now = func() time.Time { return ahead }
	bob.rb.SyncBefore(context.Background())
	res, err := bob.rb.Retry(context.Background(), id, PublishOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if forum.count() != 0 || len(res.Channels) != 1 || !res.Channels[0].Skipped {
		t.Fatalf("bob took a fresh claim for a stale one: %+v, forum posts %d", res.Channels, forum.count())
	}
}

// TestSlowPushLosesTheRace: Bob claims first but his push is slow; Alice
// claims later, pushes first and posts. Bob's push is rejected and rebased
// behind Alice's: the shared history says Alice came first, so Bob must not
// post, whatever the claims' times say.
func TestSlowPushLosesTheRace(t *testing.T) {
	forum := &fakeChannel{}
	remote, alice, bob := sharedRunbook(t, forum)
	id := openWithFailedPost(t, alice, forum)
	bob.run(t, func(*Runbook) error { return nil })
	// The remote holds a push that adds a claim of Bob's until released.
	dir := t.TempDir()
	waiting, release := filepath.Join(dir, "waiting"), filepath.Join(dir, "release")
	hook := `#!/bin/sh
while read old new ref; do
  for f in $(git diff --name-only "$old" "$new" -- incidents | grep -- -claim-); do
    if git show "$new:$f" | grep -q 'bob-laptop'; then
      touch '` + waiting + `'
      while [ ! -e '` + release + `' ]; do sleep 0.02; done
    fi
  done
done
exit 0
`
	if err := os.WriteFile(filepath.Join(remote, "hooks", "pre-receive"), []byte(hook), 0o755); err != nil {
		t.Fatal(err)
	}
	bobDone := make(chan error, 1)
	go func() {
		_, err := bob.rb.Retry(context.Background(), id, PublishOptions{})
		bobDone <- err
	}()
	for {
		if _, err := os.Stat(waiting); err == nil {
			break
		}
		select {
		case err := <-bobDone:
			t.Fatalf("bob's retry ended before its push reached the remote: %v", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
	if _, err := alice.rb.Retry(context.Background(), id, PublishOptions{}); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(release, nil, 0o644)
	if err := <-bobDone; err != nil {
		t.Fatal(err)
	}
	if got := forum.count(); got != 1 || forum.calls != 2 { // the failed open, then one retry
		t.Fatalf("the forum has %d posts after %d calls; want exactly one post", got, forum.calls)
	}
}

// TestRetryRefusesWithoutCoordination: with the remote out of reach, or no
// upstream, retry does nothing rather than claim alone; --alone does it.
func TestRetryRefusesWithoutCoordination(t *testing.T) {
	forum := &fakeChannel{}
	remote, alice, _ := sharedRunbook(t, forum)
	id := openWithFailedPost(t, alice, forum)
	os.Rename(remote, remote+".away")
	_, err := alice.rb.Retry(context.Background(), id, PublishOptions{})
	if !errors.Is(err, ErrUncoordinated) || forum.count() != 0 {
		t.Fatalf("retry offline: %v, forum posts %d", err, forum.count())
	}
	if _, err := alice.rb.Retry(context.Background(), id, PublishOptions{Alone: true}); err != nil || forum.count() != 1 {
		t.Fatalf("retry --alone: %v, forum posts %d", err, forum.count())
	}
	os.Rename(remote+".away", remote)
	git(t, alice.dir, "branch", "--unset-upstream")
	alice.rb.Sync.Pending = nil
	if err := alice.rb.SyncAfter(context.Background(), "x"); err != nil || !errors.Is(alice.rb.Sync.Pending, ErrNoUpstream) {
		t.Fatalf("no upstream: %v, pending %v", err, alice.rb.Sync.Pending)
	}
}

func TestConflictStopsAndLosesNothing(t *testing.T) {
	_, alice, bob := sharedRunbook(t, &fakeChannel{})
	tmpl := filepath.Join("templates", "social.txt.tmpl")
	os.WriteFile(filepath.Join(alice.dir, tmpl), []byte("alice {{ .URL }}\n"), 0o644)
	git(t, alice.dir, "commit", "-qam", "alice's template")
	git(t, alice.dir, "push", "-q")
	os.WriteFile(filepath.Join(bob.dir, tmpl), []byte("bob {{ .URL }}\n"), 0o644)
	git(t, bob.dir, "commit", "-qam", "bob's template")
	err := bob.rb.SyncBefore(context.Background())
	if err == nil || !strings.Contains(err.Error(), "conflict") || !strings.Contains(err.Error(), "incident sync") {
		t.Fatalf("err = %v", err)
	}
	// The repository is left as git left it: mid-rebase, for a person.
	if out := git(t, bob.dir, "status"); !strings.Contains(out, "rebase") {
		t.Errorf("git status:\n%s", out)
	}
}

// TestTwoDaemons: two daemons on two hosts share the runbook through git and
// both receive the same alert. They make one incident (its id comes from
// the alert), and at publish_after exactly one of them publishes the
// automatic update.
func TestTwoDaemons(t *testing.T) {
	forum := &fakeChannel{}
	_, alice, bob := sharedRunbook(t, forum)
	a := alerts.Alert{Source: "alertmanager", Key: "92716253bb78e41d", Firing: true, Name: "IMAPDown", Summary: "IMAP is down"}
	var ids []string
	for _, l := range []*laptop{alice, bob} {
		in, err := l.rb.TakeAlerts(context.Background(), []alerts.Alert{a})
		if err != nil || len(in) != 1 || in[0].What != "opened" {
			t.Fatalf("%s: %+v %v", l.rb.Host, in, err)
		}
		ids = append(ids, in[0].Incident)
	}
	if ids[0] != ids[1] {
		t.Fatalf("two incidents for one alert: %v", ids)
	}
	for _, l := range []*laptop{alice, bob, alice} {
		l.run(t, func(*Runbook) error { return nil })
	}
	inc, err := bob.rb.Store.Load(ids[0])
	if err != nil || len(inc.Alerts) != 1 || inc.Status != Triggered {
		t.Fatalf("merged incident: %v %+v", err, inc)
	}
	later := time.Now().Add(11 * time.Minute)
	var wg sync.WaitGroup
	for _, l := range []*laptop{alice, bob} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			done, err := l.rb.Tick(context.Background(), later, PublishOptions{})
			if err != nil {
				t.Error(err)
			}
			for _, d := range done {
				if d.Error != "" {
					t.Errorf("%s: %s", l.rb.Host, d.Error)
				}
			}
			l.rb.SyncAfter(context.Background(), "tick")
		}()
	}
	wg.Wait()
	if forum.count() != 1 || forum.calls != 1 {
		t.Fatalf("the forum got %d automatic posts in %d calls; want exactly one", forum.count(), forum.calls)
	}
	alice.run(t, func(*Runbook) error { return nil })
	inc, _ = alice.rb.Store.Load(ids[0])
	if n := len(inc.PublicUpdates()); n != 1 || inc.Status != Investigating {
		t.Fatalf("%d public updates, status %s", n, inc.Status)
	}
}

// TestSyncCutsHangingSSH: an ssh that never answers (GIT_SSH_COMMAND
// hanging) is cut at the sync timeout, with what it started: the pull is
// pending and the command goes on at once.
func TestSyncCutsHangingSSH(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	t.Setenv("GIT_CONFIG_GLOBAL", filepath.Join(t.TempDir(), "gitconfig"))
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	dir := t.TempDir()
	git(t, dir, "init", "--quiet", "--initial-branch=main")
	git(t, dir, "-c", "user.name=ops", "-c", "user.email=ops@example.com", "commit", "--quiet", "--allow-empty", "-m", "init")
	git(t, dir, "remote", "add", "origin", "ssh://git@git.example.invalid/ops/runbook.git")
	git(t, dir, "config", "branch.main.remote", "origin")
	git(t, dir, "config", "branch.main.merge", "refs/heads/main")
	git(t, dir, "update-ref", "refs/remotes/origin/main", "HEAD")
	t.Setenv("GIT_SSH_COMMAND", "sleep 60 #")
	s := &Sync{Dir: dir, Timeout: 300 * time.Millisecond}
	start := time.Now()
	if err := s.Pull(context.Background()); err != nil {
		t.Fatalf("Pull: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Pull returned after %s: the hanging ssh kept it waiting", d)
	}
	if s.Pending == nil || !strings.Contains(s.Pending.Error(), "no answer within 300ms") {
		t.Errorf("Pending = %v, want the timeout", s.Pending)
	}
}

// TestAutoPostWithoutTheRemote: the shared runbook's remote is out of
// reach (it may sit on what is down). The automatic first update waits
// AloneAfter for it, then goes out from this machine alone, and says so.
func TestAutoPostWithoutTheRemote(t *testing.T) {
	forum := &fakeChannel{}
	remote, alice, _ := sharedRunbook(t, forum)
	a := alerts.Alert{Source: "alertmanager", Key: "92716253bb78e41d", Firing: true, Name: "IMAPDown", Summary: "IMAP is down"}
	if _, err := alice.rb.TakeAlerts(context.Background(), []alerts.Alert{a}); err != nil {
		t.Fatal(err)
	}
	alice.run(t, func(*Runbook) error { return nil })
	os.Rename(remote, remote+".away")
	due := time.Now().Add(10 * time.Minute)
	done, err := alice.rb.Tick(context.Background(), due.Add(time.Minute), PublishOptions{})
	if err != nil || len(done) != 1 || !strings.Contains(done[0].Error, "could not coordinate") || forum.count() != 0 {
		t.Fatalf("at due, remote away: %+v %v, forum %d", done, err, forum.count())
	}
	done, err = alice.rb.Tick(context.Background(), due.Add(AloneAfter+time.Minute), PublishOptions{})
	if err != nil || len(done) != 1 || done[0].Error != "" || !strings.Contains(done[0].Note, "without coordinating") || forum.count() != 1 {
		t.Fatalf("AloneAfter later: %+v %v, forum %d", done, err, forum.count())
	}
}
