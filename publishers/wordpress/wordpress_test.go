package wordpress

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/incident-cli/incident/publishers"
	"github.com/incident-cli/incident/publishers/fakeservice"
	"github.com/incident-cli/incident/publishers/publisherstest"
	"github.com/incident-cli/incident/publishers/wordpress/wordpresstest"
)

const secretValue = wordpresstest.DefaultPassword

func newFakeWP(t *testing.T) *wordpresstest.Server {
	return wordpresstest.NewServer(wordpresstest.Options{UserAgent: "incident/test", Reporter: t})
}

func newChannel(t *testing.T, f *wordpresstest.Server, extra string) *channel {
	t.Helper()
	prim, md := publisherstest.Decode(t, fmt.Sprintf("name = \"blog\"\nurl = %q\nusername = \"status-bot\"\npassword = \"env:WP_APP_PASSWORD\"\n%s", f.URL, extra))
	env := publisherstest.Env(t, "blog", map[string]string{"WP_APP_PASSWORD": secretValue})
	p, err := New(prim, md, env)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p.(*channel)
}

func TestPublishThreading(t *testing.T) {
	f := newFakeWP(t)
	c := newChannel(t, f, "categories = [3]\ntags = [5, 8]")
	ctx := context.Background()

	first := publisherstest.Post(1, "We are investigating.")
	r1, err := c.Publish(ctx, first)
	if err != nil {
		t.Fatalf("first update: %v", err)
	}
	wantURL := f.URL + "/2026/11/27/2026-11-27-imap-pop-login-failures/"
	if r1.URL != wantURL || r1.Meta["slug"] != "2026-11-27-imap-pop-login-failures" || !r1.At.Equal(publisherstest.Now) {
		t.Fatalf("first receipt = %+v", r1)
	}
	id, _ := strconv.ParseInt(r1.ID, 10, 64)
	got := f.Post(id)
	if got.Status != "publish" || got.Content != first.HTML || got.Title != first.Title ||
		fmt.Sprint(got.Categories, got.Tags) != "[3] [5 8]" {
		t.Fatalf("created post = %+v", got)
	}

	second := publisherstest.Post(2, "Fixed the directory server; both updates listed.")
	second.Thread, second.Parent = &r1, &r1
	r2, err := c.Publish(ctx, second)
	if err != nil {
		t.Fatalf("second update: %v", err)
	}
	if r2.ID != r1.ID || r2.URL != r1.URL {
		t.Fatalf("second receipt = %+v, want the same post as %+v", r2, r1)
	}
	if got := f.Post(id); got.Content != second.HTML || got.Title != second.Title {
		t.Fatalf("edited post = %+v", got)
	}

	rfo := publisherstest.Post(4, "Reason for outage: a certificate expired.")
	rfo.Kind, rfo.Title = publishers.KindRFO, "RFO: IMAP/POP login failures"
	rfo.Thread, rfo.Parent = &r1, &r2
	r3, err := c.Publish(ctx, rfo)
	if err != nil {
		t.Fatalf("rfo: %v", err)
	}
	if r3.ID == r1.ID || r3.Meta["slug"] != "2026-11-27-imap-pop-login-failures-rfo" || r3.Meta["kind"] != "rfo" {
		t.Fatalf("rfo receipt = %+v", r3)
	}
	if got := f.Post(id); got.Content != second.HTML {
		t.Fatalf("the RFO changed the status post: %+v", got)
	}

	edited := rfo
	edited.HTML = "<p>Reason for outage, corrected.</p>"
	edited.Parent = &r3
	r4, err := c.Publish(ctx, edited)
	if err != nil {
		t.Fatalf("rfo edit: %v", err)
	}
	rfoID, _ := strconv.ParseInt(r3.ID, 10, 64)
	if r4.ID != r3.ID || f.Post(rfoID).Content != edited.HTML {
		t.Fatalf("rfo edit receipt = %+v, post %+v", r4, f.Post(rfoID))
	}
	if n := f.Count("POST /wp-json/wp/v2/posts"); n != 4 {
		t.Errorf("%d POSTs, want 4 (create, edit, create RFO, edit RFO)", n)
	}
}

func TestPublishAfterLostAnswerCreatesNoDuplicate(t *testing.T) {
	for _, kind := range []publishers.Kind{publishers.KindUpdate, publishers.KindRFO} {
		t.Run(string(kind), func(t *testing.T) {
			f := newFakeWP(t)
			c := newChannel(t, f, "")
			p := publisherstest.Post(1, "We are investigating.")
			p.Kind = kind
			f.DropAnswer(1) // the create: the lookup before it is a GET
			if _, err := c.Publish(context.Background(), p); err == nil || !publishers.Retryable(err) {
				t.Fatalf("lost answer: err = %v, want a retryable error", err)
			}
			r, err := c.Publish(context.Background(), p)
			if err != nil {
				t.Fatalf("retry: %v", err)
			}
			n := len(f.Posts())
			if n != 1 || r.ID != "101" {
				t.Fatalf("%d posts after the retry (receipt %+v), want exactly the first", n, r)
			}
		})
	}
}

func TestPublishErrors(t *testing.T) {
	answer := func(status int, header, body string) func(http.ResponseWriter, *http.Request) bool {
		return func(w http.ResponseWriter, r *http.Request) bool {
			if header != "" {
				k, v, _ := strings.Cut(header, ": ")
				w.Header().Set(k, v)
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			fmt.Fprint(w, body)
			return true
		}
	}
	tests := []struct {
		name       string
		password   string
		thread     string
		fail       func(http.ResponseWriter, *http.Request) bool
		hang       bool
		want       string
		retryable  bool
		retryAfter time.Duration
	}{
		{name: "wrong password", password: "wrong", want: "look up the bot's user: 401 Unauthorized: The provided password is an invalid application password. [incorrect_password] (check the credentials in the environment variable WP_APP_PASSWORD)"},
		{name: "cannot create", fail: func(w http.ResponseWriter, r *http.Request) bool {
			if r.Method != http.MethodPost {
				return false
			}
			wordpresstest.WriteError(w, 403, "rest_cannot_create", "Sorry, you are not allowed to create posts as this user.")
			return true
		}, want: "create post: 403 Forbidden: Sorry, you are not allowed to create posts as this user. [rest_cannot_create]"},
		{name: "deleted post", thread: "999", want: "update post: 404 Not Found: Invalid post ID. [rest_post_invalid_id]"},
		{name: "invalid param", fail: answer(400, "", `{"code":"rest_invalid_param","message":"Invalid parameter(s): categories","data":{"status":400,"params":{"categories":"categories[0] is not of type integer."}}}`),
			want: "400 Bad Request: Invalid parameter(s): categories [rest_invalid_param]"},
		{name: "rate limited", fail: answer(429, "Retry-After: 30", `{"code":"too_many_requests","message":"Slow down.","data":{"status":429}}`),
			want: "429 Too Many Requests: Slow down.", retryable: true, retryAfter: 30 * time.Second},
		{name: "server error", fail: answer(500, "", `<html><body>Error establishing a database connection</body></html>`),
			want: "500 Internal Server Error: <html><body>Error establishing a database connection</body></html>", retryable: true},
		{name: "malformed answer", fail: answer(200, "", `[{"id":`), want: "not the JSON expected", retryable: true},
		{name: "timeout", hang: true, want: "context deadline exceeded", retryable: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeWP(t)
			if tt.password != "" {
				f.SetPassword(tt.password)
			}
			f.Intercept(tt.fail)
			if tt.hang {
				f.Hang(fakeservice.Always)
			}
			c := newChannel(t, f, "")
			p := publisherstest.Post(1, "We are investigating.")
			if tt.thread != "" {
				p.Thread = &publishers.Receipt{ID: tt.thread}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			_, err := c.Publish(ctx, p)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q, want it to contain %q", err, tt.want)
			}
			if publishers.Retryable(err) != tt.retryable {
				t.Errorf("Retryable = %v, want %v (%v)", !tt.retryable, tt.retryable, err)
			}
			if got := publishers.RetryAfter(err); got != tt.retryAfter {
				t.Errorf("RetryAfter = %v, want %v", got, tt.retryAfter)
			}
			if tt.hang && !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("timeout error %v does not wrap context.DeadlineExceeded", err)
			}
			publisherstest.AssertNoSecret(t, err.Error(), secretValue, strings.ReplaceAll(secretValue, " ", ""))
		})
	}
}

func TestVerify(t *testing.T) {
	f := newFakeWP(t)
	c := newChannel(t, f, "")
	who, err := c.Verify(context.Background())
	if err != nil || who != "Status Bot" {
		t.Fatalf("Verify = %q, %v", who, err)
	}
	f.SetPassword("other")
	_, err = c.Verify(context.Background())
	if err == nil || !strings.HasPrefix(err.Error(), "verify credentials: 401") {
		t.Fatalf("Verify with a wrong password: %v", err)
	}
	publisherstest.AssertNoSecret(t, err.Error(), secretValue)
}

func TestNewRefusesBadConfig(t *testing.T) {
	tests := []struct{ config, want string }{
		{`url = "http://status.example.com"` + "\nusername = \"u\"\npassword = \"env:P\"", "plain http is allowed only to loopback"},
		{`url = "https://status.example.com"` + "\nusername = \"u\"\npassword = \"hunter2\"", "env:NAME"},
		{`url = "https://status.example.com"` + "\npassword = \"env:P\"", "`username` is required"},
		{`url = "https://status.example.com"` + "\nusername = \"u\"", "`password` is required"},
		{`username = "u"` + "\npassword = \"env:P\"", "`url` is required"},
		{`url = "https://status.example.com"` + "\nusername = \"u\"\npassword = \"env:P\"\nstatus = \"future\"", "`status` \"future\" is not one of"},
		{`url = "https://status.example.com"` + "\nusername = \"u\"\npassword = \"env:P\"\ncategories = [0]", "term ids"},
	}
	for _, tt := range tests {
		prim, md := publisherstest.Decode(t, tt.config)
		_, err := New(prim, md, publisherstest.Env(t, "blog", nil))
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "wordpress: ") {
			t.Errorf("config %q: err = %v, want %q", tt.config, err, tt.want)
		}
	}
}

func TestSecretResolvedLazily(t *testing.T) {
	prim, md := publisherstest.Decode(t, "url = \"https://status.example.com\"\nusername = \"u\"\npassword = \"env:MISSING\"")
	p, err := New(prim, md, publisherstest.Env(t, "blog", nil))
	if err != nil {
		t.Fatalf("New resolved the secret at construction: %v", err)
	}
	_, err = p.Publish(context.Background(), publisherstest.Post(1, "x"))
	if err == nil || publishers.Retryable(err) || !strings.Contains(err.Error(), "MISSING is not set") {
		t.Fatalf("Publish with an unset secret: %v", err)
	}
}

func TestSlug(t *testing.T) {
	long := strings.Repeat("a", 300)
	tests := []struct{ in, want string }{
		{"2026-11-27-imap-pop-login-failures", "2026-11-27-imap-pop-login-failures"},
		{"2026-11-27-imap-pop-login-failures-rfo", "2026-11-27-imap-pop-login-failures-rfo"},
		{"Å/b c", "b-c-"},
		{"///", "incident-"},
	}
	for _, tt := range tests {
		if got := Slug(tt.in); !strings.HasPrefix(got, tt.want) {
			t.Errorf("Slug(%q) = %q, want prefix %q", tt.in, got, tt.want)
		}
	}
	if got := Slug(long); len(got) > 190 || Slug(long) != got || Slug(long+"b") == got {
		t.Errorf("Slug(long) = %q (%d bytes): not short, stable and distinct", got, len(got))
	}
}

// TestEchoedCredentialsNotShown: a server (or a proxy in front of it) that
// echoes the request's Authorization header into its error body must not
// make the error show the application password, which HTTP Basic carries
// as base64 of user:password: the runbook redacts secret values, and cannot
// recognise that form.
func TestEchoedCredentialsNotShown(t *testing.T) {
	basic := base64.StdEncoding.EncodeToString([]byte("status-bot:" + secretValue))
	for name, body := range map[string]string{
		"in WordPress's message": `{"code":"rest_forbidden","message":"Sorry. You sent:","data":{"status":401}}`,
		"in a page":              `<html><body>401 Authorization Required. You sent:</body></html>`,
	} {
		t.Run(name, func(t *testing.T) {
			f := newFakeWP(t)
			c := newChannel(t, f, "")
			f.Inject(fakeservice.Fault{Mode: fakeservice.Answer, Status: 401, Body: body, EchoAuth: true, Times: 1})
			_, err := c.Publish(context.Background(), publisherstest.Post(1, "We are investigating."))
			if err == nil || !strings.Contains(err.Error(), "401 Unauthorized: ") || !strings.Contains(err.Error(), "[Authorization: Basic [redacted]]") {
				t.Fatalf("err = %v, want the 401 with the echoed credentials redacted", err)
			}
			publisherstest.AssertNoSecret(t, err.Error(), secretValue, basic)
		})
	}
}

// TestEndlessAnswer: a service that streams a 2xx answer without end is
// read only up to the size limit: the attempt fails and memory stays bounded.
func TestEndlessAnswer(t *testing.T) {
	f := newFakeWP(t)
	ch := newChannel(t, f, "")
	f.Endless(fakeservice.Always)
	var err error
	publisherstest.AssertBoundedMemory(t, func() {
		_, err = ch.Publish(context.Background(), publisherstest.Post(1, "Investigating: IMAP logins fail. https://status.example.com/incidents/2026-11-27-imap-pop-login-failures.html"))
	})
	if err == nil || !strings.Contains(err.Error(), "the answer is larger than 4 MiB") || !publishers.Retryable(err) {
		t.Errorf("err = %v, want a retryable error saying the answer is too large", err)
	}
}

// TestSlugSquatting: a post another author made with the slug the bot's
// post would take (a Contributor's pending post) is never adopted: the bot
// creates its own post under a slug no one can guess, says which post took
// the slug, and a retry finds its own post; users/me is asked once.
func TestSlugSquatting(t *testing.T) {
	f := newFakeWP(t)
	c := newChannel(t, f, "")
	p := publisherstest.Post(1, "We are investigating.")
	slug := Slug(p.Incident.ID)
	squat := f.Squat(slug, "pending")
	rec, err := c.Publish(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	own := ownSlug(slug, p.Key)
	if rec.ID == strconv.FormatInt(squat.ID, 10) || rec.Meta["slug"] != own || !strings.Contains(rec.Meta["note"], "the slug "+slug+" is taken by another author's post") {
		t.Fatalf("receipt %+v: want a post of the bot's own, slug %s, and a note on the squatted slug", rec, own)
	}
	if again, err := c.Publish(context.Background(), p); err != nil || again.ID != rec.ID {
		t.Fatalf("retry: %+v, %v: want the bot's own post adopted", again, err)
	}
	posts := f.Posts()
	if len(posts) != 2 || posts[0].Content != "<p>squatted</p>" || posts[0].Status != "pending" || posts[1].Author != wordpresstest.BotID || posts[1].Status != "publish" {
		t.Errorf("posts %+v: want the squatter's untouched and one post by the bot", posts)
	}
	if n := f.Count("GET /wp-json/wp/v2/users/me"); n != 1 {
		t.Errorf("users/me asked %d times, want once", n)
	}

	// Both slugs taken (someone saw the key): a clear error, no post.
	q := publisherstest.Post(1, "Another incident.")
	q.Incident.ID, q.Key = "2026-11-28-smtp", "2026-11-28-smtp/20261128T101500Z-update-wxyz/chan"
	f.Squat(Slug(q.Incident.ID), "pending")
	f.Squat(ownSlug(Slug(q.Incident.ID), q.Key), "draft")
	_, err = c.Publish(context.Background(), q)
	if err == nil || publishers.Retryable(err) || !strings.Contains(err.Error(), "are taken by other authors' posts") {
		t.Fatalf("both slugs taken: err = %v, want a permanent error naming them", err)
	}
	if n := len(f.Posts()); n != 4 {
		t.Errorf("%d posts, want no new one", n)
	}
}

// TestShortcodesNeutralized: WordPress runs shortcodes found in a post's
// content; none in what the responder typed may run, on create or edit.
func TestShortcodesNeutralized(t *testing.T) {
	f := newFakeWP(t)
	c := newChannel(t, f, "")
	p := publisherstest.Post(1, "x")
	p.HTML = `<p>Use [contact-form-7 id="1"] or [embed]https://evil.example/[/embed]; <a href="https://example.com/?a[]=1">status</a></p>`
	rec, err := c.Publish(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	p.Thread = &rec
	if _, err := c.Publish(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	got := f.Posts()[0].Content
	want := `<p>Use &#91;contact-form-7 id="1"] or &#91;embed]https://evil.example/&#91;/embed]; <a href="https://example.com/?a&#91;]=1">status</a></p>`
	if got != want {
		t.Errorf("content = %s, want %s", got, want)
	}
}

// TestFreshPost: the first attempt at a delivery just recorded (Post.Fresh)
// creates the post without looking its slug up first: one request; when
// its answer is lost, the next attempt (not fresh) finds the post instead
// of creating a second one.
func TestFreshPost(t *testing.T) {
	for _, kind := range []publishers.Kind{publishers.KindUpdate, publishers.KindRFO} {
		t.Run(string(kind), func(t *testing.T) {
			f := newFakeWP(t)
			c := newChannel(t, f, "")
			p := publisherstest.Post(1, "We are investigating.")
			p.Kind, p.Fresh = kind, true
			if _, err := c.Publish(context.Background(), p); err != nil {
				t.Fatal(err)
			}
			if got := f.Requests(); len(got) != 1 || got[0] != "POST /wp-json/wp/v2/posts" {
				t.Errorf("a fresh post made the requests %q, want only the create", got)
			}

			f = newFakeWP(t)
			c = newChannel(t, f, "")
			f.DropAnswer(1)
			if _, err := c.Publish(context.Background(), p); err == nil || !publishers.Retryable(err) {
				t.Fatalf("lost answer: err = %v, want a retryable error", err)
			}
			p.Fresh = false
			if _, err := c.Publish(context.Background(), p); err != nil {
				t.Fatal(err)
			}
			if n := len(f.Posts()); n != 1 {
				t.Errorf("%d posts after a fresh attempt with a lost answer and a second attempt, want 1", n)
			}
		})
	}
}
