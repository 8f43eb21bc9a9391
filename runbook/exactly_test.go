package runbook

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/incident-cli/incident/publishers"
)

// process opens another "process" on rb's runbook: a fresh Runbook and Store
// (nothing shared in memory) with its own clock, posting to the same fakes.
func process(t *testing.T, rb *Runbook, now time.Time) *Runbook {
	t.Helper()
	loc := Location{Dir: rb.Dir, Embedded: rb.Embedded}
	other, err := Open(loc, Options{Getenv: func(string) string { return "" }, StateDir: rb.StateDir, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	other.StatusPage, other.Links = rb.StatusPage, rb.Links
	other.RetryPolicy = rb.RetryPolicy
	other.Responder, other.Host = rb.Responder, rb.Host
	return other
}

var errDown = errors.New("connection refused")

// A retry run after the clock stepped back (NTP) records its delivery before
// the update in wall-clock time; the fold must still match it to its update,
// and the next retry must post nothing.
func TestClockStepBackKeepsDeliveries(t *testing.T) {
	forum := &fakeChannel{answers: []error{errDown, errDown, errDown}}
	rb := testRunbook(t, map[string]*fakeChannel{"forum": forum})
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	rb.now = func() time.Time { return t0 }
	id := open(t, rb).Incident.ID
	if _, err := process(t, rb, t0.Add(-time.Minute)).Retry(context.Background(), id, PublishOptions{}); err != nil {
		t.Fatal(err)
	}
	calls := forum.calls
	res, err := process(t, rb, t0.Add(time.Minute)).Retry(context.Background(), id, PublishOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if forum.calls != calls || len(res.Channels) != 0 {
		t.Fatalf("a second retry called the forum again (%d calls, results %+v)", forum.calls-calls, res.Channels)
	}
	inc, _ := rb.Store.Load(id)
	if n := inc.Undelivered(); n != 0 {
		t.Fatalf("undelivered = %d after the retry delivered", n)
	}
}

// A laptop whose clock is 90 s behind closes the incident after another
// laptop's update: the close must come after the update it saw.
func TestCloseFromLaptopBehind(t *testing.T) {
	rb := testRunbook(t, nil)
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	rb.now = func() time.Time { return t0 }
	id := open(t, rb).Incident.ID
	ahead := process(t, rb, t0.Add(10*time.Minute))
	if _, err := ahead.Publish(context.Background(), id, Draft{Via: "update", Status: Identified, Message: "Found it."}, PublishOptions{}); err != nil {
		t.Fatal(err)
	}
	behind := process(t, rb, t0.Add(10*time.Minute-90*time.Second))
	if _, err := behind.Publish(context.Background(), id, Draft{Via: "close", Status: Resolved, Message: "Fixed."}, PublishOptions{}); err != nil {
		t.Fatal(err)
	}
	inc, err := rb.Store.Load(id)
	if err != nil {
		t.Fatal(err)
	}
	if inc.Open() {
		t.Fatalf("the incident folds as %s after the close", inc.Status)
	}
	ups := inc.PublicUpdates()
	if len(ups) != 3 || ups[2].Event.Status != Resolved {
		t.Fatalf("updates out of order: %d, last %s", len(ups), ups[len(ups)-1].Event.Status)
	}
	if _, err := behind.Publish(context.Background(), id, Draft{Via: "close", Status: Resolved, Message: "Fixed."}, PublishOptions{}); err == nil {
		t.Fatal("a second close was allowed")
	}
}

// A cache keyed on a folder's modification time goes stale when a backup
// restore (cp -a, rsync -a) brings in events and keeps the old time.
func TestEventCacheSeesRestoredEvents(t *testing.T) {
	s, id := newStore(t)
	s.CacheDir = t.TempDir()
	dir := filepath.Join(s.Dir, id)
	if err := s.Append(id, &Event{Kind: KindNote, Text: "one"}); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	os.Chtimes(dir, old, old)
	if evs, _ := s.Events(id); len(evs) != 2 {
		t.Fatalf("events = %d", len(evs))
	}
	// The restore writes a second event file and sets the folder's times
	// back, as cp -a does.
	other := &Store{Dir: t.TempDir()}
	if err := os.Mkdir(filepath.Join(other.Dir, id), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := other.Append(id, &Event{Kind: KindNote, Text: "restored"}); err != nil {
		t.Fatal(err)
	}
	names, _ := filepath.Glob(filepath.Join(other.Dir, id, "*.toml"))
	b, _ := os.ReadFile(names[0])
	os.WriteFile(filepath.Join(dir, filepath.Base(names[0])), b, 0o644)
	os.Chtimes(dir, old, old)
	evs, err := s.Events(id)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 3 {
		t.Fatalf("the cache hid a restored event: %d events", len(evs))
	}
}

// The summary caches of list and status see a restore that keeps the
// folder's old modification time: a close that arrives that way is seen.
func TestSummariesSeeRestoredEvents(t *testing.T) {
	rb := testRunbook(t, nil)
	id := open(t, rb).Incident.ID
	dir := filepath.Join(rb.Store.Dir, id)
	old := time.Now().Add(-time.Hour)
	os.Chtimes(dir, old, old)
	for range 2 { // the second call is served by the index
		if sums, err := rb.OpenSummaries(); err != nil || len(sums) != 1 {
			t.Fatalf("open summaries = %+v, %v", sums, err)
		}
	}
	other := &Store{Dir: t.TempDir()}
	os.Mkdir(filepath.Join(other.Dir, id), 0o755)
	if err := other.Append(id, &Event{Kind: KindUpdate, At: time.Now(), Status: Resolved, Message: "fixed"}); err != nil {
		t.Fatal(err)
	}
	names, _ := filepath.Glob(filepath.Join(other.Dir, id, "*.toml"))
	b, _ := os.ReadFile(names[0])
	os.WriteFile(filepath.Join(dir, filepath.Base(names[0])), b, 0o644)
	os.Chtimes(dir, old, old)
	if sums, _ := rb.OpenSummaries(); len(sums) != 0 {
		t.Fatalf("a restored close is not seen: %+v", sums)
	}
}

// Update #2 fails on the status page, the close succeeds, then a retry
// comes: it must not publish #2's older state over the resolved one, on the
// status page or in the forum thread.
func TestLateRetryDoesNotRollBack(t *testing.T) {
	page := &fakeChannel{}
	forum := &fakeChannel{}
	rb := testRunbook(t, map[string]*fakeChannel{"forum": forum})
	rb.StatusPage = &Channel{Name: "page", Type: "fake", StatusPage: true, Pub: page}
	id := open(t, rb).Incident.ID
	page.answers = []error{errDown, errDown, errDown}
	if _, err := rb.Publish(context.Background(), id, Draft{Via: "update", Status: Identified, Message: "Found it."}, PublishOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := rb.Publish(context.Background(), id, Draft{Via: "close", Status: Resolved, Message: "Fixed."}, PublishOptions{}); err != nil {
		t.Fatal(err)
	}
	res, err := rb.Retry(context.Background(), id, PublishOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if last := page.seen[len(page.seen)-1]; last.Incident.Status != Resolved {
		t.Errorf("the status page's last post shows %q, after the incident was resolved", last.Incident.Status)
	}
	for _, p := range forum.seen {
		if p.Incident.Status == Identified {
			t.Errorf("the forum got update #2 after #3 (%d posts)", len(forum.seen))
		}
	}
	if len(res.Channels) != 2 || !res.Channels[0].Superseded || !res.Channels[1].Superseded {
		t.Errorf("retry results = %+v", res.Channels)
	}
	inc, _ := rb.Store.Load(id)
	if n := inc.Undelivered(); n != 0 {
		t.Errorf("undelivered = %d", n)
	}
	if d := inc.Updates[1].Delivery("page"); d.State != Superseded || d.SupersededBy != inc.Updates[2].Event.ID {
		t.Errorf("update #2 on the page: %+v", d)
	}
}

// longURLPage is a status page whose post's address is known only once it
// exists, and is longer than the placeholder the length check used.
type longURLPage struct{ fakeChannel }

func (p *longURLPage) Publish(ctx context.Context, post publishers.Post) (publishers.Receipt, error) {
	rec, err := p.fakeChannel.Publish(ctx, post)
	rec.URL = "https://status.example-mail-provider.com/2026/12/01/" + strings.Repeat("imap-pop-login-failures-", 3)
	return rec, err
}

// A link text that fit with the placeholder URL but not with the real one is
// shortened (never the link), posted, and the result says so.
func TestLinkTextShortenedForTheRealURL(t *testing.T) {
	forum := &fakeChannel{}
	rb := testRunbook(t, map[string]*fakeChannel{"forum": forum})
	rb.StatusPage = &Channel{Name: "page", Type: "fake", StatusPage: true, Pub: &longURLPage{}}
	msg := "We are investigating reports of IMAP and POP login failures for many customers in every region."
	preview, err := rb.Publish(context.Background(), "", Draft{Via: "open", Title: "IMAP/POP login failures", Status: Investigating, Message: msg}, PublishOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	forum.limit = preview.Rendered[1].Length + 5 // fits the placeholder, not the real URL
	res, err := rb.Publish(context.Background(), "", Draft{Via: "open", Title: "IMAP/POP login failures", Status: Investigating, Message: msg}, PublishOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c := res.Channels[1]
	if c.Error != "" || !strings.Contains(c.Note, "shortened") {
		t.Fatalf("forum result = %+v", c)
	}
	text := forum.seen[0].Text
	if n, limit := forum.Length(text); n > limit || !strings.Contains(text, forum.seen[0].Link) || !strings.Contains(text, "…") {
		t.Fatalf("posted %d/%d: %q", n, limit, text)
	}
	inc, _ := rb.Store.Load(res.Incident.ID)
	if d := inc.Updates[0].Delivery("forum"); d.State != Sent || !strings.Contains(d.Note, "shortened") {
		t.Errorf("recorded %+v", d)
	}
}

// Two `incident rfo` runs at once: the second decides whether to announce
// under the lock, after the first published, so every link channel gets
// the RFO's link once.
func TestConcurrentRFOAnnouncesOnce(t *testing.T) {
	forum := &fakeChannel{}
	page := &fakeChannel{}
	rb := testRunbook(t, map[string]*fakeChannel{"forum": forum})
	rb.StatusPage = &Channel{Name: "page", Type: "fake", StatusPage: true, Pub: page}
	id := open(t, rb).Incident.ID
	if _, err := rb.Publish(context.Background(), id, Draft{Via: "close", Status: Resolved, Message: "Fixed."}, PublishOptions{}); err != nil {
		t.Fatal(err)
	}
	text := RFOText{Summary: "Logins failed.", RootCause: "An attack.", Mitigation: "Blocked it.", FollowUp: "Limits."}
	page.gate, page.entered = make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	go func() {
		_, err := rb.PublishRFO(context.Background(), id, text, RFOOptions{})
		first <- err
	}()
	await(t, page.entered, "the first run to publish the RFO post") // the first run is publishing the RFO post, holding the lock
	second := process(t, rb, time.Now())
	waiting := make(chan struct{})
	second.Store.lockHook = func() { close(waiting) }
	done := make(chan error, 1)
	go func() {
		_, err := second.PublishRFO(context.Background(), id, text, RFOOptions{})
		done <- err
	}()
	await(t, waiting, "the second run to wait for the lock")
	page.mu.Lock()
	page.entered = nil
	page.mu.Unlock()
	close(page.gate) // both RFO posts may go through now
	if err := await(t, first, "the first run to end"); err != nil {
		t.Fatal(err)
	}
	if err := await(t, done, "the second run to end"); err != nil {
		t.Fatal(err)
	}
	rfoPosts := 0
	for _, p := range forum.seen {
		if p.Kind == publishers.KindRFO {
			rfoPosts++
		}
	}
	if rfoPosts != 1 {
		t.Fatalf("the forum got the RFO's link %d times", rfoPosts)
	}
}

// await receives from ch, or fails the test with every goroutine's stack
// when nothing arrives within a minute: a deadlock guard (the steps it
// waits for take milliseconds), so that a hang is a failure that shows where
// each goroutine stood, not a CI run killed at its time limit.
func await[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(time.Minute):
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		t.Fatalf("waited a minute for %s; the goroutines:\n%s", what, buf)
		var zero T
		return zero
	}
}

var _ = publishers.Receipt{}
