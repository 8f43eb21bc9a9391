package discourse

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/incident-cli/incident/publishers"
	"github.com/incident-cli/incident/publishers/discourse/discoursetest"
	"github.com/incident-cli/incident/publishers/fakeservice"
	"github.com/incident-cli/incident/publishers/publisherstest"
)

const (
	testKey  = "d1sc0urse-api-key-0123456789abcdef"
	testUser = "status-bot"
)

func newFakeDiscourse(t *testing.T, key, username string) *discoursetest.Server {
	return discoursetest.NewServer(discoursetest.Options{APIKey: key, Username: username, UserAgent: "incident/test", Reporter: t})
}

func newPublisher(t *testing.T, f *discoursetest.Server, extra string) *Publisher {
	t.Helper()
	table := fmt.Sprintf("name = \"community\"\nurl = %q\nusername = %q\napi_key = \"env:DISCOURSE_API_KEY\"\ncategory = %d\n%s", f.URL, testUser, f.Category, extra)
	prim, md := publisherstest.Decode(t, table)
	env := publisherstest.Env(t, "community", map[string]string{"DISCOURSE_API_KEY": testKey})
	p, err := New(prim, md, env)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p.(*Publisher)
}

// text is a forum text long enough for Discourse's 20-character minimum.
func text(n int) string {
	return fmt.Sprintf("Update %d: IMAP logins fail for some accounts. Details: https://status.example.com/incidents/x.html", n)
}

func TestPublishThreads(t *testing.T) {
	f := newFakeDiscourse(t, testKey, testUser)
	p := newPublisher(t, f, "")
	ctx := context.Background()

	first, err := p.Publish(ctx, publisherstest.Post(1, text(1)))
	if err != nil {
		t.Fatalf("first update: %v", err)
	}
	wantURL := f.URL + "/t/investigating-imap-pop-login-failures/41"
	if first.ID != "101" || first.URL != wantURL || first.Meta["topic_id"] != "41" || first.Meta["post_number"] != "1" || !first.At.Equal(publisherstest.Now) {
		t.Errorf("first receipt = %+v, want post 101 at %s", first, wantURL)
	}

	tests := []struct {
		name string
		kind publishers.Kind
		n    int
	}{
		{"second update", publishers.KindUpdate, 2},
		{"third update", publishers.KindUpdate, 3},
		{"rfo", publishers.KindRFO, 4},
	}
	parent := first
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			post := publisherstest.Post(tc.n, text(tc.n))
			post.Kind, post.Key = tc.kind, post.Key+tc.name
			post.Thread, post.Parent = &first, &parent
			rec, err := p.Publish(ctx, post)
			if err != nil {
				t.Fatalf("Publish: %v", err)
			}
			num := fmt.Sprint(i + 2)
			if rec.URL != wantURL+"/"+num || rec.Meta["topic_id"] != "41" || rec.Meta["post_number"] != num {
				t.Errorf("receipt = %+v, want post number %s in topic 41", rec, num)
			}
			parent = rec
		})
	}
	if topics, posts := f.Counts(); topics != 1 || posts != 4 {
		t.Errorf("forum holds %d topics and %d posts, want 1 and 4", topics, posts)
	}
}

func TestRFOWithoutThreadOpensTopic(t *testing.T) {
	f := newFakeDiscourse(t, testKey, testUser)
	p := newPublisher(t, f, "")
	post := publisherstest.Post(4, text(4))
	post.Kind, post.Title = publishers.KindRFO, "RFO: IMAP/POP login failures"
	rec, err := p.Publish(context.Background(), post)
	if err != nil || rec.Meta["post_number"] != "1" {
		t.Fatalf("Publish = %+v, %v; want a new topic", rec, err)
	}
}

func TestLostAnswerCreatesNoDuplicate(t *testing.T) {
	// replies before the lost one: the marker is found on the topic's first
	// page, or (past 20 posts) through /t/{id}/posts.json.
	for _, replies := range []int{-1, 0, 30} {
		t.Run(fmt.Sprintf("replies=%d", replies), func(t *testing.T) {
			f := newFakeDiscourse(t, testKey, testUser)
			p := newPublisher(t, f, "")
			ctx := context.Background()
			post := publisherstest.Post(1, text(1))
			if replies >= 0 {
				first, err := p.Publish(ctx, post)
				if err != nil {
					t.Fatal(err)
				}
				for i := range replies {
					post.Key, post.Thread = fmt.Sprintf("earlier/%d", i), &first
					if _, err := p.Publish(ctx, post); err != nil {
						t.Fatal(err)
					}
				}
				post = publisherstest.Post(2, text(2))
				post.Key += "/2"
				post.Thread, post.Parent = &first, &first
			}
			f.DropAnswer(1)
			if _, err := p.Publish(ctx, post); err == nil || !publishers.Retryable(err) {
				t.Fatalf("attempt with a lost answer: err = %v, want a retryable error", err)
			}
			_, before := f.Counts()
			rec, err := p.Publish(ctx, post)
			if err != nil {
				t.Fatalf("second attempt: %v", err)
			}
			if _, after := f.Counts(); after != before {
				t.Errorf("second attempt posted again: %d posts, want %d", after, before)
			}
			if rec.ID == "" || rec.Meta["topic_id"] == "" {
				t.Errorf("second attempt's receipt = %+v, want the first attempt's post", rec)
			}
			if seen := f.Requests(); replies > 20 && seen[len(seen)-1] != "GET /t/41/posts.json" {
				t.Errorf("last request = %s, want the latest posts read through /t/41/posts.json", seen[len(seen)-1])
			}
		})
	}
}

// TestLostReplyInABusyThread: by the time of the retry, others replied
// enough that the lost reply is neither on the topic's first page nor among
// its latest posts. The retry still finds it and posts nothing.
func TestLostReplyInABusyThread(t *testing.T) {
	f := newFakeDiscourse(t, testKey, testUser)
	p := newPublisher(t, f, "")
	ctx := context.Background()
	first, err := p.Publish(ctx, publisherstest.Post(1, text(1)))
	if err != nil {
		t.Fatal(err)
	}
	tid, _ := strconv.ParseInt(first.Meta["topic_id"], 10, 64)
	for i := range 25 {
		f.AddReply(tid, "customer"+strconv.Itoa(i), "Same here, cannot log in since this morning.")
	}
	post := publisherstest.Post(2, text(2))
	post.Thread, post.Parent = &first, &first
	f.DropAnswer(1)
	if _, err := p.Publish(ctx, post); err == nil {
		t.Fatal("the lost answer was not an error")
	}
	for i := range 30 {
		f.AddReply(tid, "customer"+strconv.Itoa(i), "Still failing for me, any news?")
	}
	_, before := f.Counts()
	if _, err := p.Publish(ctx, post); err != nil {
		t.Fatal(err)
	}
	if _, after := f.Counts(); after != before {
		t.Fatalf("the retry posted again (%d posts, were %d)", after, before)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name      string
		answer    func(w http.ResponseWriter, r *http.Request) bool
		key       string
		thread    bool
		title     string
		wantErr   string
		retryable bool
		retry     time.Duration
	}{
		{name: "403 invalid key", key: "wrong-key-0123456789", wantErr: "look up topic: 403 Forbidden: You are not permitted to view the requested resource. The API username or key is invalid. (the account lacks a permission, or the credentials in the environment variable DISCOURSE_API_KEY are wrong)"},
		{name: "401 from a proxy", answer: status(401, "text/html", "<html>401 Authorization Required</html>", nil), wantErr: "look up topic: 401 Unauthorized: <html>401 Authorization Required</html> (check the credentials in the environment variable DISCOURSE_API_KEY)"},
		{name: "404 topic gone", thread: true, wantErr: "look up replies: 404 Not Found: The requested URL or resource could not be found."},
		{name: "422 title used", title: "taken", wantErr: "create topic: 422 Unprocessable Entity: Title has already been used"},
		{name: "429 retry-after", answer: status(429, "application/json", `{"errors":["You've performed this action too many times. Please wait 42 seconds before trying again."],"error_type":"rate_limit","extras":{"wait_seconds":42}}`, map[string]string{"Retry-After": "40"}), wantErr: "look up topic: 429 Too Many Requests: You've performed", retryable: true, retry: 40 * time.Second},
		{name: "429 wait_seconds", answer: status(429, "application/json", `{"errors":["Slow down."],"error_type":"rate_limit","extras":{"wait_seconds":12}}`, nil), wantErr: "429 Too Many Requests: Slow down.", retryable: true, retry: 12 * time.Second},
		{name: "500", answer: status(500, "text/html", "<h1>Oops</h1>", nil), wantErr: "look up topic: 500 Internal Server Error", retryable: true},
		{name: "redirect to another host", answer: status(301, "text/html", "", map[string]string{"Location": "https://evil.example/t/x/1.json"}), wantErr: "look up topic: refusing a redirect to another host (evil.example)"},
		{name: "queued for approval", answer: postAnswer(200, `{"action":"enqueued","pending_post":{"id":5,"raw":"..."}}`), wantErr: "create topic: Discourse queued the post for a moderator's approval"},
		{name: "malformed JSON", answer: postAnswer(200, "{\"id\": 1,"), wantErr: "create topic: the service answered 200 with a body that is not the JSON expected", retryable: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeDiscourse(t, testKey, testUser)
			p := newPublisher(t, f, "")
			post := publisherstest.Post(1, text(1))
			if tc.title != "" {
				if _, err := p.Publish(context.Background(), post); err != nil {
					t.Fatal(err)
				}
				post.Key += "/other"
			}
			if tc.thread {
				post.Thread = &publishers.Receipt{ID: "9", Meta: map[string]string{"topic_id": "999", "topic_slug": "gone"}}
			}
			if tc.key != "" {
				f.SetAPIKey(tc.key)
			}
			f.Intercept(tc.answer)
			_, err := p.Publish(context.Background(), post)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.wantErr)
			}
			if publishers.Retryable(err) != tc.retryable {
				t.Errorf("Retryable = %v, want %v", !tc.retryable, tc.retryable)
			}
			if got := publishers.RetryAfter(err); got != tc.retry {
				t.Errorf("RetryAfter = %v, want %v", got, tc.retry)
			}
			publisherstest.AssertNoSecret(t, err.Error(), testKey)
		})
	}
}

func TestTimeout(t *testing.T) {
	f := newFakeDiscourse(t, testKey, testUser)
	f.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		select {
		case <-r.Context().Done():
		case <-time.After(2 * time.Second):
		}
		return true
	})
	p := newPublisher(t, f, "")
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := p.Publish(ctx, publisherstest.Post(1, text(1)))
	if err == nil || !errors.Is(err, context.DeadlineExceeded) || !publishers.Retryable(err) {
		t.Fatalf("err = %v, want a retryable deadline error", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("took %v", d)
	}
}

func TestVerify(t *testing.T) {
	f := newFakeDiscourse(t, testKey, testUser)
	p := newPublisher(t, f, "")
	if who, err := p.Verify(context.Background()); err != nil || who != "@"+testUser {
		t.Errorf("Verify = %q, %v", who, err)
	}
	// A scoped key that may not read the session still proves itself on /u/.
	f.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != "/session/current.json" {
			return false
		}
		discoursetest.WriteJSON(w, 403, map[string]any{"errors": []string{"You are not permitted to view the requested resource."}, "error_type": "invalid_access"})
		return true
	})
	if who, err := p.Verify(context.Background()); err != nil || who != "@"+testUser {
		t.Errorf("Verify with a scoped key = %q, %v", who, err)
	}
	f.Intercept(nil)
	f.SetAPIKey("other-key-0123456789")
	if _, err := p.Verify(context.Background()); err == nil || !strings.Contains(err.Error(), "verify credentials: 403") {
		t.Errorf("Verify with a wrong key: err = %v", err)
	}
}

func TestConfig(t *testing.T) {
	env := publisherstest.Env(t, "community", nil)
	tests := []publisherstest.ConfigCase{
		{`url = "https://forum.example.com"` + "\nusername = \"bot\"\napi_key = \"env:K\"", "`category` is required"},
		{`url = "https://forum.example.com"` + "\nusername = \"bot\"\ncategory = 7", "`api_key` is required"},
		{`url = "https://forum.example.com"` + "\napi_key = \"env:K\"\ncategory = 7", "`username` is required"},
		{`username = "bot"` + "\napi_key = \"env:K\"\ncategory = 7", "`url` is required"},
		{`url = "http://forum.example.com"` + "\nusername = \"bot\"\napi_key = \"env:K\"\ncategory = 7", "plain http is allowed only to loopback"},
		{`url = "https://forum.example.com"` + "\nusername = \"bot\"\napi_key = \"abcdef123456\"\ncategory = 7", "secrets are never written in the config"},
	}
	publisherstest.AssertConfigErrors(t, New, env, tests, "abcdef123456")
	if got := strings.Join(Keys, ","); got != "name,template,url,username,api_key,category" {
		t.Errorf("Keys = %s", got)
	}
}

func TestMissingSecretIsPermanent(t *testing.T) {
	f := newFakeDiscourse(t, testKey, testUser)
	prim, md := publisherstest.Decode(t, fmt.Sprintf("url = %q\nusername = \"bot\"\napi_key = \"env:NOPE\"\ncategory = 7", f.URL))
	p, err := New(prim, md, publisherstest.Env(t, "community", nil))
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Publish(context.Background(), publisherstest.Post(1, text(1)))
	if err == nil || publishers.Retryable(err) || !strings.Contains(err.Error(), "NOPE is not set") {
		t.Errorf("err = %v, want a permanent error naming the variable", err)
	}
	if seen := f.Requests(); len(seen) != 0 {
		t.Errorf("sent %v without a key", seen)
	}
}

func TestLength(t *testing.T) {
	p := &Publisher{}
	n, limit := p.Length("Ünïcödé ✓")
	if n != 9+markerLen || limit != 32000 {
		t.Errorf("Length = %d/%d", n, limit)
	}
}

// FuzzLength checks that the count is never below what Discourse counts for
// the raw post Publish sends (its length in code points).
func FuzzLength(f *testing.F) {
	for _, s := range []string{"", "hello", "Ünïcödé ✓ 👩‍👩‍👧", "\xff\xfe", strings.Repeat("x", 32000)} {
		f.Add(s)
	}
	p := &Publisher{}
	f.Fuzz(func(t *testing.T, s string) {
		n, limit := p.Length(s)
		raw := rawWithMarker(s, "some/key")
		if want := utf8.RuneCountInString(raw); n < want {
			t.Errorf("Length = %d, but Discourse counts %d", n, want)
		}
		if limit != MaxPostLength {
			t.Errorf("limit = %d", limit)
		}
	})
}

// status answers every request with the given status, body and headers.
func status(code int, ctype, body string, headers map[string]string) func(http.ResponseWriter, *http.Request) bool {
	return func(w http.ResponseWriter, r *http.Request) bool {
		for k, v := range headers {
			w.Header().Set(k, v)
		}
		w.Header().Set("Content-Type", ctype)
		w.WriteHeader(code)
		_, _ = w.Write([]byte(body))
		return true
	}
}

// postAnswer answers only POST /posts.json.
func postAnswer(code int, body string) func(http.ResponseWriter, *http.Request) bool {
	return func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodPost {
			return false
		}
		return status(code, "application/json", body, nil)(w, r)
	}
}

// TestEndlessAnswer: a service that streams a 2xx answer without end is
// read only up to the size limit: the attempt fails and memory stays bounded.
func TestEndlessAnswer(t *testing.T) {
	f := newFakeDiscourse(t, testKey, testUser)
	ch := newPublisher(t, f, "")
	f.Endless(fakeservice.Always)
	var err error
	publisherstest.AssertBoundedMemory(t, func() {
		_, err = ch.Publish(context.Background(), publisherstest.Post(1, "Investigating: IMAP logins fail. https://status.example.com/incidents/2026-11-27-imap-pop-login-failures.html"))
	})
	if err == nil || !strings.Contains(err.Error(), "the answer is larger than 4 MiB") || !publishers.Retryable(err) {
		t.Errorf("err = %v, want a retryable error saying the answer is too large", err)
	}
}

// TestFreshPost: the first attempt at a delivery just recorded (Post.Fresh)
// opens the topic, or replies, without the look-ups before: one request;
// when its answer is lost, the next attempt (not fresh) finds the post.
func TestFreshPost(t *testing.T) {
	for _, reply := range []bool{false, true} {
		t.Run(fmt.Sprintf("reply=%v", reply), func(t *testing.T) {
			for _, lost := range []bool{false, true} {
				f := newFakeDiscourse(t, testKey, testUser)
				p := newPublisher(t, f, "")
				ctx := context.Background()
				post := publisherstest.Post(1, text(1))
				if reply {
					first, err := p.Publish(ctx, post)
					if err != nil {
						t.Fatal(err)
					}
					post = publisherstest.Post(2, text(2))
					post.Key += "/2"
					post.Thread, post.Parent = &first, &first
				}
				before := len(f.Requests())
				post.Fresh = true
				if lost {
					f.DropAnswer(1)
					if _, err := p.Publish(ctx, post); err == nil || !publishers.Retryable(err) {
						t.Fatalf("lost answer: err = %v, want a retryable error", err)
					}
					_, held := f.Counts()
					post.Fresh = false
					if _, err := p.Publish(ctx, post); err != nil {
						t.Fatal(err)
					}
					if _, after := f.Counts(); after != held {
						t.Errorf("the attempt after a lost fresh one posted again: %d posts, want %d", after, held)
					}
					continue
				}
				if _, err := p.Publish(ctx, post); err != nil {
					t.Fatal(err)
				}
				if got := f.Requests()[before:]; len(got) != 1 || got[0] != "POST /posts.json" {
					t.Errorf("a fresh post made the requests %q, want only POST /posts.json", got)
				}
			}
		})
	}
}
