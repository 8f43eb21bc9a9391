package mastodon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mattn/go-mastodon"

	"github.com/incident-cli/incident/publishers"
	"github.com/incident-cli/incident/publishers/fakeservice"
	"github.com/incident-cli/incident/publishers/mastodon/mastodontest"
	"github.com/incident-cli/incident/publishers/publisherstest"
)

const testToken = "m4stodon-access-token-0123456789"

func newFakeMastodon(t *testing.T, token string) *mastodontest.Server {
	return mastodontest.NewServer(mastodontest.Options{Token: token, UserAgent: "incident/test", Reporter: t})
}

func newPublisher(t *testing.T, f *mastodontest.Server, extra string) *Publisher {
	t.Helper()
	prim, md := publisherstest.Decode(t, fmt.Sprintf("name = \"mastodon\"\nurl = %q\naccess_token = \"env:MASTODON_TOKEN\"\n%s", f.URL, extra))
	p, err := New(prim, md, publisherstest.Env(t, "mastodon", map[string]string{"MASTODON_TOKEN": testToken}))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p.(*Publisher)
}

const link = "https://status.example.com/incidents/2026-11-27-imap-pop-login-failures.html"

func TestPublishThreads(t *testing.T) {
	f := newFakeMastodon(t, testToken)
	p := newPublisher(t, f, "visibility = \"unlisted\"\nlanguage = \"en\"")
	ctx := context.Background()

	first := publisherstest.Post(1, "[Investigating] IMAP/POP login failures "+link)
	rec1, err := p.Publish(ctx, first)
	if err != nil {
		t.Fatalf("first update: %v", err)
	}
	if rec1.ID != "113500000000000001" || rec1.URL != "https://mastodon.example/@status/113500000000000001" || !rec1.At.Equal(publisherstest.Now) {
		t.Errorf("first receipt = %+v", rec1)
	}
	tests := []struct {
		name   string
		kind   publishers.Kind
		parent publishers.Receipt
	}{
		{"second update replies to the first", publishers.KindUpdate, rec1},
		{"third update replies to the second", publishers.KindUpdate, publishers.Receipt{ID: "113500000000000002"}},
		{"rfo replies to the latest", publishers.KindRFO, publishers.Receipt{ID: "113500000000000003"}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			post := publisherstest.Post(i+2, fmt.Sprintf("Update %d %s", i+2, link))
			post.Kind, post.Key = tc.kind, fmt.Sprintf("%s/%d", post.Key, i+2)
			post.Thread, post.Parent = &rec1, &tc.parent
			rec, err := p.Publish(ctx, post)
			if err != nil {
				t.Fatalf("Publish: %v", err)
			}
			if want := fmt.Sprint(113500000000000002 + i); rec.ID != want {
				t.Errorf("receipt id = %s, want %s", rec.ID, want)
			}
		})
	}
	sts, keys := f.Statuses(), f.Keys()
	wantReply := []string{"", "113500000000000001", "113500000000000002", "113500000000000003"}
	for i, st := range sts {
		if st.InReplyTo != wantReply[i] || st.Visibility != "unlisted" || st.Language != "en" {
			t.Errorf("status %d = %+v, want a reply to %q, unlisted, en", i, st, wantReply[i])
		}
	}
	if keys[0] != first.Key {
		t.Errorf("Idempotency-Key = %q, want the post key %q", keys[0], first.Key)
	}
}

func TestLostAnswerCreatesNoDuplicate(t *testing.T) {
	f := newFakeMastodon(t, testToken)
	p := newPublisher(t, f, "")
	post := publisherstest.Post(1, "Investigating "+link)
	f.DropAnswer(1)
	if _, err := p.Publish(context.Background(), post); err == nil || !publishers.Retryable(err) {
		t.Fatalf("attempt with a lost answer: err = %v, want a retryable error", err)
	}
	rec, err := p.Publish(context.Background(), post)
	if err != nil {
		t.Fatalf("second attempt: %v", err)
	}
	sts, keys := f.Statuses(), f.Keys()
	if len(sts) != 1 || rec.ID != sts[0].ID {
		t.Errorf("statuses = %+v, receipt %+v: want the first attempt's status only", sts, rec)
	}
	if len(keys) != 2 || keys[0] != keys[1] || keys[0] == "" {
		t.Errorf("Idempotency-Keys = %q, want the same key twice", keys)
	}
}

func TestErrors(t *testing.T) {
	reset := publisherstest.Now.Add(90 * time.Second).Format("2006-01-02T15:04:05.000000Z")
	tests := []struct {
		name      string
		token     string
		text      string
		parent    string
		answer    func(w http.ResponseWriter, r *http.Request) bool
		wantErr   string
		retryable bool
		retry     time.Duration
	}{
		{name: "401 bad token", token: "other-token", wantErr: "post status: 401 Unauthorized: The access token is invalid (check the credentials in the environment variable MASTODON_TOKEN)"},
		{name: "404 parent gone", parent: "42", wantErr: "post status: 404 Not Found: Record not found"},
		{name: "422 blank", text: " ", wantErr: "post status: 422 Unprocessable Entity: Validation failed: Text can't be blank"},
		{name: "422 too long", text: strings.Repeat("é", 501), wantErr: "Text character limit of 500 exceeded"},
		{name: "429 rate limit reset", answer: answer(429, `{"error":"Too many requests"}`, "X-RateLimit-Reset", reset), wantErr: "post status: 429 Too Many Requests: Too many requests", retryable: true, retry: 90 * time.Second},
		{name: "429 retry-after", answer: answer(429, `{"error":"Too many requests"}`, "Retry-After", "7"), wantErr: "429 Too Many Requests", retryable: true, retry: 7 * time.Second},
		{name: "500", answer: answer(500, "<html>We're sorry, but something went wrong</html>", "", ""), wantErr: "post status: 500 Internal Server Error: <html>We're sorry", retryable: true},
		{name: "503 retry-after", answer: answer(503, "", "Retry-After", "30"), wantErr: "post status: 503 Service Unavailable", retryable: true, retry: 30 * time.Second},
		{name: "malformed JSON", answer: answer(200, `{"id": "1", "url": `, "", ""), wantErr: "post status: the answer is not the JSON expected (unexpected EOF)", retryable: true},
		{name: "not JSON", answer: answer(200, `<html>maintenance</html>`, "", ""), wantErr: "post status: the answer is not the JSON expected", retryable: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeMastodon(t, testToken)
			p := newPublisher(t, f, "")
			if tc.token != "" {
				f.SetToken(tc.token)
			}
			f.Intercept(tc.answer)
			post := publisherstest.Post(1, "Investigating "+link)
			if tc.text != "" {
				post.Text = tc.text
			}
			if tc.parent != "" {
				post.Parent = &publishers.Receipt{ID: tc.parent}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			start := time.Now()
			_, err := p.Publish(ctx, post)
			if d := time.Since(start); d > time.Second {
				t.Errorf("Publish took %v: it must not wait out a 429", d)
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.wantErr)
			}
			if publishers.Retryable(err) != tc.retryable {
				t.Errorf("Retryable = %v, want %v", !tc.retryable, tc.retryable)
			}
			if got := publishers.RetryAfter(err); got != tc.retry {
				t.Errorf("RetryAfter = %v, want %v", got, tc.retry)
			}
			publisherstest.AssertNoSecret(t, err.Error(), testToken)
		})
	}
}

func TestTimeouts(t *testing.T) {
	f := newFakeMastodon(t, testToken)
	f.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		_, _ = io.Copy(io.Discard, r.Body) // then the server notices the client leave
		select {
		case <-r.Context().Done():
		case <-time.After(2 * time.Second):
		}
		return true
	})
	t.Run("context deadline", func(t *testing.T) {
		p := newPublisher(t, f, "")
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err := p.Publish(ctx, publisherstest.Post(1, "x "+link))
		if !errors.Is(err, context.DeadlineExceeded) || !publishers.Retryable(err) || !strings.HasPrefix(err.Error(), "post status: ") {
			t.Errorf("err = %v, want a retryable deadline error", err)
		}
	})
	t.Run("env.HTTP timeout", func(t *testing.T) {
		prim, md := publisherstest.Decode(t, fmt.Sprintf("url = %q\naccess_token = \"env:T\"", f.URL))
		env := publisherstest.Env(t, "mastodon", map[string]string{"T": testToken})
		env.HTTP = &http.Client{Timeout: 50 * time.Millisecond}
		p, err := New(prim, md, env)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_, err = p.Publish(context.Background(), publisherstest.Post(1, "x "+link))
		if err == nil || !publishers.Retryable(err) || time.Since(start) > time.Second {
			t.Errorf("err = %v after %v, want a prompt retryable timeout", err, time.Since(start))
		}
	})
}

func TestVerify(t *testing.T) {
	f := newFakeMastodon(t, testToken)
	p := newPublisher(t, f, "")
	f.SetLimit(700)
	who, err := p.Verify(context.Background())
	if want := "@status@" + strings.TrimPrefix(f.URL, "http://") + " (700 characters a post)"; err != nil || who != want {
		t.Errorf("Verify = %q, %v; want %q", who, err, want)
	}
	f.SetToken("revoked")
	if _, err := p.Verify(context.Background()); err == nil || !strings.Contains(err.Error(), "verify credentials: 401") {
		t.Errorf("Verify with a revoked token: err = %v", err)
	}
}

func TestLoadLimit(t *testing.T) {
	f := newFakeMastodon(t, testToken)
	f.SetLimit(1000)
	p := newPublisher(t, f, "")
	if _, limit := p.Length("x"); limit != 500 {
		t.Errorf("limit before LoadLimit = %d, want 500", limit)
	}
	p.LoadLimit(context.Background())
	if n, limit := p.Length("see " + link); limit != 1000 || n != 4+23 {
		t.Errorf("Length after LoadLimit = %d/%d, want 27/1000", n, limit)
	}

	down := newFakeMastodon(t, testToken)
	down.Intercept(answer(404, `{"error":"Not Found"}`, "", ""))
	q := newPublisher(t, down, "")
	q.LoadLimit(context.Background())
	if _, limit := q.Length("x"); limit != 500 {
		t.Errorf("limit after a failed LoadLimit = %d, want 500", limit)
	}
}

func TestConfig(t *testing.T) {
	env := publisherstest.Env(t, "mastodon", nil)
	tests := []publisherstest.ConfigCase{
		{`access_token = "env:T"`, "`url` is required"},
		{`url = "https://mastodon.social"`, "`access_token` is required"},
		{`url = "http://mastodon.social"` + "\naccess_token = \"env:T\"", "plain http is allowed only to loopback"},
		{`url = "https://mastodon.social"` + "\naccess_token = \"s3cr3t-literal-token\"", "secrets are never written in the config"},
		{`url = "https://mastodon.social"` + "\naccess_token = \"env:T\"\nvisibility = \"friends\"", "`visibility` \"friends\" is not one of"},
		{`url = "https://mastodon.social"` + "\naccess_token = \"env:T\"\nlanguage = \"English\"", "`language` \"English\" is not an ISO 639 code"},
	}
	publisherstest.AssertConfigErrors(t, New, env, tests, "s3cr3t-literal-token")
	if got := strings.Join(Keys, ","); got != "name,template,url,access_token,visibility,language" {
		t.Errorf("Keys = %s", got)
	}
}

func TestClassifyAPIError(t *testing.T) {
	p := &Publisher{}
	err := p.classify("post status", fmt.Errorf("wrapped: %w", &mastodon.APIError{StatusCode: 422, Message: "Validation failed: Text can't be blank"}))
	var he *publishers.HTTPError
	if !errors.As(err, &he) || he.Status != 422 || err.Error() != "post status: 422 Unprocessable Entity: Validation failed: Text can't be blank" || publishers.Retryable(err) {
		t.Errorf("classify = %v", err)
	}
}

func TestHeaderKey(t *testing.T) {
	if k := "inc/1/mastodon"; headerKey(k) != k {
		t.Errorf("headerKey(%q) = %q", k, headerKey(k))
	}
	if k := headerKey("inc/1/Mastodon (Ü)\n"); !strings.HasPrefix(k, "sha256-") || len(k) != 71 {
		t.Errorf("headerKey of a non-ASCII key = %q", k)
	}
}

// answer answers every request with status, body and one header.
func answer(status int, body, header, value string) func(http.ResponseWriter, *http.Request) bool {
	return func(w http.ResponseWriter, r *http.Request) bool {
		if header != "" {
			w.Header().Set(header, value)
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
		return true
	}
}

// TestSecretAtTheCut: an error body that echoes the access token right where
// the message is cut leaks no part of it.
func TestSecretAtTheCut(t *testing.T) {
	f := newFakeMastodon(t, testToken)
	p := newPublisher(t, f, "")
	f.Intercept(answer(500, publisherstest.Straddle(testToken, publishers.MaxMessage), "", ""))
	_, err := p.Publish(context.Background(), publisherstest.Post(1, "Investigating "+link))
	if err == nil || !strings.Contains(err.Error(), "500 Internal Server Error: xxx") {
		t.Fatalf("err = %v, want the service's message", err)
	}
	publisherstest.AssertNoSecretPart(t, err.Error(), testToken)
}

// TestEndlessAnswer: a service that streams a 2xx answer without end is
// read only up to the size limit: the attempt fails and memory stays bounded.
func TestEndlessAnswer(t *testing.T) {
	f := newFakeMastodon(t, testToken)
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
