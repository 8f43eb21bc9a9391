package mastodon

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/incident-cli/incident/publishers"
	"github.com/incident-cli/incident/publishers/mastodon/mastodontest"
	"github.com/incident-cli/incident/publishers/publisherstest"
)

// sameState is a second channel on the same instance and state directory
// (the next run of the command), whose clock is now.
func sameState(t *testing.T, f *mastodontest.Server, env publishers.Env, now time.Time) *Publisher {
	t.Helper()
	prim, md := publisherstest.Decode(t, fmt.Sprintf("name = \"mastodon\"\nurl = %q\naccess_token = \"env:MASTODON_TOKEN\"\n", f.URL))
	env.Now = func() time.Time { return now }
	p, err := New(prim, md, env)
	if err != nil {
		t.Fatal(err)
	}
	return p.(*Publisher)
}

// TestLimitKept: the instance's limit, once read, is kept in the state
// directory: the next runs within LimitTTL ask nothing (a publish is then
// two round trips); after it, or after doctor's Verify, it is read again.
func TestLimitKept(t *testing.T) {
	f := newFakeMastodon(t, testToken)
	f.SetLimit(1000)
	env := publisherstest.Env(t, "mastodon", map[string]string{"MASTODON_TOKEN": testToken})
	reads := func() int { return f.Count("GET /api/v2/instance") }
	now := publisherstest.Now
	for i, tc := range []struct {
		after     time.Duration
		wantReads int
		wantLimit int
	}{
		{0, 1, 1000},                        // first run: read from the instance
		{time.Hour, 1, 1000},                // kept
		{LimitTTL - time.Minute, 1, 1000},   // still kept
		{LimitTTL + time.Minute, 2, 1000},   // expired: read again
		{LimitTTL + 2*time.Minute, 2, 1000}, // and kept again
	} {
		p := sameState(t, f, env, now.Add(tc.after))
		p.LoadLimit(context.Background())
		p.LoadLimit(context.Background()) // a second call in one run does nothing
		if _, limit := p.Length("x"); reads() != tc.wantReads || limit != tc.wantLimit {
			t.Errorf("run %d (+%s): %d reads of the instance, limit %d; want %d, %d", i, tc.after, reads(), limit, tc.wantReads, tc.wantLimit)
		}
	}
	f.SetLimit(800)
	p := sameState(t, f, env, now.Add(LimitTTL+3*time.Minute))
	if who, err := p.Verify(context.Background()); err != nil || !strings.HasSuffix(who, "(800 characters a post)") {
		t.Errorf("Verify = %q, %v", who, err)
	}
	q := sameState(t, f, env, now.Add(LimitTTL+4*time.Minute))
	q.LoadLimit(context.Background())
	if _, limit := q.Length("x"); limit != 800 || reads() != 3 {
		t.Errorf("after doctor's Verify: limit %d after %d reads, want 800 after 3", limit, reads())
	}
}

// TestTooLongReadsTheLimitAgain: when the instance refuses a status as too
// long (its limit went down since it was kept), the limit is read again at
// once, the error says what the instance allows, and is not retried.
func TestTooLongReadsTheLimitAgain(t *testing.T) {
	f := newFakeMastodon(t, testToken)
	f.SetLimit(1000)
	env := publisherstest.Env(t, "mastodon", map[string]string{"MASTODON_TOKEN": testToken})
	p := sameState(t, f, env, publisherstest.Now)
	p.LoadLimit(context.Background())
	f.SetLimit(100)
	post := publisherstest.Post(1, strings.Repeat("x", 300))
	_, err := p.Publish(context.Background(), post)
	if err == nil || publishers.Retryable(err) || !strings.Contains(err.Error(), "422") ||
		!strings.Contains(err.Error(), "the instance now allows 100 characters (it was counted against 1000)") {
		t.Fatalf("err = %v, want a permanent 422 that names the new limit", err)
	}
	if _, limit := p.Length("x"); limit != 100 {
		t.Errorf("limit after the refusal = %d, want 100", limit)
	}
	q := sameState(t, f, env, publisherstest.Now.Add(time.Minute))
	q.LoadLimit(context.Background())
	if _, limit := q.Length("x"); limit != 100 || f.Count("GET /api/v2/instance") != 2 {
		t.Errorf("the next run counts against %d after %d reads, want 100 after 2 (kept)", limit, f.Count("GET /api/v2/instance"))
	}

	other := newFakeMastodon(t, testToken)
	other.Intercept(answer(http.StatusUnprocessableEntity, `{"error":"Validation failed: Text can't be blank"}`, "", ""))
	r := sameState(t, other, publisherstest.Env(t, "mastodon", map[string]string{"MASTODON_TOKEN": testToken}), publisherstest.Now)
	if _, err := r.Publish(context.Background(), publisherstest.Post(1, "x")); err == nil || strings.Contains(err.Error(), "now allows") {
		t.Errorf("another 422: err = %v, want it as the instance said it", err)
	}
}
