package runbook

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/incident-cli/incident/publishers"
)

// freshChannel records Post.Fresh of every attempt and fails the first
// fails attempts with a retryable error (a dropped connection: the post may
// have landed).
type freshChannel struct {
	mu    sync.Mutex
	fails int
	fresh []bool
}

func (f *freshChannel) Publish(ctx context.Context, p publishers.Post) (publishers.Receipt, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fresh = append(f.fresh, p.Fresh)
	if f.fails > 0 {
		f.fails--
		return publishers.Receipt{}, errors.New("connection reset by peer")
	}
	return publishers.Receipt{ID: p.Key, URL: "https://example.com/" + p.Key}, nil
}

func (f *freshChannel) attempts() []bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.fresh
	f.fresh = nil
	return out
}

// TestPostFresh: Post.Fresh is set on the first attempt at each delivery
// that Publish has just recorded, and on nothing else: not on the second
// attempt after a lost answer, not in Retry, not on a delivery of an
// earlier update.
func TestPostFresh(t *testing.T) {
	rb := testRunbook(t, nil)
	sp, link := &freshChannel{}, &freshChannel{}
	rb.StatusPage = &Channel{Name: "status page", Type: "fake", StatusPage: true, Pub: sp}
	rb.Links = []*Channel{{Name: "forum", Type: "fake", Template: "social.txt.tmpl", Pub: link}}
	want := func(what string, f *freshChannel, fresh ...bool) {
		t.Helper()
		got := f.attempts()
		if len(got) != len(fresh) {
			t.Fatalf("%s: %d attempts %v, want %v", what, len(got), got, fresh)
		}
		for i := range got {
			if got[i] != fresh[i] {
				t.Errorf("%s: attempt %d Fresh = %v, want %v", what, i+1, got[i], fresh[i])
			}
		}
	}
	id := open(t, rb).Incident.ID
	want("open: status page", sp, true)
	want("open: link", link, true)

	link.fails = 1
	if _, err := rb.Publish(context.Background(), id, Draft{Via: "update", Status: Identified, Message: "Found it."}, PublishOptions{}); err != nil {
		t.Fatal(err)
	}
	want("update: status page", sp, true)
	want("update: link, answer lost once", link, true, false)

	link.fails = rb.RetryPolicy.Attempts // the link fails for good; retry delivers it
	if _, err := rb.Publish(context.Background(), id, Draft{Via: "update", Status: Monitoring, Message: "Watching."}, PublishOptions{}); err != nil {
		t.Fatal(err)
	}
	want("failing update: link", link, true, false, false)
	sp.attempts()
	if _, err := rb.Retry(context.Background(), id, PublishOptions{}); err != nil {
		t.Fatal(err)
	}
	want("retry: link", link, false)
	want("retry: status page", sp)
}
