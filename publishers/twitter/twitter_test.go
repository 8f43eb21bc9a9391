package twitter

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/incident-cli/incident/publishers"
	"github.com/incident-cli/incident/publishers/fakeservice"
	"github.com/incident-cli/incident/publishers/publisherstest"
	"github.com/incident-cli/incident/publishers/twitter/twittertest"
)

const link = "https://status.example.com/incidents/2026-11-27-imap-pop-login-failures.html"

func xConfig(url string) string {
	return fmt.Sprintf(`name = "x"
type = "twitter"
url = %q
consumer_key = "env:X_CONSUMER_KEY"
consumer_secret = "env:X_CONSUMER_SECRET"
access_token = "env:X_ACCESS_TOKEN"
access_token_secret = "env:X_ACCESS_TOKEN_SECRET"
`, url)
}

func newChannel(t *testing.T, table string, secrets map[string]string) *channel {
	t.Helper()
	prim, md := publisherstest.Decode(t, table)
	p, err := New(prim, md, publisherstest.Env(t, "x", secrets))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p.(*channel)
}

// The test's credentials: the fake knows them, the channel gets them from
// the environment.
var xSecrets = map[string]string{
	"X_CONSUMER_KEY":        twittertest.DefaultConsumerKey,
	"X_CONSUMER_SECRET":     twittertest.DefaultConsumerSecret,
	"X_ACCESS_TOKEN":        twittertest.DefaultAccessToken,
	"X_ACCESS_TOKEN_SECRET": twittertest.DefaultAccessTokenSecret,
}

const (
	xUserID   = twittertest.UserID
	xUsername = twittertest.Username
)

// newFakeX starts the fake X API, weighing texts with this package's own
// twitter-text count.
func newFakeX(t *testing.T) *twittertest.Server {
	return twittertest.NewServer(twittertest.Options{UserAgent: "incident/test", Reporter: t,
		Length: func(text string) int { n, _ := weigh(text); return n }})
}

func secretValues() []string { return slices.Collect(maps.Values(xSecrets)) }

func text(n int) string {
	return fmt.Sprintf("[%s] IMAP/POP login failures: update %d. %s", []string{"", "Investigating", "Identified", "Monitoring", "Resolved"}[min(n, 4)], n, link)
}

func TestPublishThreads(t *testing.T) {
	f := newFakeX(t)
	ch := newChannel(t, xConfig(f.URL), xSecrets)
	ctx := context.Background()

	var first, latest *publishers.Receipt
	for _, step := range []struct {
		name      string
		n         int
		kind      publishers.Kind
		wantReply string // "" for none, "first", "latest"
	}{
		{"first update", 1, publishers.KindUpdate, ""},
		{"second update replies to the first", 2, publishers.KindUpdate, "latest"},
		{"third update replies to the second", 3, publishers.KindUpdate, "latest"},
		{"RFO replies to the latest", 4, publishers.KindRFO, "latest"},
	} {
		t.Run(step.name, func(t *testing.T) {
			p := publisherstest.Post(step.n, text(step.n))
			p.Kind, p.Thread, p.Parent = step.kind, first, latest
			want := ""
			if step.wantReply == "latest" {
				want = latest.ID
			}
			r, err := ch.Publish(ctx, p)
			if err != nil {
				t.Fatalf("Publish: %v", err)
			}
			posts, creates := f.Posts(), f.Creates()
			got := posts[len(posts)-1]
			if r.ID != got.ID || r.URL != "https://x.com/i/web/status/"+got.ID || !r.At.Equal(publisherstest.Now) {
				t.Errorf("receipt = %+v, want id %s", r, got.ID)
			}
			if got.Text != p.Text || got.ReplyTo != want {
				t.Errorf("posted %+v, want reply to %q", got, want)
			}
			body := creates[len(creates)-1]
			if _, ok := body["reply"]; ok != (want != "") {
				t.Errorf("body = %v", body)
			}
			if first == nil {
				first = &r
			}
			latest = &r
		})
	}
}

func TestPublishErrors(t *testing.T) {
	for _, tc := range []struct {
		name      string
		secrets   map[string]string
		path      string // appended to the fake's URL in config
		setup     func(f *twittertest.Server, p *publishers.Post)
		timeout   time.Duration
		status    int // 0: not an HTTPError
		retryable bool
		retry     time.Duration
		contains  string
	}{
		{name: "401 wrong consumer secret", secrets: map[string]string{"X_CONSUMER_SECRET": "cs-wrong-wrong"},
			status: 401, contains: "create post: 401 Unauthorized: Unauthorized (check the credentials in env:X_CONSUMER_KEY"},
		{name: "403 reply to a deleted post", setup: func(f *twittertest.Server, p *publishers.Post) {
			p.Parent = &publishers.Receipt{ID: "1862000000000000999"}
		}, status: 403, contains: "deleted or not visible"},
		{name: "400 text too long", setup: func(f *twittertest.Server, p *publishers.Post) {
			p.Text = strings.Repeat("too long ", 40)
		}, status: 400, contains: "One or more parameters to your request was invalid.: The `text` field is too long"},
		{name: "404 wrong url", path: "/api", status: 404, contains: "Sorry, that page does not exist (check the channel's `url`; the default is https://api.x.com)"},
		{name: "429 with x-rate-limit-reset", setup: func(f *twittertest.Server, p *publishers.Post) {
			f.RateLimit(publisherstest.Now.Add(90*time.Second), fakeservice.Always)
		},
			status: 429, retryable: true, retry: 90 * time.Second, contains: "Too Many Requests"},
		{name: "500", setup: func(f *twittertest.Server, p *publishers.Post) {
			f.Fail(500, `{"title":"Internal Server Error","detail":"Internal Server Error","type":"about:blank","status":500}`,
				map[string]string{"Content-Type": "application/problem+json"}, fakeservice.Always)
		}, status: 500, retryable: true},
		{name: "malformed JSON", setup: func(f *twittertest.Server, p *publishers.Post) {
			f.Fail(http.StatusCreated, `{"data":{"id":`, nil, fakeservice.Always)
		}, retryable: true, contains: "not the JSON expected"},
		{name: "timeout", setup: func(f *twittertest.Server, p *publishers.Post) { f.Hang(fakeservice.Always) },
			timeout: 50 * time.Millisecond, retryable: true, contains: "deadline exceeded"},
		{name: "duplicate of an older post", setup: func(f *twittertest.Server, p *publishers.Post) {
			posts := []twittertest.Post{{ID: "1", Text: p.Text}}
			for i := range 10 {
				posts = append(posts, twittertest.Post{ID: fmt.Sprint(100 + i), Text: fmt.Sprint("other ", i)})
			}
			f.SetPosts(posts...)
		}, status: 403, contains: "duplicate content. (none of the account's 10 latest posts has this text"},
		{name: "same text under another parent", setup: func(f *twittertest.Server, p *publishers.Post) {
			f.SetPosts(twittertest.Post{ID: "1", Text: "first"}, twittertest.Post{ID: "2", Text: "other first"}, twittertest.Post{ID: "3", Text: p.Text, ReplyTo: "2"})
			p.Parent = &publishers.Receipt{ID: "1"}
		}, status: 403, contains: "none of the account's 10 latest posts has this text"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeX(t)
			secrets := maps.Clone(xSecrets)
			maps.Copy(secrets, tc.secrets)
			ch := newChannel(t, xConfig(f.URL+tc.path), secrets)
			p := publisherstest.Post(1, text(1))
			if tc.setup != nil {
				tc.setup(f, &p)
			}
			ctx := context.Background()
			if tc.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.timeout)
				defer cancel()
			}
			_, err := ch.Publish(ctx, p)
			if err == nil {
				t.Fatal("Publish succeeded")
			}
			msg := err.Error()
			t.Logf("error: %s", msg)
			publisherstest.AssertNoSecret(t, msg, secretValues()...)
			if !strings.HasPrefix(msg, "create post: ") || !strings.Contains(msg, tc.contains) {
				t.Errorf("error = %q, want it to start with the operation and hold %q", msg, tc.contains)
			}
			var he *publishers.HTTPError
			if got := errors.As(err, &he); got != (tc.status != 0) || got && he.Status != tc.status {
				t.Errorf("error %v: HTTPError %v, want status %d", err, he, tc.status)
			}
			if publishers.Retryable(err) != tc.retryable || publishers.RetryAfter(err) != tc.retry {
				t.Errorf("Retryable = %v, RetryAfter = %v; want %v, %v", publishers.Retryable(err), publishers.RetryAfter(err), tc.retryable, tc.retry)
			}
		})
	}
}

// TestLostAnswer: X created the post but the answer never arrived; the
// engine calls Publish again with the same post and must not post twice.
func TestLostAnswer(t *testing.T) {
	for _, reply := range []bool{false, true} {
		t.Run(fmt.Sprint("reply=", reply), func(t *testing.T) {
			f := newFakeX(t)
			ch := newChannel(t, xConfig(f.URL), xSecrets)
			ctx := context.Background()
			p := publisherstest.Post(2, "Fix deployed & monitoring <IMAP>: "+link+" (details) status.example.com/x")
			if reply {
				f.SetPosts(twittertest.Post{ID: "1862000000000000000", Text: "first"})
				p.Thread = &publishers.Receipt{ID: "1862000000000000000"}
				p.Parent = p.Thread
			}
			f.DropAnswer(1) // the post is created, its answer lost
			if _, err := ch.Publish(ctx, p); err == nil || !publishers.Retryable(err) {
				t.Fatalf("first attempt: err = %v, want a retryable error", err)
			}
			r, err := ch.Publish(ctx, p)
			if err != nil {
				t.Fatalf("second attempt: %v", err)
			}
			posts, requests := f.Posts(), f.Requests()
			last := posts[len(posts)-1]
			if len(posts) != map[bool]int{false: 1, true: 2}[reply] || r.ID != last.ID {
				t.Errorf("posts = %+v, receipt %+v", posts, r)
			}
			if r.URL != "https://x.com/"+xUsername+"/status/"+last.ID {
				t.Errorf("URL = %q", r.URL)
			}
			for _, want := range []string{"GET /2/users/me", "GET /2/users/" + xUserID + "/tweets"} {
				if !slices.Contains(requests, want) {
					t.Errorf("requests %v lack %q", requests, want)
				}
			}
		})
	}
}

func TestVerify(t *testing.T) {
	f := newFakeX(t)
	ch := newChannel(t, xConfig(f.URL), xSecrets)
	who, err := ch.Verify(context.Background())
	if err != nil || who != "@"+xUsername {
		t.Fatalf("Verify = %q, %v", who, err)
	}
	r, err := ch.Publish(context.Background(), publisherstest.Post(1, text(1)))
	if err != nil || !strings.HasPrefix(r.URL, "https://x.com/"+xUsername+"/status/") {
		t.Errorf("after Verify, receipt %+v, %v", r, err)
	}

	bad := maps.Clone(xSecrets)
	bad["X_ACCESS_TOKEN_SECRET"] = "ats-wrong-wrong"
	_, err = newChannel(t, xConfig(f.URL), bad).Verify(context.Background())
	if err == nil || !strings.HasPrefix(err.Error(), "look up account: 401") {
		t.Errorf("Verify with a wrong secret: %v", err)
	}
	publisherstest.AssertNoSecret(t, fmt.Sprint(err), append(secretValues(), "ats-wrong-wrong")...)
}

func TestNew(t *testing.T) {
	full := xConfig("https://api.x.com")
	for _, tc := range []struct {
		name, table, wantErr string
	}{
		{"default url", "consumer_key = \"env:A\"\nconsumer_secret = \"env:B\"\naccess_token = \"env:C\"\naccess_token_secret = \"env:D\"\n", ""},
		{"all keys", full, ""},
		{"missing key", strings.Replace(full, "access_token_secret", "# access_token_secret", 1), "twitter: `access_token_secret` is required"},
		{"literal secret", strings.Replace(full, `"env:X_CONSUMER_SECRET"`, `"kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw"`, 1), "secrets are never written in the config"},
		{"plain http", strings.Replace(full, "https://api.x.com", "http://api.x.com", 1), "plain http is allowed only to loopback"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prim, md := publisherstest.Decode(t, tc.table)
			p, err := New(prim, md, publisherstest.Env(t, "x", nil))
			if tc.wantErr == "" {
				if err != nil || p.(*channel).base != DefaultURL {
					t.Fatalf("New: %v, %+v", err, p)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("New: err = %v, want %q", err, tc.wantErr)
			}
			publisherstest.AssertNoSecret(t, err.Error(), "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw")
		})
	}
	if !slices.Equal(Keys, []string{"name", "template", "url", "consumer_key", "consumer_secret", "access_token", "access_token_secret"}) {
		t.Errorf("Keys = %v", Keys)
	}
	var _ publishers.Counter = (*channel)(nil)
	var _ publishers.Verifier = (*channel)(nil)
}

// TestSecretsAtFirstUse: New never reads secrets; a missing one is an error
// of the first Publish that names it, and retrying cannot help.
func TestSecretsAtFirstUse(t *testing.T) {
	f := newFakeX(t)
	secrets := maps.Clone(xSecrets)
	delete(secrets, "X_ACCESS_TOKEN")
	ch := newChannel(t, xConfig(f.URL), secrets)
	_, err := ch.Publish(context.Background(), publisherstest.Post(1, text(1)))
	if err == nil || !strings.Contains(err.Error(), "X_ACCESS_TOKEN is not set") || publishers.Retryable(err) {
		t.Fatalf("err = %v", err)
	}
	if requests := f.Requests(); len(requests) != 0 {
		t.Errorf("requests = %v", requests)
	}
}

// TestFakeRefusesUnsigned keeps the fake honest: X refuses a request without
// a valid OAuth 1.0a signature.
func TestFakeRefusesUnsigned(t *testing.T) {
	f := newFakeX(t)
	for _, auth := range []string{"", `OAuth oauth_consumer_key="` + f.ConsumerKey + `", oauth_token="` + f.AccessToken +
		`", oauth_signature_method="HMAC-SHA1", oauth_timestamp="` + fmt.Sprint(time.Now().Unix()) + `", oauth_nonce="n", oauth_signature="c2ln"`} {
		req, _ := http.NewRequest(http.MethodGet, f.URL+"/2/users/me", nil)
		req.Header.Set("User-Agent", "incident/test")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("Authorization %q: status %d", auth, resp.StatusCode)
		}
	}
}

func TestErrorMessage(t *testing.T) {
	for body, want := range map[string]string{
		`{"detail":"You are not allowed to create a Tweet with duplicate content.","type":"about:blank","title":"Forbidden","status":403}`: "You are not allowed to create a Tweet with duplicate content.",
		`{"errors":[{"code":88,"message":"Rate limit exceeded"}]}`:                                                                         "Rate limit exceeded",
		`{"title":"Unauthorized","type":"about:blank","status":401}`:                                                                       "Unauthorized",
		`<html>bad gateway</html>`: "",
	} {
		if got := errorMessage([]byte(body)); got != want {
			t.Errorf("errorMessage(%s) = %q, want %q", body, got, want)
		}
	}
}

// TestEndlessAnswer: a service that streams a 2xx answer without end is
// read only up to the size limit: the attempt fails and memory stays bounded.
func TestEndlessAnswer(t *testing.T) {
	f := newFakeX(t)
	ch := newChannel(t, xConfig(f.URL), xSecrets)
	f.Endless(fakeservice.Always)
	var err error
	publisherstest.AssertBoundedMemory(t, func() {
		_, err = ch.Publish(context.Background(), publisherstest.Post(1, "Investigating: IMAP logins fail. https://status.example.com/incidents/2026-11-27-imap-pop-login-failures.html"))
	})
	if err == nil || !strings.Contains(err.Error(), "the answer is larger than 4 MiB") || !publishers.Retryable(err) {
		t.Errorf("err = %v, want a retryable error saying the answer is too large", err)
	}
}
