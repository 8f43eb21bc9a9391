package runbook

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func newStore(t *testing.T) (*Store, string) {
	t.Helper()
	s := &Store{Dir: filepath.Join(t.TempDir(), "incidents")}
	at := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	id, unlock, err := s.Create(s.NewID("IMAP/POP login failures", at), &Event{Kind: KindOpened, At: at, Title: "IMAP/POP login failures"})
	if err != nil {
		t.Fatal(err)
	}
	unlock()
	return s, id
}

func TestCreateIDs(t *testing.T) {
	s, id := newStore(t)
	if id != "2026-11-27-imap-pop-login-failures" {
		t.Errorf("id = %q", id)
	}
	at := time.Date(2026, 11, 27, 11, 0, 0, 0, time.UTC)
	id2, unlock, err := s.Create(s.NewID("IMAP/POP login failures", at), &Event{Kind: KindOpened, Title: "IMAP/POP login failures"})
	if err != nil || id2 != id+"-2" {
		t.Errorf("second id = %q, %v", id2, err)
	}
	unlock()
	// An empty folder (left by an older version's open, killed before its
	// first event) is no incident; a new open never shares it (another
	// process may be about to write into it), it takes the next id.
	if err := os.Mkdir(filepath.Join(s.Dir, "2026-11-28-smtp"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load("2026-11-28-smtp"); !errors.Is(err, ErrUnknownIncident) {
		t.Errorf("an empty folder loads as an incident: %v", err)
	}
	id3, unlock, err := s.Create("2026-11-28-smtp", &Event{Kind: KindOpened, Title: "SMTP"})
	if err != nil || id3 != "2026-11-28-smtp-2" {
		t.Errorf("create next to an empty folder: %q, %v", id3, err)
	}
	unlock()
	if inc, err := s.Load(id3); err != nil || inc.Title != "SMTP" {
		t.Errorf("load %s: %v", id3, err)
	}
	// No staging folder is left behind, and none is listed.
	if ids, _ := s.IDs(); len(ids) != 4 {
		t.Errorf("ids = %v", ids)
	}
	if left, _ := filepath.Glob(filepath.Join(s.Dir, ".new-*")); len(left) != 0 {
		t.Errorf("staging folders left: %v", left)
	}
	s.Unique = true
	if u := s.NewID("SMTP", at); !strings.HasPrefix(u, "2026-11-27-smtp-") || len(u) != len("2026-11-27-smtp-")+4 {
		t.Errorf("unique id = %q", u)
	}
	for title, want := range map[string]string{
		"Störung: Webmail (äöü) & SMTP!": "storung-webmail-aou-smtp",
		"   ":                            "incident",
		"日本語":                            "incident",
		strings.Repeat("a", 100):         strings.Repeat("a", 48),
	} {
		if got := Slug(title); got != want {
			t.Errorf("Slug(%q) = %q, want %q", title, got, want)
		}
	}
}

// TestCreateIsExclusive: opens of the same title at once, in several
// processes (here: several stores on one folder), each get their own
// incident; none shares a folder with another. Before, the second took the
// first's folder over while it looked empty: two opened events, two first
// posts.
func TestCreateIsExclusive(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "incidents")
	const n = 8
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := &Store{Dir: dir}
			id, unlock, err := s.Create("2026-12-01-imap", &Event{Kind: KindOpened, Title: "IMAP", Text: fmt.Sprint(i)})
			if err != nil {
				t.Error(err)
				return
			}
			defer unlock()
			ids[i] = id
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	s := &Store{Dir: dir}
	for _, id := range ids {
		if seen[id] {
			t.Fatalf("two opens got %s", id)
		}
		seen[id] = true
		evs, err := s.Events(id)
		if err != nil || len(evs) != 1 {
			t.Fatalf("%s: %d events, %v", id, len(evs), err)
		}
	}
}

// TestCreateHoldsTheLock: the new incident is locked from the moment it
// appears, so a retry cannot deliver its first update while open does.
func TestCreateHoldsTheLock(t *testing.T) {
	s := &Store{Dir: filepath.Join(t.TempDir(), "incidents")}
	id, unlock, err := s.Create("2026-12-01-imap", &Event{Kind: KindOpened, Title: "IMAP"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := (&Store{Dir: s.Dir}).Lock(ctx, id); err == nil {
		t.Fatal("another process locked the incident open was creating")
	}
	unlock()
	got, err := (&Store{Dir: s.Dir}).Lock(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	got()
}

func TestAppendConcurrentGoroutines(t *testing.T) {
	s, id := newStore(t)
	var wg sync.WaitGroup
	const writers, each = 8, 40
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if err := s.Append(id, &Event{Kind: KindNote, Text: fmt.Sprintf("w%d-%d", w, i)}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	inc, err := s.Load(id)
	if err != nil {
		t.Fatal(err)
	}
	if len(inc.Notes) != writers*each {
		t.Fatalf("notes = %d, want %d", len(inc.Notes), writers*each)
	}
	seen := map[string]bool{}
	for _, n := range inc.Notes {
		seen[n.Text] = true
	}
	if len(seen) != writers*each {
		t.Errorf("distinct notes = %d", len(seen))
	}
}

// TestAppendConcurrentProcesses runs several processes appending to one
// incident at once: no event may be lost.
func TestAppendConcurrentProcesses(t *testing.T) {
	if os.Getenv("INCIDENT_TEST_APPENDER") != "" {
		return
	}
	s, id := newStore(t)
	const procs, each = 4, 30
	var cmds []*exec.Cmd
	for p := range procs {
		cmd := exec.Command(os.Args[0], "-test.run=TestAppenderProcess")
		cmd.Env = append(os.Environ(), "INCIDENT_TEST_APPENDER=1", "STORE_DIR="+s.Dir, "INCIDENT_ID="+id,
			"PREFIX=p"+strconv.Itoa(p), "COUNT="+strconv.Itoa(each))
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	for _, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Fatal(err)
		}
	}
	inc, err := s.Load(id)
	if err != nil {
		t.Fatal(err)
	}
	if len(inc.Notes) != procs*each {
		t.Fatalf("notes = %d, want %d", len(inc.Notes), procs*each)
	}
}

func TestAppenderProcess(t *testing.T) {
	if os.Getenv("INCIDENT_TEST_APPENDER") == "" {
		t.Skip("helper process for TestAppendConcurrentProcesses")
	}
	s := &Store{Dir: os.Getenv("STORE_DIR")}
	n, _ := strconv.Atoi(os.Getenv("COUNT"))
	for i := range n {
		if err := s.Append(os.Getenv("INCIDENT_ID"), &Event{Kind: KindNote, Text: fmt.Sprintf("%s-%d", os.Getenv("PREFIX"), i)}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestInterruptedWriteLeavesLoadableLog(t *testing.T) {
	s, id := newStore(t)
	if err := s.Append(id, &Event{Kind: KindNote, Text: "before"}); err != nil {
		t.Fatal(err)
	}
	// A process killed mid-write leaves a partial temp file behind.
	stray := filepath.Join(s.Dir, id, ".tmp-20261127T100000.000000000Z-note-abc.toml-123")
	if err := os.WriteFile(stray, []byte("kind = \"no"), 0o644); err != nil {
		t.Fatal(err)
	}
	// And a write that fails before the rename leaves nothing.
	createTemp = func(dir, pattern string) (*os.File, error) {
		f, err := os.CreateTemp(dir, pattern)
		if err != nil {
			return nil, err
		}
		f.WriteString("kind = \"half")
		f.Close()
		return nil, errors.New("disk full")
	}
	t.Cleanup(func() { createTemp = os.CreateTemp })
	if err := s.Append(id, &Event{Kind: KindNote, Text: "lost"}); err == nil {
		t.Fatal("append succeeded through a failing temp file")
	}
	createTemp = os.CreateTemp
	inc, err := s.Load(id)
	if err != nil {
		t.Fatalf("load after interrupted write: %v", err)
	}
	if len(inc.Notes) != 1 || inc.Notes[0].Text != "before" {
		t.Errorf("notes = %+v", inc.Notes)
	}
}

func TestDamagedEventNamesTheFile(t *testing.T) {
	s, id := newStore(t)
	bad := filepath.Join(s.Dir, id, "20261127T100000.000000000Z-note-zzzzzz.toml")
	os.WriteFile(bad, []byte("<<<<<<< HEAD\n"), 0o644)
	_, err := s.Load(id)
	if err == nil || !strings.Contains(err.Error(), bad) {
		t.Fatalf("err = %v, want it to name %s", err, bad)
	}
}

func TestUnknownIncident(t *testing.T) {
	s, _ := newStore(t)
	for _, id := range []string{"nope", "../etc", ".hidden", ""} {
		if _, err := s.Load(id); !errors.Is(err, ErrUnknownIncident) {
			t.Errorf("Load(%q) = %v", id, err)
		}
	}
}

func TestFoldLifecycle(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	acc := 300
	started := t0.Add(-20 * time.Minute)
	evs := []Event{
		{ID: "1", Kind: KindOpened, At: t0, Title: "IMAP", Services: []string{"imap"}, StartedAt: &started},
		{ID: "2", Kind: KindUpdate, At: t0, Status: Investigating, Message: "a", Channels: []string{"page", "forum"}},
		{ID: "3", Kind: KindDelivered, At: t0, Update: "2", Channel: "page", Receipt: receipt("p1")},
		{ID: "4", Kind: KindFailed, At: t0, Update: "2", Channel: "forum", Error: "500", Attempts: 3},
		{ID: "5", Kind: KindUpdate, At: t0.Add(30 * time.Minute), Status: Identified, Message: "b", Accounts: &acc, Channels: []string{"page", "forum"}},
		{ID: "6", Kind: KindDelivered, At: t0, Update: "2", Channel: "forum", Receipt: receipt("f1")},
		{ID: "7", Kind: KindFailed, At: t0, Update: "2", Channel: "forum", Error: "late"}, // never hides the success
		{ID: "8", Kind: KindUpdate, At: t0.Add(60 * time.Minute), Status: Resolved, Message: "c", Channels: []string{"page"}},
	}
	inc := Fold("x", evs)
	if inc.Status != Resolved || inc.Open() || !inc.ResolvedAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("status %s resolved %v", inc.Status, inc.ResolvedAt)
	}
	if inc.Accounts != 300 || !inc.StartedAt.Equal(started) {
		t.Errorf("accounts %d started %v", inc.Accounts, inc.StartedAt)
	}
	if d := inc.Updates[0].Delivery("forum"); d.State != Sent || d.Receipt.ID != "f1" {
		t.Errorf("forum delivery of #1 = %+v", d)
	}
	if n := inc.Undelivered(); n != 3 { // #2 page+forum, #3 page
		t.Errorf("undelivered = %d", n)
	}
	first, last := inc.Thread("forum", false)
	if first.ID != "f1" || last.ID != "f1" {
		t.Errorf("thread = %v %v", first, last)
	}
	if err := CheckTransition(inc, Identified, "update"); err == nil {
		t.Error("update of a resolved incident allowed")
	}
	if err := CheckTransition(inc, Identified, "reopen"); err != nil {
		t.Error(err)
	}
}

func TestEventCache(t *testing.T) {
	s, id := newStore(t)
	s.CacheDir = t.TempDir()
	if err := s.Append(id, &Event{Kind: KindNote, Text: "one"}); err != nil {
		t.Fatal(err)
	}
	if evs, _ := s.Events(id); len(evs) != 2 {
		t.Fatalf("events = %d", len(evs))
	}
	cache := filepath.Join(s.CacheDir, "events", id+".json")
	// The cache is used while the folder holds the same files...
	os.WriteFile(cache, []byte(strings.Replace(mustRead(t, cache), `"one"`, `"from cache"`, 1)), 0o600)
	if evs, _ := s.Events(id); evs[1].Text != "from cache" {
		t.Fatalf("cache not used: %+v", evs)
	}
	// ...never by the paths that decide what to post...
	if evs, _ := s.EventsFresh(id); evs[1].Text != "one" {
		t.Fatalf("EventsFresh read the cache: %+v", evs)
	}
	// ...and a new event invalidates it, even within the same clock tick.
	if err := s.Append(id, &Event{Kind: KindNote, Text: "two"}); err != nil {
		t.Fatal(err)
	}
	evs, _ := s.Events(id)
	if len(evs) != 3 || evs[1].Text != "one" || evs[2].Text != "two" {
		t.Fatalf("after append: %+v", evs)
	}
}

func mustRead(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestOpenSummariesFollowChanges(t *testing.T) {
	rb := testRunbook(t, nil)
	id := open(t, rb).Incident.ID
	dir := filepath.Join(rb.Store.Dir, id)
	old := time.Now().Add(-time.Hour)
	os.Chtimes(dir, old, old)
	for range 2 { // the second call is served by the index
		sums, err := rb.OpenSummaries()
		if err != nil || len(sums) != 1 || sums[0].Status != Investigating {
			t.Fatalf("open summaries = %+v, %v", sums, err)
		}
	}
	// Another machine closes it (an event file arrives, say by git pull).
	if err := rb.Store.Append(id, &Event{Kind: KindUpdate, Status: Resolved, Message: "fixed"}); err != nil {
		t.Fatal(err)
	}
	if sums, _ := rb.OpenSummaries(); len(sums) != 0 {
		t.Fatalf("closed incident still open: %+v", sums)
	}
	if all, _ := rb.Summaries(); len(all) != 1 || all[0].Status != Resolved {
		t.Fatalf("all = %+v", all)
	}
}
