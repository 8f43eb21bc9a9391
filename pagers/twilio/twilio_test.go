package twilio

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/incident-cli/incident/pagers"
	"github.com/incident-cli/incident/pagers/pagerstest"
	"github.com/incident-cli/incident/pagers/twilio/twiliotest"
	"github.com/incident-cli/incident/publishers"
	"github.com/incident-cli/incident/publishers/fakeservice"
	"github.com/incident-cli/incident/publishers/publisherstest"
)

var secrets = map[string]string{"TWILIO_AUTH_TOKEN": twiliotest.DefaultAuthToken}

var page = pagerstest.Page

func newFake(t *testing.T, o twiliotest.Options) *twiliotest.Server {
	o.UserAgent, o.Reporter = "incident/test", t
	return twiliotest.NewServer(o)
}

func tableFor(f *twiliotest.Server, mode string) string {
	return fmt.Sprintf(`url = %q
account_sid = %q
auth_token = "env:TWILIO_AUTH_TOKEN"
from = %q
to = { alice = %q, bob = %q }
mode = %q
`, f.URL, twiliotest.DefaultAccountSID, twiliotest.DefaultFrom, twiliotest.AliceNumber, twiliotest.BobNumber, mode)
}

func newPager(t *testing.T, table string, env map[string]string) *Pager {
	t.Helper()
	prim, md := publisherstest.Decode(t, table)
	p, err := New(prim, md, publisherstest.Env(t, "phone", env))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p.(*Pager)
}

func TestSMS(t *testing.T) {
	f := newFake(t, twiliotest.Options{})
	p := newPager(t, tableFor(f, "sms"), secrets)
	rec, err := p.Page(context.Background(), page(pagers.KindAlert, false, ""))
	if err != nil {
		t.Fatal(err)
	}
	msgs := f.Messages()
	if len(msgs) != 2 || msgs[0].To != twiliotest.AliceNumber || msgs[1].To != twiliotest.BobNumber || msgs[0].From != twiliotest.DefaultFrom {
		t.Fatalf("messages = %+v", msgs)
	}
	want := "[CRITICAL] IMAP/POP: IMAP down\nFiring for 12 minutes: imap1: connection refused.\nAcknowledge: incident ack " + pagerstest.Incident
	if msgs[0].Body != want {
		t.Errorf("body = %q\nwant %q", msgs[0].Body, want)
	}
	if rec.ID != msgs[0].SID+","+msgs[1].SID || strings.Join(rec.To, ",") != "alice,bob" || rec.Meta["mode"] != "sms" || rec.Meta["status"] != "queued,queued" || !rec.At.Equal(publisherstest.Now) {
		t.Errorf("receipt = %+v", rec)
	}
	if len(f.Calls()) != 0 {
		t.Errorf("calls = %v", f.Calls())
	}
}

func TestSMSLongBody(t *testing.T) {
	f := newFake(t, twiliotest.Options{})
	p := newPager(t, tableFor(f, "sms"), secrets)
	pg := page(pagers.KindManual, false, "alice")
	pg.Text = "Please join the bridge \x1b]8;;evil\x07 now. " + strings.Repeat("😀 ", 1000) // 2,000 UTF-16 units of emoji
	if _, err := p.Page(context.Background(), pg); err != nil {
		t.Fatal(err)
	}
	b := f.Messages()[0].Body
	if n := pagers.UTF16Len(b); n > MaxBody || n < MaxBody-3 || !strings.HasSuffix(b, "😀…") || strings.ContainsAny(b, "\x1b\x07") {
		t.Errorf("body: %d UTF-16 units, ends %q", n, b[len(b)-12:])
	}
}

func TestCall(t *testing.T) {
	f := newFake(t, twiliotest.Options{})
	p := newPager(t, tableFor(f, "call"), secrets)
	pg := page(pagers.KindAlert, true, "bob")
	pg.Title = `Disk <full> & "slow"`
	rec, err := p.Page(context.Background(), pg)
	if err != nil {
		t.Fatal(err)
	}
	calls := f.Calls()
	if len(calls) != 1 {
		t.Fatalf("calls = %+v", calls)
	}
	c := calls[0]
	want := `Critical alert: Disk <full> & "slow". Affected: IMAP/POP. imap1: connection refused. Firing for 12 minutes. Acknowledge it with incident ack.`
	if c.To != twiliotest.BobNumber || c.Timeout != 60 || c.Loop != 2 || len(c.Say) != 1 || c.Say[0] != want {
		t.Errorf("call = %+v\nwant say %q", c, want)
	}
	if !strings.Contains(c.Twiml, "Disk &lt;full&gt; &amp; &#34;slow&#34;") {
		t.Errorf("twiml not escaped: %s", c.Twiml)
	}
	if rec.ID != c.SID || rec.Meta["mode"] != "call" || strings.Join(rec.To, ",") != "bob" {
		t.Errorf("receipt = %+v", rec)
	}
	if len(f.Messages()) != 0 {
		t.Errorf("messages = %v", f.Messages())
	}
}

func TestSpeech(t *testing.T) {
	ack := page(pagers.KindAck, false, "")
	manual := page(pagers.KindManual, false, "")
	manual.Summary = "Bring the spare disk.\nThanks."
	test := page(pagers.KindTest, false, "")
	test.Severity, test.Services, test.Since = "", nil, time.Time{}
	long := page(pagers.KindAlert, false, "")
	long.Since = long.Now.Add(-200 * time.Minute)
	tests := []struct {
		pg   pagers.Page
		want string
	}{
		{ack, "Stand down. IMAP down was acknowledged by alice."},
		{manual, "A colleague calls you in about IMAP down. The message: Bring the spare disk. Thanks."},
		{test, "This is a test page from incident. Alert: IMAP down. imap1: connection refused. Acknowledge it with incident ack."},
		{long, "Critical alert: IMAP down. Affected: IMAP/POP. imap1: connection refused. Firing for 3 hours. Acknowledge it with incident ack."},
	}
	for _, tc := range tests {
		if got := Speech(tc.pg); got != tc.want {
			t.Errorf("Speech(%s) = %q\nwant %q", tc.pg.Kind, got, tc.want)
		}
	}
}

func TestTwimlLimit(t *testing.T) {
	for _, text := range []string{strings.Repeat(`"&<>' `, 2000), strings.Repeat("word ", 2000), strings.Repeat("é", 5000)} {
		x := Twiml(text)
		if len(x) > MaxTwiml || len(x) < MaxTwiml-40 || !strings.HasSuffix(x, "…</Say></Response>") {
			t.Errorf("Twiml: %d characters, ends %q", len(x), x[len(x)-30:])
		}
	}
	// The fake takes it: the XML parses.
	f := newFake(t, twiliotest.Options{})
	p := newPager(t, tableFor(f, "call"), secrets)
	pg := page(pagers.KindAlert, true, "alice")
	pg.Summary = strings.Repeat(`a "quoted" <tag> & more `, 300)
	if _, err := p.Page(context.Background(), pg); err != nil {
		t.Fatal(err)
	}
	if c := f.Calls()[0]; len(c.Twiml) > MaxTwiml || !strings.HasSuffix(c.Say[0], "…") {
		t.Errorf("call twiml has %d characters", len(c.Twiml))
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name      string
		opts      twiliotest.Options
		table     func(string) string
		mode      string
		setup     func(f *twiliotest.Server)
		env       map[string]string
		timeout   time.Duration
		wantErr   string
		retryable bool
		retry     time.Duration
	}{
		{name: "invalid To", table: func(s string) string { return strings.Replace(s, twiliotest.BobNumber, twiliotest.InvalidNumber, 1) },
			wantErr: "twilio: text bob: 400 Bad Request: Invalid 'To' Phone Number: +15005550001 (Twilio error 21211) (check bob's number in the pager's `to` table)"},
		{name: "trial, unverified", opts: twiliotest.Options{Trial: true},
			wantErr: "(Twilio error 21608) (a trial account reaches only verified numbers: verify +14155550102 in the Twilio console, or upgrade the account)"},
		{name: "From not ours", opts: twiliotest.Options{Numbers: []string{"+15005550009"}},
			wantErr: "twilio: text bob: 400 Bad Request: The From phone number +15005550006 is not a valid, SMS-capable inbound phone number or short code for your account. (Twilio error 21606) (`from` must be a phone number of this Twilio account that can send SMS)"},
		{name: "call From not ours", mode: "call", opts: twiliotest.Options{Numbers: []string{"+15005550009"}},
			wantErr: "twilio: call bob: 400 Bad Request: The source phone number provided, +15005550006, is not yet verified for your account. You may only make calls from phone numbers that you've verified or purchased from… (Twilio error 21210) (`from` must be a phone number of this Twilio account that can send calls)"},
		{name: "wrong token", env: map[string]string{"TWILIO_AUTH_TOKEN": "0000000000000000000000000000dead"},
			wantErr: "twilio: text bob: 401 Unauthorized: Authenticate (Twilio error 20003) (check `account_sid` and the auth token in the environment variable TWILIO_AUTH_TOKEN (Twilio console, Account info))"},
		{name: "token unset", env: map[string]string{"TWILIO_AUTH_TOKEN": ""},
			wantErr: "twilio: auth_token: secret env:TWILIO_AUTH_TOKEN: the environment variable TWILIO_AUTH_TOKEN is not set"},
		{name: "429", setup: func(f *twiliotest.Server) {
			f.Fail(429, `{"code":20429,"message":"Too Many Requests","more_info":"https://www.twilio.com/docs/errors/20429","status":429}`, map[string]string{"Retry-After": "2"}, 1)
		}, wantErr: "twilio: text bob: 429 Too Many Requests: Too Many Requests (Twilio error 20429)", retryable: true, retry: 2 * time.Second},
		{name: "500", setup: func(f *twiliotest.Server) {
			f.Fail(500, `{"code":20500,"message":"Internal Server Error","status":500}`, nil, 1)
		},
			wantErr: "twilio: text bob: 500 Internal Server Error: Internal Server Error (Twilio error 20500)", retryable: true},
		{name: "503 html", setup: func(f *twiliotest.Server) { f.Fail(503, "<html>maintenance</html>", nil, 1) },
			wantErr: "twilio: text bob: 503 Service Unavailable: <html>maintenance</html>", retryable: true},
		{name: "malformed JSON", setup: func(f *twiliotest.Server) { f.Malformed(1) },
			wantErr: "twilio: text bob: the service answered 201 with a body that is not the JSON expected", retryable: true},
		{name: "timeout", setup: func(f *twiliotest.Server) { f.Hang(1) }, timeout: 100 * time.Millisecond,
			wantErr: "twilio: text bob: context deadline exceeded", retryable: true},
		{name: "credentials echoed", setup: func(f *twiliotest.Server) {
			f.Inject(echoAuth(400))
		}, wantErr: "twilio: text bob: 400 Bad Request: bad request [Authorization: [redacted]]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, tc.opts)
			if tc.setup != nil {
				tc.setup(f)
			}
			mode := tc.mode
			if mode == "" {
				mode = "sms"
			}
			table := tableFor(f, mode)
			if tc.table != nil {
				table = tc.table(table)
			}
			env := map[string]string{}
			for k, v := range secrets {
				env[k] = v
			}
			for k, v := range tc.env {
				env[k] = v
			}
			p := newPager(t, table, env)
			ctx := context.Background()
			if tc.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.timeout)
				defer cancel()
			}
			rec, err := p.Page(ctx, page(pagers.KindAlert, false, "bob"))
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v\nwant %q", err, tc.wantErr)
			}
			if publishers.Retryable(err) != tc.retryable || publishers.RetryAfter(err) != tc.retry {
				t.Errorf("Retryable = %v, RetryAfter = %v; want %v, %v", publishers.Retryable(err), publishers.RetryAfter(err), tc.retryable, tc.retry)
			}
			if rec.ID != "" {
				t.Errorf("receipt = %+v, want none", rec)
			}
			publisherstest.AssertNoSecret(t, err.Error(), twiliotest.DefaultAuthToken, env["TWILIO_AUTH_TOKEN"], f.URL)
		})
	}
}

// echoAuth answers status with the request's Authorization header in the
// body, as a careless proxy would.
func echoAuth(status int) fakeservice.Fault {
	return fakeservice.Fault{Mode: fakeservice.Answer, Status: status, Body: "bad request", EchoAuth: true, Times: 1}
}

func TestWrongAccount(t *testing.T) {
	f := newFake(t, twiliotest.Options{})
	table := strings.Replace(tableFor(f, "sms"), twiliotest.DefaultAccountSID, "AC00000000000000000000000000000000", 1)
	_, err := newPager(t, table, secrets).Page(context.Background(), page(pagers.KindAlert, false, "alice"))
	if err == nil || publishers.Retryable(err) || !strings.Contains(err.Error(), "401 Unauthorized: Authenticate (Twilio error 20003) (check `account_sid`") {
		t.Errorf("err = %v", err)
	}
}

// A retry after a partial failure texts only the person not reached.
func TestPartialFailure(t *testing.T) {
	f := newFake(t, twiliotest.Options{})
	p := newPager(t, tableFor(f, "sms"), secrets)
	failed := false
	f.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		if r.FormValue("To") == twiliotest.AliceNumber && !failed {
			failed = true
			w.WriteHeader(http.StatusServiceUnavailable)
			return true
		}
		return false
	})
	pg := page(pagers.KindAlert, false, "")
	rec, err := p.Page(context.Background(), pg)
	if err == nil || !publishers.Retryable(err) || strings.Join(rec.To, ",") != "bob" {
		t.Fatalf("first attempt: %+v, %v", rec, err)
	}
	rec, err = p.Page(context.Background(), pg)
	if err != nil || strings.Join(rec.To, ",") != "alice,bob" {
		t.Fatalf("retry: %+v, %v", rec, err)
	}
	if m := f.Messages(); len(m) != 2 || m[0].To != twiliotest.BobNumber || m[1].To != twiliotest.AliceNumber {
		t.Errorf("messages = %+v; want bob, then alice once", m)
	}
}

func TestVerify(t *testing.T) {
	f := newFake(t, twiliotest.Options{Trial: true})
	p := newPager(t, tableFor(f, "sms"), secrets)
	got, err := p.Verify(context.Background())
	if want := `account "Example Ops" (` + twiliotest.DefaultAccountSID + ", trial)"; err != nil || got != want {
		t.Errorf("Verify = %q, %v; want %q", got, err, want)
	}
	publisherstest.AssertNoSecret(t, got, twiliotest.DefaultAuthToken)
	if len(f.Messages())+len(f.Calls()) != 0 {
		t.Error("Verify sent something")
	}

	f = newFake(t, twiliotest.Options{Status: "suspended"})
	_, err = newPager(t, tableFor(f, "sms"), secrets).Verify(context.Background())
	if err == nil || err.Error() != `twilio: the account "Example Ops" is suspended, not active; see the Twilio console` {
		t.Errorf("suspended: err = %v", err)
	}
	_, err = newPager(t, tableFor(f, "sms"), map[string]string{"TWILIO_AUTH_TOKEN": "0000000000000000000000000000dead"}).Verify(context.Background())
	if err == nil || !strings.Contains(err.Error(), "twilio: read account: 401 Unauthorized: Authenticate (Twilio error 20003)") {
		t.Errorf("wrong token: err = %v", err)
	}
}

func TestConfig(t *testing.T) {
	env := publisherstest.Env(t, "phone", secrets)
	const sid, tok, from = `account_sid = "AC0123456789abcdef0123456789abcdef"` + "\n", `auth_token = "env:TWILIO_AUTH_TOKEN"` + "\n", `from = "+15005550006"` + "\n"
	to := `to = { alice = "+14155550101" }` + "\n"
	tests := []publisherstest.ConfigCase{
		{tok + from + to, "`account_sid` is required"},
		{`account_sid = "SK123"` + "\n" + tok + from + to, "`account_sid` \"SK123\" is not an account SID"},
		{sid + from + to, "`auth_token` is required"},
		{sid + `auth_token = "f0e1d2c3b4a5968778695a4b3c2d1e0f"` + "\n" + from + to, "secrets are never written in the config"},
		{sid + tok + to, "`from` \"\" must be a phone number"},
		{sid + tok + `from = "415 555 0100"` + "\n" + to, "`from` \"415 555 0100\" must be a phone number of the account in E.164 form"},
		{sid + tok + from, "`to` is required"},
		{sid + tok + from + `to = { alice = "0041 79 555 01 01" }`, `alice's number "0041 79 555 01 01" is not in E.164 form`},
		{sid + tok + from + `to = { "a:b" = "+14155550101" }`, `person "a:b"`},
		{sid + tok + from + to + `mode = "fax"`, "`mode` \"fax\" must be \"sms\" or \"call\""},
		{sid + tok + from + to + `url = "http://api.twilio.example"`, "plain http is allowed only to loopback"},
	}
	pagerstest.AssertConfigErrors(t, New, env, tests, twiliotest.DefaultAuthToken)
	p := newPager(t, sid+tok+from+`to = { bob = "+14155550102", alice = "+14155550101" }`, secrets)
	if p.base != DefaultURL || p.cfg.Mode != "sms" || strings.Join(p.People(), ",") != "alice,bob" {
		t.Errorf("defaults: base %s, mode %s, people %v", p.base, p.cfg.Mode, p.People())
	}
	if got := strings.Join(Keys, ","); got != "name,url,account_sid,auth_token,from,to,mode" {
		t.Errorf("Keys = %s", got)
	}
	if _, ok := any(p).(pagers.Verifier); !ok {
		t.Error("not a Verifier")
	}
	var _ pagers.Factory = New
}
