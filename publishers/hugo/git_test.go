package hugo

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/incident-cli/incident/publishers"
	"github.com/incident-cli/incident/publishers/publisherstest"
)

// gitSite makes a bare "remote" repository and clones it as the site.
func gitSite(t *testing.T) (c *channel, site, remote string) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	c, site = newChannel(t, "git_push = true")
	remote = filepath.Join(t.TempDir(), "remote.git")
	gitCmd(t, "", "init", "--quiet", "--bare", remote)
	if err := os.RemoveAll(site); err != nil {
		t.Fatal(err)
	}
	gitCmd(t, "", "clone", "--quiet", remote, site)
	gitCmd(t, site, "config", "user.name", "Status Bot")
	gitCmd(t, site, "config", "user.email", "status@example.com")
	gitCmd(t, site, "config", "commit.gpgsign", "false")
	return c, site, remote
}

func gitCmd(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func TestGitPush(t *testing.T) {
	c, site, remote := gitSite(t)
	ctx := context.Background()
	// Something else staged in the site must not ride along.
	if err := os.WriteFile(filepath.Join(site, "hugo.toml"), []byte("title = 'x'\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	gitCmd(t, site, "add", "hugo.toml")

	r1, err := c.Publish(ctx, publisherstest.Post(1, "Investigating."))
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	log := gitCmd(t, remote, "log", "--format=%s", "--name-only")
	if log != "incident: "+incidentID+": investigating (update 1)\n\n"+r1.ID {
		t.Fatalf("remote log:\n%s", log)
	}

	// The same update again: nothing new to commit, nothing pushed twice.
	if _, err := c.Publish(ctx, publisherstest.Post(1, "Investigating.")); err != nil {
		t.Fatalf("republish: %v", err)
	}
	p := publisherstest.Post(2, "Identified.")
	p.Thread = &r1
	if _, err := c.Publish(ctx, p); err != nil {
		t.Fatalf("update: %v", err)
	}
	if n := gitCmd(t, remote, "rev-list", "--count", "HEAD"); n != "2" {
		t.Fatalf("remote has %s commits, want 2", n)
	}
	if got := gitCmd(t, remote, "show", "HEAD:"+r1.ID); !strings.Contains(got, "Identified.") {
		t.Fatalf("pushed page:\n%s", got)
	}
	if who, err := c.Verify(ctx); err != nil || !strings.Contains(who, "git remote reachable") {
		t.Fatalf("Verify = %q, %v", who, err)
	}
}

func TestGitPushFailureIsRetryable(t *testing.T) {
	c, site, remote := gitSite(t)
	ctx := context.Background()
	gitCmd(t, site, "remote", "set-url", "origin", "https://bot:s3cr3t-token@127.0.0.1:1/site.git")

	_, err := c.Publish(ctx, publisherstest.Post(1, "Investigating."))
	if err == nil || !publishers.Retryable(err) || !strings.HasPrefix(err.Error(), "git push in ") {
		t.Fatalf("push to an unreachable remote: %v", err)
	}
	t.Logf("push error: %v", err)
	publisherstest.AssertNoSecret(t, err.Error(), "s3cr3t-token")
	if _, statErr := os.Stat(filepath.Join(site, "content", "issues", incidentID+".md")); statErr != nil {
		t.Fatalf("the page was not left written: %v", statErr)
	}

	// The remote is back: the retry commits nothing new and pushes.
	gitCmd(t, site, "remote", "set-url", "origin", remote)
	if _, err := c.Publish(ctx, publisherstest.Post(1, "Investigating.")); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if n := gitCmd(t, remote, "rev-list", "--count", "HEAD"); n != "1" {
		t.Fatalf("remote has %s commits, want 1", n)
	}
}

func TestGitTimeoutAndMisconfiguration(t *testing.T) {
	c, site, _ := gitSite(t)
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	if _, err := c.Publish(ctx, publisherstest.Post(1, "x")); err == nil || !publishers.Retryable(err) {
		t.Fatalf("expired context: err = %v, want a retryable error", err)
	} else {
		t.Logf("expired context: %v", err)
	}

	t.Setenv("GIT_CEILING_DIRECTORIES", filepath.Dir(site)) // never find a repository above the test's
	if err := os.RemoveAll(filepath.Join(site, ".git")); err != nil {
		t.Fatal(err)
	}
	_, err := c.Publish(context.Background(), publisherstest.Post(1, "x"))
	if err == nil || publishers.Retryable(err) || !strings.HasPrefix(err.Error(), "git add in ") {
		t.Fatalf("not a repository: err = %v, want a permanent git add error", err)
	}
	t.Logf("not a repository: %v", err)
}

func TestGitPushTimeout(t *testing.T) {
	c, site, _ := gitSite(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() { // a remote that accepts and never answers
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			defer conn.Close()
		}
	}()
	gitCmd(t, site, "remote", "set-url", "origin", "http://"+ln.Addr().String()+"/site.git")
	c.git.remote = 150 * time.Millisecond
	_, err = c.Publish(context.Background(), publisherstest.Post(1, "x"))
	if err == nil || !publishers.Retryable(err) || !strings.HasSuffix(err.Error(), "did not finish within 150ms") || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("hanging remote: %v", err)
	}
}
