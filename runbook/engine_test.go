package runbook

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/incident-cli/incident/publishers"
)

// fakeChannel is a link channel whose answers a test scripts. Like a real
// service with idempotency keys, it keeps one post per key.
type fakeChannel struct {
	mu      sync.Mutex
	answers []error       // consumed one per call; nil = success
	lose    map[int]bool  // call numbers (1-based) whose post lands but whose answer is lost
	hang    bool          // block until the context ends
	gate    chan struct{} // when set, each call waits for a value (or the context's end)
	entered chan struct{} // when set, each call sends a value on entering
	posts   map[string]publishers.Post
	seen    []publishers.Post // every post that landed, in order
	calls   int
	limit   int
}

func (f *fakeChannel) Publish(ctx context.Context, p publishers.Post) (publishers.Receipt, error) {
	f.mu.Lock()
	f.calls++
	n := f.calls
	var err error
	if len(f.answers) > 0 {
		err, f.answers = f.answers[0], f.answers[1:]
	}
	hang, gate, entered := f.hang, f.gate, f.entered
	f.mu.Unlock()
	if entered != nil {
		entered <- struct{}{}
	}
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return publishers.Receipt{}, ctx.Err()
		}
	}
	if hang {
		<-ctx.Done()
		return publishers.Receipt{}, ctx.Err()
	}
	if err != nil {
		return publishers.Receipt{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.posts == nil {
		f.posts = map[string]publishers.Post{}
	}
	f.posts[p.Key] = p
	f.seen = append(f.seen, p)
	if f.lose[n] {
		return publishers.Receipt{}, errors.New("connection reset by peer")
	}
	return publishers.Receipt{ID: fmt.Sprint(len(f.posts)), URL: "https://forum.example.com/" + p.Key}, nil
}

func (f *fakeChannel) Length(text string) (int, int) { return len([]rune(text)), f.limit }

func (f *fakeChannel) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.posts)
}

// testRunbook opens the embedded runbook in a temp dir with the given link
// channels, and a retry policy that does not sleep.
func testRunbook(t testing.TB, links map[string]*fakeChannel) *Runbook {
	t.Helper()
	dir := t.TempDir()
	rb, err := Open(Location{Dir: dir, Embedded: true}, Options{Getenv: func(string) string { return "" }, StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	for name, f := range links {
		if f.limit == 0 {
			f.limit = 500
		}
		rb.Links = append(rb.Links, &Channel{Name: name, Type: "fake", Template: "social.txt.tmpl", Pub: f})
	}
	rb.RetryPolicy = RetryPolicy{Attempts: 3, Base: time.Millisecond, Max: 5 * time.Millisecond, Timeout: 200 * time.Millisecond,
		Budget: time.Second, Sleep: func(ctx context.Context, d time.Duration) error { return nil }}
	return rb
}

func open(t testing.TB, rb *Runbook) *Result {
	t.Helper()
	res, err := rb.Publish(context.Background(), "", Draft{Via: "open", Title: "IMAP/POP login failures", Services: []string{"imap"},
		Status: Investigating, Message: "We are investigating."}, PublishOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestPublishAllChannels(t *testing.T) {
	forum, social := &fakeChannel{}, &fakeChannel{}
	rb := testRunbook(t, map[string]*fakeChannel{"forum": forum, "social": social})
	res := open(t, rb)
	if res.Failed() != 0 {
		t.Fatalf("failed: %+v", res.Channels)
	}
	id := res.Incident.ID
	res, err := rb.Publish(context.Background(), id, Draft{Via: "update", Status: Identified, Message: "Found it."}, PublishOptions{})
	if err != nil || res.Failed() != 0 {
		t.Fatalf("update: %v %+v", err, res.Channels)
	}
	for _, f := range []*fakeChannel{forum, social} {
		if f.count() != 2 {
			t.Errorf("posts = %d, want 2", f.count())
		}
		for _, p := range f.posts {
			if !strings.Contains(p.Text, p.Link) || p.Link == "" {
				t.Errorf("post %q does not link to the status page %q", p.Text, p.Link)
			}
			if strings.Contains(p.Text, "Found it") && (p.Thread == nil || p.Thread.ID != "1") {
				t.Errorf("second post not threaded under the first: %+v", p.Thread)
			}
		}
	}
	inc, _ := rb.Store.Load(id)
	if inc.Undelivered() != 0 || len(inc.PublicUpdates()) != 2 || inc.Status != Identified {
		t.Errorf("ledger: undelivered %d updates %d status %s", inc.Undelivered(), len(inc.PublicUpdates()), inc.Status)
	}
}

func TestFaultsAreRecordedAndRetried(t *testing.T) {
	tests := []struct {
		name      string
		f         *fakeChannel
		wantFail  bool
		wantCalls int
	}{
		{"500 then success", &fakeChannel{answers: []error{&publishers.HTTPError{Status: 500}}}, false, 2},
		{"429 with Retry-After then success", &fakeChannel{answers: []error{&publishers.HTTPError{Status: 429, RetryAfter: 10 * time.Millisecond}}}, false, 2},
		{"429 asking for longer than the budget", &fakeChannel{answers: []error{&publishers.HTTPError{Status: 429, RetryAfter: time.Hour}}}, true, 1},
		{"401 is not retried", &fakeChannel{answers: []error{&publishers.HTTPError{Status: http.StatusUnauthorized, Message: "bad token"}}}, true, 1},
		{"always 500", &fakeChannel{answers: []error{&publishers.HTTPError{Status: 500}, &publishers.HTTPError{Status: 502}, &publishers.HTTPError{Status: 503}}}, true, 3},
		{"timeout", &fakeChannel{hang: true}, true, 3},
		{"malformed answer", &fakeChannel{answers: []error{errors.New("create: the service answered 200 with a body that is not the JSON expected")}}, false, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rb := testRunbook(t, map[string]*fakeChannel{"forum": tt.f})
			res := open(t, rb)
			if got := res.Failed() > 0; got != tt.wantFail {
				t.Fatalf("failed = %v, channels %+v", got, res.Channels)
			}
			if tt.f.calls != tt.wantCalls {
				t.Errorf("calls = %d, want %d", tt.f.calls, tt.wantCalls)
			}
			inc, err := rb.Store.Load(res.Incident.ID)
			if err != nil {
				t.Fatal(err)
			}
			d := inc.Updates[0].Delivery("forum")
			if tt.wantFail {
				if d.State != Failed || d.Error == "" || !strings.HasPrefix(res.Channels[len(res.Channels)-1].Error, "forum: ") {
					t.Fatalf("ledger = %+v, result %+v", d, res.Channels)
				}
				// The service recovers; retry completes with one post.
				tt.f.mu.Lock()
				tt.f.answers, tt.f.hang = nil, false
				tt.f.mu.Unlock()
				rres, err := rb.Retry(context.Background(), inc.ID, PublishOptions{})
				if err != nil || rres.Failed() != 0 {
					t.Fatalf("retry: %v %+v", err, rres.Channels)
				}
				inc, _ = rb.Store.Load(inc.ID)
			}
			if inc.Undelivered() != 0 || tt.f.count() != 1 {
				t.Errorf("undelivered %d, posts %d", inc.Undelivered(), tt.f.count())
			}
		})
	}
}

func TestLostAnswerIsNotPostedTwice(t *testing.T) {
	f := &fakeChannel{lose: map[int]bool{1: true}, answers: []error{nil}}
	rb := testRunbook(t, map[string]*fakeChannel{"forum": f})
	rb.RetryPolicy.Attempts = 1
	res := open(t, rb)
	if res.Failed() != 1 {
		t.Fatalf("want a failure, got %+v", res.Channels)
	}
	if _, err := rb.Retry(context.Background(), res.Incident.ID, PublishOptions{}); err != nil {
		t.Fatal(err)
	}
	if f.count() != 1 || f.calls != 2 {
		t.Errorf("posts %d calls %d: the retry must reuse the key", f.count(), f.calls)
	}
}

func TestOverLimitPublishesNothing(t *testing.T) {
	f := &fakeChannel{limit: 20}
	rb := testRunbook(t, map[string]*fakeChannel{"tiny": f})
	_, err := rb.Publish(context.Background(), "", Draft{Via: "open", Title: "IMAP", Status: Investigating, Message: "We are investigating."}, PublishOptions{})
	var re *RenderError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "over the fake limit of 20") {
		t.Fatalf("err = %v", err)
	}
	if ids, _ := rb.Store.IDs(); len(ids) != 0 || f.calls != 0 {
		t.Errorf("something was written or posted: ids %v calls %d", ids, f.calls)
	}
}

func TestStatusPageFailureHoldsLinks(t *testing.T) {
	f := &fakeChannel{}
	rb := testRunbook(t, map[string]*fakeChannel{"forum": f})
	page := &fakeChannel{answers: []error{publishers.Permanent(errors.New("disk full"))}}
	rb.StatusPage = &Channel{Name: "status page", Type: "fake", StatusPage: true, Pub: page}
	res := open(t, rb)
	if !res.StatusPageFailed() || f.calls != 0 {
		t.Fatalf("links were posted although the status page failed: %+v", res.Channels)
	}
	res, err := rb.Retry(context.Background(), res.Incident.ID, PublishOptions{})
	if err != nil || res.Failed() != 0 || f.count() != 1 || page.count() != 1 {
		t.Fatalf("retry: %v %+v forum %d page %d", err, res.Channels, f.count(), page.count())
	}
}

func TestConcurrentUpdatesAreSerialized(t *testing.T) {
	f := &fakeChannel{}
	rb := testRunbook(t, map[string]*fakeChannel{"forum": f})
	id := open(t, rb).Incident.ID
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := rb.Publish(context.Background(), id, Draft{Via: "update", Status: Identified, Message: fmt.Sprint("update ", i)}, PublishOptions{}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	inc, _ := rb.Store.Load(id)
	if len(inc.PublicUpdates()) != 5 || inc.Undelivered() != 0 || f.count() != 5 {
		t.Errorf("updates %d undelivered %d posts %d", len(inc.PublicUpdates()), inc.Undelivered(), f.count())
	}
	for i, u := range inc.PublicUpdates() {
		if u.Number != i+1 {
			t.Errorf("update %d numbered %d", i, u.Number)
		}
	}
}
