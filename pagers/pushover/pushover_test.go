package pushover

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/incident-cli/incident/pagers"
	"github.com/incident-cli/incident/pagers/pagerstest"
	"github.com/incident-cli/incident/pagers/pushover/pushovertest"
	"github.com/incident-cli/incident/publishers"
	"github.com/incident-cli/incident/publishers/publisherstest"
)

var secrets = map[string]string{
	"PUSHOVER_TOKEN": pushovertest.DefaultToken,
	"PUSHOVER_ALICE": pushovertest.AliceKey,
	"PUSHOVER_BOB":   pushovertest.BobKey,
	"PUSHOVER_OPS":   pushovertest.GroupKey,
}

// allSecrets are the values no error, receipt or answer may show.
var allSecrets = []string{pushovertest.DefaultToken, pushovertest.AliceKey, pushovertest.BobKey, pushovertest.GroupKey}

func newFake(t *testing.T) (*pushovertest.Server, *pagerstest.Clock) {
	c := pagerstest.NewClock(publisherstest.Now)
	return pushovertest.NewServer(pushovertest.Options{UserAgent: "incident/test", Now: c.Now, Reporter: t}), c
}

const table = `token = "env:PUSHOVER_TOKEN"
to = { alice = "env:PUSHOVER_ALICE", bob = "env:PUSHOVER_BOB" }
`

func newPager(t *testing.T, f *pushovertest.Server, extra string) *Pager {
	t.Helper()
	prim, md := publisherstest.Decode(t, fmt.Sprintf("url = %q\n", f.URL)+table+extra)
	p, err := New(prim, md, publisherstest.Env(t, "phones", secrets))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p.(*Pager)
}

var page = pagerstest.Page

func TestPageUrgentEveryone(t *testing.T) {
	f, _ := newFake(t)
	p := newPager(t, f, `sound = "siren"`)
	rec, err := p.Page(context.Background(), page(pagers.KindAlert, true, ""))
	if err != nil {
		t.Fatal(err)
	}
	msgs, rcs := f.Messages(), f.Receipts()
	if len(msgs) != 2 || len(rcs) != 2 {
		t.Fatalf("%d messages, %d receipts; want 2 and 2", len(msgs), len(rcs))
	}
	m := msgs[0]
	if m.User != pushovertest.AliceKey || msgs[1].User != pushovertest.BobKey {
		t.Errorf("users = %s, %s; want alice then bob", m.User, msgs[1].User)
	}
	if m.Title != "[CRITICAL] IMAP/POP: IMAP down" || !strings.HasPrefix(m.Message, "Firing for 12 minutes") || m.Priority != 2 ||
		m.Retry != 60 || m.Expire != 3600 || m.Sound != "siren" || m.Timestamp != publisherstest.Now.Unix() ||
		len(m.Tags) != 1 || m.Tags[0] != pagerstest.Incident {
		t.Errorf("message = %+v", m)
	}
	if m.Form.Has("url") || m.Form.Has("url_title") || m.Form.Has("ttl") {
		t.Errorf("form has a url or ttl: %v", m.Form)
	}
	if strings.Join(rec.To, ",") != "alice,bob" || rec.ID != msgs[0].Request+","+msgs[1].Request || !rec.At.Equal(publisherstest.Now) {
		t.Errorf("receipt = %+v", rec)
	}
	if want := rcs[0].ID + "," + rcs[1].ID; rec.Meta["receipt"] != want || rec.Meta["priority"] != "2" {
		t.Errorf("meta = %v, want receipt %s", rec.Meta, want)
	}
	if rec.Meta["app_limit"] != "10000" || rec.Meta["app_remaining"] != "9998" || rec.Meta["app_reset"] == "" {
		t.Errorf("quota meta = %v", rec.Meta)
	}
	publisherstest.AssertNoSecret(t, fmt.Sprint(rec), allSecrets...)
}

func TestPagePriorities(t *testing.T) {
	tests := []struct {
		name     string
		extra    string
		kind     pagers.Kind
		urgent   bool
		priority int
	}{
		{"default", "", pagers.KindAlert, false, 1},
		{"configured", "priority = 0", pagers.KindAlert, false, 0},
		{"urgent", "priority = 0", pagers.KindAlert, true, 2},
		{"ack never wakes", "", pagers.KindAck, true, 0},
		{"ack keeps a lower priority", "priority = -1", pagers.KindAck, false, -1},
		{"test page", "", pagers.KindTest, false, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, _ := newFake(t)
			p := newPager(t, f, tc.extra)
			rec, err := p.Page(context.Background(), page(tc.kind, tc.urgent, "bob"))
			if err != nil {
				t.Fatal(err)
			}
			m := f.Messages()
			if len(m) != 1 || m[0].Priority != tc.priority || m[0].User != pushovertest.BobKey {
				t.Fatalf("messages = %+v, want one to bob at priority %d", m, tc.priority)
			}
			if _, ok := rec.Meta["receipt"]; ok != (tc.priority == 2) {
				t.Errorf("meta = %v", rec.Meta)
			}
			if tc.priority != 2 && (m[0].Form.Has("retry") || m[0].Form.Has("expire")) {
				t.Errorf("retry/expire sent at priority %d", tc.priority)
			}
		})
	}
}

func TestPageText(t *testing.T) {
	f, _ := newFake(t)
	p := newPager(t, f, "")
	pg := page(pagers.KindManual, false, "alice")
	pg.Subject = strings.Repeat("IMAP down on imap1 ", 20) // 380 characters
	pg.Text = "Call in please \x1b[31m\u202e" + strings.Repeat("é", 2000)
	if _, err := p.Page(context.Background(), pg); err != nil {
		t.Fatal(err)
	}
	m := f.Messages()[0]
	if n := utf8.RuneCountInString(m.Title); n > MaxTitle || !strings.HasSuffix(m.Title, "imap1…") {
		t.Errorf("title has %d characters: %q", n, m.Title)
	}
	if n := utf8.RuneCountInString(m.Message); n != MaxMessage || strings.ContainsAny(m.Message, "\x1b\u202e") {
		t.Errorf("message has %d characters, or control characters: %q", n, m.Message[:40])
	}
	// A page without text falls back to the summary.
	pg = page(pagers.KindManual, false, "alice")
	pg.Key += "/2"
	pg.Text = ""
	if _, err := p.Page(context.Background(), pg); err != nil {
		t.Fatal(err)
	}
	if m := f.Messages()[1]; m.Message != "imap1: connection refused" {
		t.Errorf("message = %q, want the summary", m.Message)
	}
}

func TestPageUnknownPerson(t *testing.T) {
	f, _ := newFake(t)
	_, err := newPager(t, f, "").Page(context.Background(), page(pagers.KindAlert, false, "carol"))
	if err == nil || publishers.Retryable(err) || err.Error() != `pushover: "carol" is not in the pager's `+"`to`"+` table (alice, bob)` {
		t.Errorf("err = %v", err)
	}
	if len(f.Requests()) != 0 {
		t.Errorf("requests = %v", f.Requests())
	}
}

// A retry after a partial failure pages only the person not reached.
func TestPartialFailureRetriesOthersOnly(t *testing.T) {
	f, _ := newFake(t)
	p := newPager(t, f, "")
	failed := false
	f.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		if r.FormValue("user") == pushovertest.BobKey && !failed {
			failed = true
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			_, _ = w.Write([]byte("<html>bad gateway</html>"))
			return true
		}
		return false
	})
	pg := page(pagers.KindAlert, true, "")
	rec, err := p.Page(context.Background(), pg)
	if err == nil || !publishers.Retryable(err) || !strings.Contains(err.Error(), "pushover: send to bob: 502 Bad Gateway") {
		t.Fatalf("first attempt: err = %v, want a retryable 502 for bob", err)
	}
	if strings.Join(rec.To, ",") != "alice" || rec.Meta["receipt"] == "" {
		t.Errorf("partial receipt = %+v, want alice's", rec)
	}
	rec, err = p.Page(context.Background(), pg)
	if err != nil {
		t.Fatal(err)
	}
	msgs := f.Messages()
	if len(msgs) != 2 || msgs[0].User != pushovertest.AliceKey || msgs[1].User != pushovertest.BobKey {
		t.Fatalf("messages = %d, want alice once and bob once", len(msgs))
	}
	if strings.Join(rec.To, ",") != "alice,bob" || len(strings.Split(rec.Meta["receipt"], ",")) != 2 {
		t.Errorf("receipt after the retry = %+v", rec)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name      string
		setup     func(f *pushovertest.Server)
		secrets   map[string]string
		timeout   time.Duration
		wantErr   string
		retryable bool
		retry     time.Duration
	}{
		{name: "invalid user key", secrets: map[string]string{"PUSHOVER_BOB": "uXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"},
			wantErr: "pushover: send to bob: 400 Bad Request: user identifier is not a valid user, group, or subscribed user key (check bob's user key in the environment variable PUSHOVER_BOB; it is shown at the top of https://pushover.net once they log in)"},
		{name: "invalid token", secrets: map[string]string{"PUSHOVER_TOKEN": "aXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"},
			wantErr: "pushover: send to bob: 400 Bad Request: application token is invalid (check the application token in the environment variable PUSHOVER_TOKEN; it is the API token of an application at https://pushover.net/apps)"},
		{name: "token not set", secrets: map[string]string{"PUSHOVER_TOKEN": ""},
			wantErr: "pushover: token: secret env:PUSHOVER_TOKEN: the environment variable PUSHOVER_TOKEN is not set"},
		{name: "429 Retry-After", setup: func(f *pushovertest.Server) {
			f.Fail(429, `{"errors":["too many requests"],"status":0,"request":"x"}`, map[string]string{"Retry-After": "30"}, 1)
		}, wantErr: "pushover: send to bob: 429 Too Many Requests: too many requests", retryable: true, retry: 30 * time.Second},
		{name: "over quota", setup: func(f *pushovertest.Server) { f.SetUsed(10000) },
			wantErr: "429 Too Many Requests: application is over its monthly message limit (the application's monthly message limit may be used up", retryable: true},
		{name: "500", setup: func(f *pushovertest.Server) { f.Fail(500, "<h1>Internal Server Error</h1>", nil, 1) },
			wantErr: "pushover: send to bob: 500 Internal Server Error: <h1>Internal Server Error</h1>", retryable: true, retry: 5 * time.Second},
		{name: "503 Retry-After", setup: func(f *pushovertest.Server) { f.Fail(503, "", map[string]string{"Retry-After": "60"}, 1) },
			wantErr: "pushover: send to bob: 503 Service Unavailable", retryable: true, retry: time.Minute},
		{name: "malformed JSON", setup: func(f *pushovertest.Server) { f.Malformed(1) },
			wantErr: "pushover: send to bob: the service answered 200 with a body that is not the JSON expected", retryable: true},
		{name: "timeout", setup: func(f *pushovertest.Server) { f.Hang(1) }, timeout: 100 * time.Millisecond,
			wantErr: "pushover: send to bob: context deadline exceeded", retryable: true},
		{name: "secrets echoed", setup: func(f *pushovertest.Server) {
			f.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
				w.WriteHeader(400)
				_, _ = fmt.Fprintf(w, `{"errors":["bad request: token=%s user=%s"],"status":0}`, r.FormValue("token"), r.FormValue("user"))
				return true
			})
		}, wantErr: "pushover: send to bob: 400 Bad Request: bad request: token=[redacted] user=[redacted]"},
		{name: "redirect", setup: func(f *pushovertest.Server) {
			f.Fail(301, "", map[string]string{"Location": "https://elsewhere.example/1/messages.json"}, 1)
		}, wantErr: "pushover: send to bob: 301 Moved Permanently (the url redirects; use https://api.pushover.net)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, _ := newFake(t)
			if tc.setup != nil {
				tc.setup(f)
			}
			env := map[string]string{}
			for k, v := range secrets {
				env[k] = v
			}
			for k, v := range tc.secrets {
				env[k] = v
			}
			prim, md := publisherstest.Decode(t, fmt.Sprintf("url = %q\n", f.URL)+table)
			p, err := New(prim, md, publisherstest.Env(t, "phones", env))
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if tc.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.timeout)
				defer cancel()
			}
			rec, err := p.Page(ctx, page(pagers.KindAlert, true, "bob"))
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v\nwant %q", err, tc.wantErr)
			}
			if publishers.Retryable(err) != tc.retryable || publishers.RetryAfter(err) != tc.retry {
				t.Errorf("Retryable = %v, RetryAfter = %v; want %v, %v", publishers.Retryable(err), publishers.RetryAfter(err), tc.retryable, tc.retry)
			}
			if rec.ID != "" || len(rec.To) != 0 {
				t.Errorf("receipt = %+v, want none", rec)
			}
			publisherstest.AssertNoSecret(t, err.Error(), append(allSecrets, tc.secrets["PUSHOVER_BOB"], tc.secrets["PUSHOVER_TOKEN"])...)
			publisherstest.AssertNoSecret(t, err.Error(), f.URL)
		})
	}
}

func TestConfig(t *testing.T) {
	env := publisherstest.Env(t, "phones", secrets)
	base := "token = \"env:PUSHOVER_TOKEN\"\n"
	tests := []publisherstest.ConfigCase{
		{`to = { alice = "env:A" }`, "`token` is required"},
		{`token = "azGDORePK8gMaC0QOYAMyEEuzJnyUi"`, "secrets are never written in the config"},
		{base, "`to` is required"},
		{base + `to = { alice = "uQiRzpo4DXghDmr9QzzfQu27cmVRsG" }`, "secrets are never written in the config"},
		{base + `to = { "alice smith" = "env:A" }`, `person "alice smith": a name holds no colon, comma or space`},
		{base + `to = { oncall = "env:A" }`, `"oncall" is not a person`},
		{base + "to = { alice = \"env:A\" }\npriority = 3", "`priority` is 3; it must be -2 (lowest) to 2 (emergency)"},
		{base + "to = { alice = \"env:A\" }\nretry = \"10s\"", "`retry` is 10s; Pushover repeats an emergency at most every 30s"},
		{base + "to = { alice = \"env:A\" }\nexpire = \"4h\"", "`expire` is 4h0m0s; Pushover repeats an emergency for at most 3h"},
		{base + "to = { alice = \"env:A\" }\nexpire = 40\nretry = 60", "`expire` (40s) is shorter than `retry` (1m0s)"},
		{base + "to = { alice = \"env:A\" }\nretry = \"soon\"", `"soon" is not a duration`},
		{base + "to = { alice = \"env:A\" }\nretry = \"30.5s\"", "Pushover counts whole seconds"},
		{base + "to = { alice = \"env:A\" }\nurl = \"http://api.pushover.example\"", "plain http is allowed only to loopback"},
		{base + "to = { alice = \"env:A\" }\nsound = \"../x\"", "is not a sound name"},
	}
	pagerstest.AssertConfigErrors(t, New, env, tests, pushovertest.DefaultToken, pushovertest.AliceKey)

	prim, md := publisherstest.Decode(t, base+"to = { bob = \"env:B\", alice = \"env:A\" }\nretry = 90\nexpire = \"2h\"")
	p, err := New(prim, md, env)
	if err != nil {
		t.Fatal(err)
	}
	pp := p.(*Pager)
	if pp.cfg.Retry.Duration != 90*time.Second || pp.cfg.Expire.Duration != 2*time.Hour || pp.base != DefaultURL || pp.priority != 1 {
		t.Errorf("config = %+v, base %s", pp.cfg, pp.base)
	}
	if got := strings.Join(pp.People(), ","); got != "alice,bob" {
		t.Errorf("People = %s", got)
	}
	if got := strings.Join(Keys, ","); got != "name,url,token,to,priority,retry,expire,sound" {
		t.Errorf("Keys = %s", got)
	}
	var _ pagers.Factory = New
}
