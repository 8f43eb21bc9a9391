package webhook

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/incident-cli/incident/pagers"
	"github.com/incident-cli/incident/pagers/pagerstest"
	"github.com/incident-cli/incident/pagers/webhook/webhooktest"
	"github.com/incident-cli/incident/publishers"
	"github.com/incident-cli/incident/publishers/fakeservice"
	"github.com/incident-cli/incident/publishers/publisherstest"
)

var secrets = map[string]string{"PAGER_TOKEN": webhooktest.DefaultToken}

func newFake(t *testing.T, o webhooktest.Options) *webhooktest.Server {
	o.UserAgent, o.Reporter = "incident/test", t
	return webhooktest.NewServer(o)
}

func newPager(t *testing.T, table string, env map[string]string) *Pager {
	t.Helper()
	prim, md := publisherstest.Decode(t, table)
	p, err := New(prim, md, publisherstest.Env(t, "bridge", env))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p.(*Pager)
}

func bridge(f *webhooktest.Server, to string) string {
	return fmt.Sprintf("url = %q\nheaders = { Authorization = \"Bearer env:PAGER_TOKEN\" }\n%s", f.HookURL, to)
}

const people = `to = { alice = "@alice:example.org", bob = "@bob:example.org" }`

func TestPageEveryone(t *testing.T) {
	f := newFake(t, webhooktest.Options{})
	p := newPager(t, bridge(f, people), secrets)
	pg := pagerstest.Page(pagers.KindAlert, true, "")
	rec, err := p.Page(context.Background(), pg)
	if err != nil {
		t.Fatal(err)
	}
	docs := f.Deliveries()
	if len(docs) != 2 {
		t.Fatalf("deliveries = %d, want one per person", len(docs))
	}
	d := docs[0]
	if d.Kind != "alert" || d.Key != pg.Key+"/alice" || d.IdempotencyKey != d.Key || d.Incident != pagerstest.Incident ||
		d.Title != "IMAP down" || d.Severity != "critical" || strings.Join(d.Services, ",") != "IMAP/POP" ||
		!d.Since.Equal(pg.Since) || d.Summary != pg.Summary || d.Level != 2 || !d.Urgent || d.Person != "alice" ||
		d.Handle != "@alice:example.org" || d.Subject != pg.Subject || d.Text != pg.Text || d.AckCommand != pg.AckCommand ||
		d.AckedBy != "" || !d.AckedAt.IsZero() || !d.At.Equal(publisherstest.Now) {
		t.Errorf("delivery = %+v", d)
	}
	if docs[1].Person != "bob" || docs[1].Key != pg.Key+"/bob" {
		t.Errorf("second delivery = %+v", docs[1])
	}
	if rec.ID != "page_1,page_2" || strings.Join(rec.To, ",") != "alice,bob" || !rec.At.Equal(publisherstest.Now) {
		t.Errorf("receipt = %+v", rec)
	}
	// A retry of the same page is deduplicated by the receiver.
	if _, err := p.Page(context.Background(), pg); err != nil {
		t.Fatal(err)
	}
	if n := len(f.Deliveries()); n != 2 || len(f.Keys()) != 4 {
		t.Errorf("after a retry: %d deliveries, %d requests; want 2 and 4", n, len(f.Keys()))
	}
}

func TestPageKinds(t *testing.T) {
	f := newFake(t, webhooktest.Options{})
	p := newPager(t, bridge(f, people), secrets)
	ack := pagerstest.Page(pagers.KindAck, false, "bob")
	if _, err := p.Page(context.Background(), ack); err != nil {
		t.Fatal(err)
	}
	d := f.Deliveries()[0]
	if d.Kind != "ack" || d.AckedBy != "alice" || !d.AckedAt.Equal(ack.AckedAt) || d.Key != ack.Key || d.Handle != "@bob:example.org" {
		t.Errorf("ack delivery = %+v", d)
	}
	manual := pagerstest.Page(pagers.KindManual, false, "alice")
	manual.Level, manual.Summary, manual.Key = 0, "Join the bridge \x1b[2J now", "manual-1"
	if _, err := p.Page(context.Background(), manual); err != nil {
		t.Fatal(err)
	}
	if d := f.Deliveries()[1]; d.Kind != "manual" || d.Level != 0 || d.Summary != "Join the bridge [2J now" {
		t.Errorf("manual delivery = %+v", d)
	}
	_, err := p.Page(context.Background(), pagerstest.Page(pagers.KindTest, false, "carol"))
	if err == nil || publishers.Retryable(err) || err.Error() != `webhook: "carol" is not in the pager's `+"`to`"+` table (alice, bob)` {
		t.Errorf("unknown person: err = %v", err)
	}
}

func TestWithoutTable(t *testing.T) {
	f := newFake(t, webhooktest.Options{Plain: true})
	p := newPager(t, bridge(f, ""), secrets)
	if len(p.People()) != 0 {
		t.Errorf("People = %v", p.People())
	}
	pg := pagerstest.Page(pagers.KindAlert, false, "")
	rec, err := p.Page(context.Background(), pg)
	if err != nil || rec.ID != pg.Key || len(rec.To) != 0 {
		t.Fatalf("Page = %+v, %v; want one post, the key as id", rec, err)
	}
	pg = pagerstest.Page(pagers.KindManual, false, "dave")
	if _, err := p.Page(context.Background(), pg); err != nil {
		t.Fatal(err)
	}
	docs := f.Deliveries()
	if len(docs) != 2 || docs[0].Person != "" || docs[1].Person != "dave" || docs[1].Handle != "" || docs[0].Key != pagerstest.Page(pagers.KindAlert, false, "").Key {
		t.Errorf("deliveries = %+v", docs)
	}
}

func TestURLSecret(t *testing.T) {
	f := newFake(t, webhooktest.Options{Path: "/hooks/SECRETpath0123"})
	env := map[string]string{"PAGER_URL": f.HookURL, "PAGER_TOKEN": webhooktest.DefaultToken}
	p := newPager(t, "url = \"env:PAGER_URL\"\nheaders = { Authorization = \"Bearer env:PAGER_TOKEN\" }", env)
	if _, err := p.Page(context.Background(), pagerstest.Page(pagers.KindAlert, false, "")); err != nil {
		t.Fatal(err)
	}
	env["PAGER_URL"] = f.URL + "/hooks/OLDpath0123"
	p = newPager(t, "url = \"env:PAGER_URL\"\nheaders = { Authorization = \"Bearer env:PAGER_TOKEN\" }", env)
	_, err := p.Page(context.Background(), pagerstest.Page(pagers.KindAlert, false, ""))
	if err == nil || err.Error() != "webhook: post page: 404 Not Found: no such hook (check the pager's url)" {
		t.Errorf("err = %v", err)
	}
	publisherstest.AssertNoSecret(t, fmt.Sprint(err), "OLDpath0123", "SECRETpath0123", webhooktest.DefaultToken)
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name      string
		setup     func(f *webhooktest.Server)
		token     string
		timeout   time.Duration
		wantErr   string
		retryable bool
		retry     time.Duration
	}{
		{name: "401", token: "wrong-token-0000", wantErr: "webhook: post page for bob: 401 Unauthorized: missing or invalid bearer token (check the credentials in the pager's headers)"},
		{name: "429", setup: func(f *webhooktest.Server) {
			f.Fail(429, `{"message":"slow down"}`, map[string]string{"Retry-After": "9"}, 1)
		}, wantErr: "webhook: post page for bob: 429 Too Many Requests: slow down", retryable: true, retry: 9 * time.Second},
		{name: "500", setup: func(f *webhooktest.Server) { f.Fail(500, "<h1>oops</h1>", nil, 1) },
			wantErr: "webhook: post page for bob: 500 Internal Server Error: <h1>oops</h1>", retryable: true},
		{name: "timeout", setup: func(f *webhooktest.Server) { f.Hang(1) }, timeout: 100 * time.Millisecond,
			wantErr: "webhook: post page for bob: context deadline exceeded", retryable: true},
		{name: "lost answer", setup: func(f *webhooktest.Server) { f.DropAnswer(1) },
			wantErr: "webhook: post page for bob: ", retryable: true},
		{name: "credentials echoed", setup: func(f *webhooktest.Server) {
			f.Inject(echo(400))
		}, wantErr: "400 Bad Request: refused [Authorization: [redacted]]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, webhooktest.Options{})
			if tc.setup != nil {
				tc.setup(f)
			}
			env := map[string]string{"PAGER_TOKEN": webhooktest.DefaultToken}
			if tc.token != "" {
				env["PAGER_TOKEN"] = tc.token
			}
			p := newPager(t, bridge(f, people), env)
			ctx := context.Background()
			if tc.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.timeout)
				defer cancel()
			}
			rec, err := p.Page(ctx, pagerstest.Page(pagers.KindAlert, false, "bob"))
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
			if publishers.Retryable(err) != tc.retryable || publishers.RetryAfter(err) != tc.retry {
				t.Errorf("Retryable = %v, RetryAfter = %v; want %v, %v", publishers.Retryable(err), publishers.RetryAfter(err), tc.retryable, tc.retry)
			}
			if rec.ID != "" {
				t.Errorf("receipt = %+v", rec)
			}
			publisherstest.AssertNoSecret(t, err.Error(), env["PAGER_TOKEN"], f.URL)
		})
	}
}

// A lost answer, then a retry: the receiver takes the page once.
func TestLostAnswer(t *testing.T) {
	f := newFake(t, webhooktest.Options{})
	p := newPager(t, bridge(f, people), secrets)
	f.DropAnswer(1)
	pg := pagerstest.Page(pagers.KindAlert, false, "")
	rec, err := p.Page(context.Background(), pg)
	if err == nil || !publishers.Retryable(err) || strings.Join(rec.To, ",") != "bob" {
		t.Fatalf("first attempt: %+v, %v; want bob reached and alice's answer lost", rec, err)
	}
	rec, err = p.Page(context.Background(), pg)
	if err != nil || rec.ID != "page_1,page_2" {
		t.Fatalf("retry: %+v, %v", rec, err)
	}
	if n := len(f.Deliveries()); n != 2 {
		t.Errorf("deliveries = %d, want 2", n)
	}
}

func TestConfig(t *testing.T) {
	env := publisherstest.Env(t, "bridge", secrets)
	tests := []publisherstest.ConfigCase{
		{`headers = { X-A = "b" }`, "webhook: `url` is required"},
		{`url = "http://bridge.example.com/x"`, "plain http is allowed only to loopback"},
		{`url = "https://bridge.example.com/x"` + "\nheaders = { Authorization = \"Bearer abc123literal\" }", "Authorization: secrets are never written in the config"},
		{`url = "https://bridge.example.com/x"` + "\nto = { \"al ice\" = \"@a\" }", `person "al ice"`},
		{`url = "https://bridge.example.com/x"` + "\nto = { alice = \"\" }", "alice's handle \"\" must be a non-empty line of text"},
		{`url = "https://bridge.example.com/x"` + "\nto = { alice = \"a\\nb\" }", "must be a non-empty line of text"},
	}
	pagerstest.AssertConfigErrors(t, New, env, tests, "abc123literal")
	if got := strings.Join(Keys, ","); got != "name,url,headers,to" {
		t.Errorf("Keys = %s", got)
	}
	var _ pagers.Factory = New
	var _ pagers.People = &Pager{}
}

// echo answers status with the request's credential headers in the body.
func echo(status int) fakeservice.Fault {
	return fakeservice.Fault{Mode: fakeservice.Answer, Status: status, Body: "refused", EchoAuth: true, Times: 1}
}
