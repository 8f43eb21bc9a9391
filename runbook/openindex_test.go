package runbook

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestOpenIndex: status reads only the open index while it holds, and
// falls back to every incident's summary (rewriting the index) when an
// incident was added, an open one got an event, this machine wrote an event
// (a resolved incident reopened), or git brought event files in.
func TestOpenIndex(t *testing.T) {
	rb := testRunbook(t, nil)
	old := time.Now().Add(-time.Hour)
	age := func(p string) {
		t.Helper()
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
		old = old.Add(time.Second) // every change is a new time
	}
	resolved := open(t, rb).Incident.ID
	if err := rb.Store.Append(resolved, &Event{Kind: KindUpdate, Status: Resolved, Message: "Fixed."}); err != nil {
		t.Fatal(err)
	}
	rb.now = func() time.Time { return time.Now().Add(time.Minute) } // another day's incident gets another id
	openID := open(t, rb).Incident.ID
	age(filepath.Join(rb.Store.Dir, resolved))
	age(filepath.Join(rb.Store.Dir, openID))
	age(rb.Store.Dir)
	summaries := filepath.Join(rb.StateDir, "summaries.json")
	// served tells whether OpenSummaries answered from the index alone:
	// the fallback (Summaries) writes summaries.json again.
	served := func(wantOpen ...string) bool {
		t.Helper()
		os.Remove(summaries)
		sums, err := rb.OpenSummaries()
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, s := range sums {
			got = append(got, s.ID)
		}
		if len(got) != len(wantOpen) || (len(got) > 0 && got[0] != wantOpen[0]) {
			t.Fatalf("open = %v, want %v", got, wantOpen)
		}
		_, err = os.Stat(summaries)
		return err != nil
	}
	served(openID)
	if !served(openID) {
		t.Fatal("nothing changed, yet the open index was not used")
	}

	// An event file arrives in the open incident (another process).
	write := func(id, name, text string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(rb.Store.Dir, id, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		age(filepath.Join(rb.Store.Dir, id))
	}
	write(openID, "20300101T000000.000000000Z-note-aaaaaa.toml", "kind = \"note\"\nat = 2030-01-01T00:00:00Z\ntext = \"x\"\n")
	if served(openID) {
		t.Error("an event in the open incident: the index was used")
	}
	if !served(openID) {
		t.Error("the index was not written again")
	}

	// A new incident.
	if err := os.Mkdir(filepath.Join(rb.Store.Dir, "2030-01-01-new"), 0o755); err != nil {
		t.Fatal(err)
	}
	write("2030-01-01-new", "20300101T000000.000000000Z-opened-bbbbbb.toml", "kind = \"opened\"\nat = 2030-01-01T00:00:00Z\ntitle = \"New\"\n")
	age(rb.Store.Dir)
	if served("2030-01-01-new", openID) {
		t.Error("a new incident: the index was used")
	}
	served("2030-01-01-new", openID)

	// This machine reopens the resolved incident.
	if err := rb.Store.Append(resolved, &Event{Kind: KindUpdate, Status: Identified, Message: "It is back."}); err != nil {
		t.Fatal(err)
	}
	age(filepath.Join(rb.Store.Dir, resolved))
	if served("2030-01-01-new", openID, resolved) {
		t.Error("an event this machine wrote: the index was used")
	}

	// Git brings an event that reopens a resolved incident.
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	gitDo := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = rb.Dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	if err := rb.Store.Append(resolved, &Event{Kind: KindUpdate, Status: Resolved, Message: "Fixed again."}); err != nil {
		t.Fatal(err)
	}
	gitDo("init", "-q")
	gitDo("add", "-A")
	gitDo("commit", "-qm", "records")
	age(filepath.Join(rb.Dir, ".git", "index"))
	for _, id := range []string{resolved, openID, "2030-01-01-new"} {
		age(filepath.Join(rb.Store.Dir, id))
	}
	age(rb.Store.Dir)
	served("2030-01-01-new", openID)
	if !served("2030-01-01-new", openID) {
		t.Fatal("in a git work tree, nothing changed, yet the index was not used")
	}
	// As a pull would: the event file arrives and git's index changes.
	write(resolved, "20300102T000000.000000000Z-update-cccccc.toml", "kind = \"update\"\nat = 2030-01-02T00:00:00Z\nstatus = \"identified\"\nmessage = \"Back.\"\n")
	gitDo("add", "-A")
	age(filepath.Join(rb.Dir, ".git", "index"))
	if served("2030-01-01-new", openID, resolved) {
		t.Error("git changed the work tree: the index was used")
	}
}
