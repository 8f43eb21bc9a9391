package bluesky

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/incident-cli/incident/publishers"
	"github.com/incident-cli/incident/publishers/bluesky/blueskytest"
	"github.com/incident-cli/incident/publishers/fakeservice"
	"github.com/incident-cli/incident/publishers/publisherstest"
)

const link = "https://status.example.com/incidents/2026-11-27-imap-pop-login-failures.html"

const appPassword = blueskytest.DefaultPassword

var tidPattern = blueskytest.TIDPattern

// newFakePDS starts the fake PDS for a test.
func newFakePDS(t *testing.T) *blueskytest.Server {
	return blueskytest.NewServer(blueskytest.Options{UserAgent: "incident/test", Reporter: t})
}

// lastCreate returns the body of the latest createRecord.
func lastCreate(f *blueskytest.Server) map[string]any {
	c := f.Creates()
	if len(c) == 0 {
		return nil
	}
	return c[len(c)-1]
}

const (
	createRecordCall = "POST /xrpc/com.atproto.repo.createRecord"
	getRecordCall    = "GET /xrpc/com.atproto.repo.getRecord"
	getSessionCall   = "GET /xrpc/com.atproto.server.getSession"
)

func bskyConfig(url string) string {
	return fmt.Sprintf("name = \"bluesky\"\ntype = \"bluesky\"\nurl = %q\nidentifier = \"@examplemail.bsky.social\"\napp_password = \"env:BLUESKY_APP_PASSWORD\"\n", url)
}

// newChannel builds a channel on env (whose StateDir holds the session).
func newChannel(t *testing.T, table string, env publishers.Env) *channel {
	t.Helper()
	prim, md := publisherstest.Decode(t, table)
	p, err := New(prim, md, env)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p.(*channel)
}

func testEnv(t *testing.T, password string) publishers.Env {
	return publisherstest.Env(t, "bluesky", map[string]string{"BLUESKY_APP_PASSWORD": password})
}

func text(n int) string {
	return fmt.Sprintf("Störung IMAP/POP — Update %d: Anmeldungen schlagen fehl. %s", n, link)
}

func TestPublishThread(t *testing.T) {
	f := newFakePDS(t)
	ch := newChannel(t, bskyConfig(f.URL), testEnv(t, appPassword))
	var first, latest *publishers.Receipt
	for _, step := range []struct {
		name string
		n    int
		kind publishers.Kind
	}{
		{"first update", 1, publishers.KindUpdate},
		{"second update", 2, publishers.KindUpdate},
		{"third update", 3, publishers.KindUpdate},
		{"RFO", 4, publishers.KindRFO},
	} {
		t.Run(step.name, func(t *testing.T) {
			p := publisherstest.Post(step.n, text(step.n))
			p.Kind, p.Thread, p.Parent, p.Key = step.kind, first, latest, fmt.Sprintf("%s/update-%d/bluesky", p.Incident.ID, step.n)
			r, err := ch.Publish(context.Background(), p)
			if err != nil {
				t.Fatalf("Publish: %v", err)
			}
			rkey, _ := recordKey(p)
			wantURI := "at://" + f.DID + "/app.bsky.feed.post/" + rkey
			if r.ID != wantURI || r.Meta["uri"] != wantURI || !strings.HasPrefix(r.Meta["cid"], "bafyrei") ||
				r.URL != "https://bsky.app/profile/"+f.Handle+"/post/"+rkey || !r.At.Equal(publisherstest.Now) {
				t.Errorf("receipt = %+v, want id %s", r, wantURI)
			}
			var in struct {
				Repo, Collection, Rkey string
				Record                 postRecord
			}
			b, _ := json.Marshal(lastCreate(f))
			json.Unmarshal(b, &in)
			rec := in.Record
			if in.Repo != f.DID || in.Collection != collection || in.Rkey != rkey || rec.Text != p.Text ||
				rec.CreatedAt != "2026-11-27T10:15:00.000Z" {
				t.Errorf("createRecord body = %s", b)
			}
			start := strings.Index(p.Text, "https://")
			if len(rec.Facets) != 1 || rec.Facets[0].Index != (byteSlice{start, len(p.Text)}) || rec.Facets[0].Features[0].URI != link {
				t.Errorf("facets = %+v, want bytes %d-%d", rec.Facets, start, len(p.Text))
			}
			if first == nil {
				if rec.Reply != nil {
					t.Errorf("first post has reply %+v", rec.Reply)
				}
				first = &r
			} else if rec.Reply == nil || rec.Reply.Root != (strongRef{first.ID, first.Meta["cid"]}) ||
				rec.Reply.Parent != (strongRef{latest.ID, latest.Meta["cid"]}) {
				t.Errorf("reply = %+v, want root %s and parent %s", rec.Reply, first.ID, latest.ID)
			}
			latest = &r
		})
	}
	if f.Logins() != 1 {
		t.Errorf("createSession called %d times", f.Logins())
	}
}

func TestSessionReuse(t *testing.T) {
	f := newFakePDS(t)
	env := testEnv(t, appPassword)
	a := newChannel(t, bskyConfig(f.URL), env)
	if _, err := a.Publish(context.Background(), publisherstest.Post(1, text(1))); err != nil {
		t.Fatal(err)
	}
	path := a.sessionFile()
	if filepath.Dir(path) != env.StateDir {
		t.Errorf("session file %s is not in the state directory %s", path, env.StateDir)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("session file: %v, mode %v", err, st)
	}
	b, _ := os.ReadFile(path)
	if strings.Contains(string(b), appPassword) || !strings.Contains(string(b), f.DID) {
		t.Errorf("session file = %s", b)
	}
	// Another run (a new channel on the same state) reuses the session.
	env.Secrets = &publishers.Resolver{Getenv: func(string) string { return "" }} // no password needed
	b2 := newChannel(t, bskyConfig(f.URL), env)
	if _, err := b2.Publish(context.Background(), publisherstest.Post(2, text(2))); err != nil {
		t.Fatal(err)
	}
	if f.Logins() != 1 {
		t.Errorf("createSession called %d times, want 1", f.Logins())
	}
	// Another account on the same PDS has its own file.
	other := newChannel(t, strings.Replace(bskyConfig(f.URL), "examplemail", "other", 1), env)
	if other.sessionFile() == path {
		t.Error("two accounts share a session file")
	}
}

func TestExpiredToken(t *testing.T) {
	for _, revoked := range []bool{false, true} {
		t.Run(fmt.Sprint("refresh token revoked=", revoked), func(t *testing.T) {
			f := newFakePDS(t)
			env := testEnv(t, appPassword)
			ch := newChannel(t, bskyConfig(f.URL), env)
			if _, err := ch.Publish(context.Background(), publisherstest.Post(1, text(1))); err != nil {
				t.Fatal(err)
			}
			f.ExpireAccess()
			if revoked {
				f.RevokeRefresh()
			}
			if _, err := ch.Publish(context.Background(), publisherstest.Post(2, text(2))); err != nil {
				t.Fatalf("Publish after expiry: %v", err)
			}
			wantLogins, wantRefreshes := 1, 1
			if revoked {
				wantLogins, wantRefreshes = 2, 0
			}
			if f.Logins() != wantLogins || f.Refreshes() != wantRefreshes || f.Count(createRecordCall) != 3 {
				t.Errorf("logins %d, refreshes %d, createRecord calls %d", f.Logins(), f.Refreshes(), f.Count(createRecordCall))
			}
			var stored session
			b, _ := os.ReadFile(ch.sessionFile())
			json.Unmarshal(b, &stored)
			if !f.AccessValid(stored.AccessJwt) {
				t.Errorf("the stored session holds a dead access token: %s", b)
			}
		})
	}
}

// TestSessionSharedByRuns: two runs share the stored session; when one has
// refreshed it (which revokes the old refresh token), the other picks up the
// stored session instead of logging in again.
func TestSessionSharedByRuns(t *testing.T) {
	f := newFakePDS(t)
	env := testEnv(t, appPassword)
	a := newChannel(t, bskyConfig(f.URL), env)
	b := newChannel(t, bskyConfig(f.URL), env)
	ctx := context.Background()
	for i, step := range []struct {
		ch     *channel
		expire bool
	}{{a, false}, {b, false}, {a, true}, {b, false}} {
		if step.expire {
			f.ExpireAccess()
		}
		if _, err := step.ch.Publish(ctx, publisherstest.Post(i+1, text(i+1))); err != nil {
			t.Fatalf("publish %d: %v", i+1, err)
		}
	}
	if f.Logins() != 1 || f.Refreshes() != 1 {
		t.Errorf("logins %d, refreshes %d; want 1 and 1", f.Logins(), f.Refreshes())
	}
}

func TestPublishErrors(t *testing.T) {
	for _, tc := range []struct {
		name      string
		password  string
		path      string
		setup     func(f *blueskytest.Server, p *publishers.Post)
		timeout   time.Duration
		status    int
		retryable bool
		retry     time.Duration
		contains  string
	}{
		{name: "401 wrong app password", password: "wxyz-wxyz-wxyz-wxyz", status: 401,
			contains: "create session: 401 Unauthorized: AuthenticationRequired: Invalid identifier or password (check `identifier` and the app password in the environment variable BLUESKY_APP_PASSWORD)"},
		{name: "400 text too long", setup: func(f *blueskytest.Server, p *publishers.Post) { p.Text = strings.Repeat("ä", 301) },
			status: 400, contains: "create post: 400 Bad Request: InvalidRequest: Invalid app.bsky.feed.post record: Record/text must not be longer than 300 graphemes"},
		{name: "404 wrong url", path: "/pds", status: 404, contains: "create session: 404 Not Found: Cannot POST /pds/xrpc/com.atproto.server.createSession (check the channel's `url`"},
		{name: "429 with ratelimit-reset", setup: func(f *blueskytest.Server, p *publishers.Post) {
			f.RateLimit(publisherstest.Now.Add(4*time.Minute), fakeservice.Always)
		}, status: 429, retryable: true, retry: 4 * time.Minute, contains: "create session: 429 Too Many Requests: RateLimitExceeded"},
		{name: "500 on create", setup: func(f *blueskytest.Server, p *publishers.Post) {
			f.Inject(fakeservice.Fault{Mode: fakeservice.Answer, Path: "createRecord", Status: http.StatusInternalServerError,
				Body: `{"error":"InternalServerError","message":"Internal Server Error"}`, Times: fakeservice.Always})
		}, status: 500, retryable: true, contains: "create post: 500 Internal Server Error: InternalServerError"},
		{name: "malformed JSON", setup: func(f *blueskytest.Server, p *publishers.Post) {
			f.Fail(http.StatusOK, `{"accessJwt":`, nil, fakeservice.Always)
		}, retryable: true, contains: "create session: the service answered 200 with a body that is not the JSON expected"},
		{name: "timeout", setup: func(f *blueskytest.Server, p *publishers.Post) { f.Hang(fakeservice.Always) },
			timeout: 50 * time.Millisecond, retryable: true, contains: "create session: context deadline exceeded"},
		{name: "record key taken by another post", setup: func(f *blueskytest.Server, p *publishers.Post) {
			rkey, _ := recordKey(*p)
			f.PutRecord(rkey, blueskytest.Record{URI: "at://" + f.DID + "/app.bsky.feed.post/" + rkey, CID: "bafyreiother", Value: map[string]any{"text": "something else"}})
		}, contains: "create post: record key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakePDS(t)
			pw := appPassword
			if tc.password != "" {
				pw = tc.password
			}
			ch := newChannel(t, bskyConfig(f.URL+tc.path), testEnv(t, pw))
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
			publisherstest.AssertNoSecret(t, msg, append(f.Secrets(), pw)...)
			if !strings.HasPrefix(msg, tc.contains) && !strings.Contains(msg, tc.contains) {
				t.Errorf("error = %q, want %q", msg, tc.contains)
			}
			var he *publishers.HTTPError
			if got := errors.As(err, &he); got != (tc.status != 0) || got && he.Status != tc.status {
				t.Errorf("HTTPError %v, want status %d", he, tc.status)
			}
			if publishers.Retryable(err) != tc.retryable || publishers.RetryAfter(err) != tc.retry {
				t.Errorf("Retryable = %v, RetryAfter = %v; want %v, %v", publishers.Retryable(err), publishers.RetryAfter(err), tc.retryable, tc.retry)
			}
		})
	}
}

// TestLostAnswer: the PDS created the record but the answer never arrived;
// the engine's next attempt with the same post must not post twice.
func TestLostAnswer(t *testing.T) {
	f := newFakePDS(t)
	ch := newChannel(t, bskyConfig(f.URL), testEnv(t, appPassword))
	p := publisherstest.Post(1, text(1))
	f.Inject(fakeservice.Fault{Mode: fakeservice.Drop, Path: "createRecord", Times: 1}) // the record is made, its answer lost
	if _, err := ch.Publish(context.Background(), p); err == nil || !publishers.Retryable(err) {
		t.Fatalf("first attempt: %v, want a retryable error", err)
	}
	r, err := ch.Publish(context.Background(), p)
	if err != nil {
		t.Fatalf("second attempt: %v", err)
	}
	rkey, _ := recordKey(p)
	rec, _ := f.Record(rkey)
	if len(f.Records()) != 1 || r.ID != rec.URI || r.Meta["cid"] != rec.CID {
		t.Errorf("records %v, receipt %+v", f.Records(), r)
	}
	if f.Count(getRecordCall) != 1 {
		t.Errorf("getRecord called %d times", f.Count(getRecordCall))
	}
}

func TestVerify(t *testing.T) {
	f := newFakePDS(t)
	env := testEnv(t, appPassword)
	for i := range 2 {
		who, err := newChannel(t, bskyConfig(f.URL), env).Verify(context.Background())
		if err != nil || who != "@"+f.Handle {
			t.Fatalf("Verify #%d = %q, %v", i+1, who, err)
		}
	}
	if f.Logins() != 1 || f.Count(getSessionCall) != 2 {
		t.Errorf("createSession %d times, getSession %d", f.Logins(), f.Count(getSessionCall))
	}
	_, err := newChannel(t, bskyConfig(f.URL), testEnv(t, "wrong-wrong")).Verify(context.Background())
	if err == nil || !strings.HasPrefix(err.Error(), "create session: 401") {
		t.Errorf("Verify with a wrong password: %v", err)
	}
	publisherstest.AssertNoSecret(t, fmt.Sprint(err), "wrong-wrong")
}

func TestNew(t *testing.T) {
	full := bskyConfig("https://pds.example.com")
	for _, tc := range []struct{ name, table, wantErr string }{
		{"defaults", "identifier = \"a.bsky.social\"\napp_password = \"env:P\"\n", ""},
		{"missing identifier", strings.Replace(full, "identifier", "# identifier", 1), "bluesky: `identifier` is required"},
		{"missing app_password", strings.Replace(full, "app_password", "# app_password", 1), "bluesky: `app_password` is required"},
		{"literal secret", strings.Replace(full, "env:BLUESKY_APP_PASSWORD", appPassword, 1), "secrets are never written in the config"},
		{"plain http", strings.Replace(full, "https://", "http://", 1), "plain http is allowed only to loopback"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prim, md := publisherstest.Decode(t, tc.table)
			p, err := New(prim, md, testEnv(t, ""))
			if tc.wantErr == "" {
				if err != nil || p.(*channel).base != DefaultURL {
					t.Fatalf("New = %v, %v", p, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("New: err = %v, want %q", err, tc.wantErr)
			}
			publisherstest.AssertNoSecret(t, err.Error(), appPassword)
		})
	}
	if !slices.Equal(Keys, []string{"name", "template", "url", "identifier", "app_password"}) {
		t.Errorf("Keys = %v", Keys)
	}
	var _ publishers.Counter = (*channel)(nil)
	var _ publishers.Verifier = (*channel)(nil)
}

// TestEndlessAnswer: a service that streams a 2xx answer without end is
// read only up to the size limit: the attempt fails and memory stays bounded.
func TestEndlessAnswer(t *testing.T) {
	f := newFakePDS(t)
	ch := newChannel(t, bskyConfig(f.URL), testEnv(t, appPassword))
	f.Endless(fakeservice.Always)
	var err error
	publisherstest.AssertBoundedMemory(t, func() {
		_, err = ch.Publish(context.Background(), publisherstest.Post(1, "Investigating: IMAP logins fail. https://status.example.com/incidents/2026-11-27-imap-pop-login-failures.html"))
	})
	if err == nil || !strings.Contains(err.Error(), "the answer is larger than 4 MiB") || !publishers.Retryable(err) {
		t.Errorf("err = %v, want a retryable error saying the answer is too large", err)
	}
}
