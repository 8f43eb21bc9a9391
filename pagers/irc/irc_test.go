package irc

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/incident-cli/incident/pagers"
	"github.com/incident-cli/incident/pagers/irc/irctest"
	"github.com/incident-cli/incident/publishers"
	"github.com/incident-cli/incident/publishers/publisherstest"
)

const password = "irc-s3cret-pass"

var secrets = map[string]string{"IRC_PASSWORD": password}

// fakeClock moves only when the pager sleeps, so pacing is measured
// without waiting.
type fakeClock struct {
	now    time.Time
	sleeps []time.Duration
}

func (c *fakeClock) Now() time.Time { return c.now }
func (c *fakeClock) Sleep(_ context.Context, d time.Duration) error {
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
	return nil
}

func newPager(t *testing.T, url, extra string) (*Pager, *fakeClock) {
	t.Helper()
	prim, md := publisherstest.Decode(t, "name = \"chat\"\nurl = \""+url+"\"\nnick = \"pager\"\npassword = \"env:IRC_PASSWORD\"\n"+extra)
	pg, err := New(prim, md, publisherstest.Env(t, "chat", secrets))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if u := md.Undecoded(); len(u) != 0 {
		t.Fatalf("undecoded keys: %v", u)
	}
	p := pg.(*Pager)
	clock := &fakeClock{now: publisherstest.Now}
	p.now, p.sleep = clock.Now, clock.Sleep
	p.capWait, p.quitWait = 200*time.Millisecond, 2*time.Second
	return p, clock
}

const team = "[channel.to]\nalice = \"alice\"\nbob = \"bob_oncall\"\n"

func saslServer(t *testing.T, o irctest.Options) *irctest.Server {
	o.Caps = []string{"multi-prefix", "sasl"}
	o.Accounts = map[string]string{"pager": password}
	o.Reporter = t
	return irctest.NewServer(o)
}

func alertPage() pagers.Page {
	now := publisherstest.Now
	return pagers.Page{Key: "inc/page-l1/chat/alice", Kind: pagers.KindAlert, Incident: "2026-11-27-imap-pop-login-failures",
		Title: "IMAP/POP login failures", Severity: "critical", Services: []string{"IMAP/POP"}, Since: now.Add(-12 * time.Minute),
		Summary: "imap01: login failures above 50%", Level: 1,
		AckCommand: "incident ack 2026-11-27-imap-pop-login-failures", Now: now}
}

func commands(lines []irctest.Line) []string {
	var out []string
	for _, l := range lines {
		c, _, _ := strings.Cut(l.Text, " ")
		out = append(out, c)
	}
	return out
}

func TestPageSASL(t *testing.T) {
	srv := saslServer(t, irctest.Options{})
	p, _ := newPager(t, srv.URL+"/#ops", team)
	pg := alertPage()
	pg.Person = "alice"
	rec, err := p.Page(context.Background(), pg)
	if err != nil {
		t.Fatalf("Page: %v", err)
	}
	msgs := srv.Messages()
	if len(msgs) != 5 {
		t.Fatalf("%d messages, want 5: %+v", len(msgs), msgs)
	}
	want := []string{
		"alice: [CRITICAL] IMAP/POP: IMAP/POP login failures",
		"severity critical · IMAP/POP · escalation level 1",
		"Firing since Fri 27 Nov 10:03 UTC (12 min).",
		"imap01: login failures above 50%",
		"Acknowledge: incident ack 2026-11-27-imap-pop-login-failures",
	}
	for i, m := range msgs {
		if m.Command != "NOTICE" || m.Target != "#ops" || m.From != "pager" || m.Text != want[i] {
			t.Errorf("message %d = %+v, want NOTICE #ops %q", i+1, m, want[i])
		}
	}
	cmds := commands(srv.Lines())
	wantCmds := []string{"CAP", "NICK", "USER", "CAP", "AUTHENTICATE", "AUTHENTICATE", "CAP", "JOIN", "NOTICE", "NOTICE", "NOTICE", "NOTICE", "NOTICE", "QUIT"}
	if !slices.Equal(cmds, wantCmds) {
		t.Errorf("commands = %v\nwant       %v", cmds, wantCmds)
	}
	if rec.ID != "irc://irc.test/#ops" || !slices.Equal(rec.To, []string{"alice"}) || rec.Meta["nick"] != "pager" || rec.Meta["lines"] != "5" {
		t.Errorf("receipt = %+v", rec)
	}
}

func TestServerPassword(t *testing.T) {
	srv := irctest.NewServer(irctest.Options{Caps: []string{"multi-prefix"}, Password: password, Reporter: t})
	p, _ := newPager(t, srv.URL+"/#ops", "")
	if _, err := p.Page(context.Background(), pagers.Page{Key: "k", Kind: pagers.KindTest}); err != nil {
		t.Fatalf("Page: %v", err)
	}
	lines := srv.Lines()
	if !slices.ContainsFunc(lines, func(l irctest.Line) bool { return l.Text == "PASS "+password }) ||
		slices.ContainsFunc(lines, func(l irctest.Line) bool { return strings.HasPrefix(l.Text, "AUTHENTICATE") }) {
		t.Errorf("want PASS and no SASL when the server offers none: %v", lines)
	}
	if m := srv.Messages(); len(m) != 2 || m[0].Text != "[TEST] a test page from incident" {
		t.Errorf("test page: %+v", m)
	}

	wrong := irctest.NewServer(irctest.Options{Caps: []string{"multi-prefix"}, Password: "another", Reporter: t})
	p, _ = newPager(t, wrong.URL+"/#ops", "")
	_, err := p.Page(context.Background(), alertPage())
	if err == nil || publishers.Retryable(err) || !strings.Contains(err.Error(), "Access denied: Bad password?") ||
		!strings.Contains(err.Error(), "the environment variable IRC_PASSWORD") || !strings.HasPrefix(err.Error(), "irc 127.0.0.1:") {
		t.Errorf("wrong server password: %v", err)
	}
	publisherstest.AssertNoSecret(t, err.Error(), password)
}

func TestSASLRefused(t *testing.T) {
	srv := irctest.NewServer(irctest.Options{Caps: []string{"sasl"}, Accounts: map[string]string{"pager": "other"}, Reporter: t})
	p, _ := newPager(t, srv.URL+"/#ops", "")
	_, err := p.Page(context.Background(), alertPage())
	if err == nil || publishers.Retryable(err) || !strings.Contains(err.Error(), "SASL login refused for pager: SASL authentication failed") ||
		!strings.Contains(err.Error(), "IRC_PASSWORD") {
		t.Errorf("refused SASL: %v", err)
	}
	publisherstest.AssertNoSecret(t, err.Error(), password)
	if len(srv.Messages()) != 0 {
		t.Error("a page went out after a refused login")
	}
}

// TestSASLChunks: a password long enough that the credentials take more
// than one 400-byte AUTHENTICATE, and one that makes them exactly 400.
func TestSASLChunks(t *testing.T) {
	for _, n := range []int{500, 400*3/4 - len("pager\x00pager\x00")} {
		long := strings.Repeat("p", n)
		srv := irctest.NewServer(irctest.Options{Caps: []string{"sasl"}, Accounts: map[string]string{"pager": long}, Reporter: t})
		prim, md := publisherstest.Decode(t, "url = \""+srv.URL+"/#ops\"\nnick = \"pager\"\npassword = \"env:LONG\"")
		pg, err := New(prim, md, publisherstest.Env(t, "chat", map[string]string{"LONG": long}))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pg.(*Pager).Verify(context.Background()); err != nil {
			t.Errorf("password of %d bytes: %v", n, err)
		}
	}
}

func TestRegistrationVariants(t *testing.T) {
	for _, tc := range []struct {
		name string
		opt  irctest.Options
		nick string
	}{
		{"no CAP (421)", irctest.Options{}, "pager"},
		{"CAP LS ignored", irctest.Options{Caps: []string{"sasl"}, SilentCap: true}, "pager"},
		{"nick in use", irctest.Options{Caps: []string{"sasl"}, Accounts: map[string]string{"pager": password}, Taken: []string{"pager", "pager_"}}, "pager__"},
		{"PING before welcome", irctest.Options{PingFirst: true}, "pager"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opt.Reporter = t
			srv := irctest.NewServer(tc.opt)
			p, _ := newPager(t, srv.URL+"/#ops", "")
			rec, err := p.Page(context.Background(), alertPage())
			if err != nil {
				t.Fatalf("Page: %v", err)
			}
			if rec.Meta["nick"] != tc.nick || len(srv.Messages()) == 0 || srv.Messages()[0].From != tc.nick {
				t.Errorf("nick %q (receipt %+v), want %q", srv.Messages()[0].From, rec, tc.nick)
			}
		})
	}
}

func TestRefusals(t *testing.T) {
	for _, tc := range []struct {
		name string
		opt  irctest.Options
		url  string
		want string
	}{
		{"full", irctest.Options{ChannelErrors: map[string]int{"#ops": 471}}, "/#ops", "cannot join #ops: 471 Cannot join channel (the channel is full (+l)"},
		{"invite only", irctest.Options{ChannelErrors: map[string]int{"#ops": 473}}, "/#ops", "invite the nick"},
		{"banned", irctest.Options{ChannelErrors: map[string]int{"#ops": 474}}, "/#ops", "banned from the channel"},
		{"keyed", irctest.Options{ChannelErrors: map[string]int{"#ops": 475}}, "/#ops", "has a key (+k)"},
		{"moderated", irctest.Options{Moderated: []string{"#ops"}}, "/#ops", "the server refused the message to #ops: 404 Cannot send to channel (+m)"},
		{"no such nick", irctest.Options{}, "/carol", "the server refused the message to carol: 401 No such nick"},
		{"nick refused", irctest.Options{Taken: []string{"pager", "pager_", "pager__", "pager___", "pager____", "pager_____"}}, "/#ops", "are all in use"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opt.Reporter = t
			srv := irctest.NewServer(tc.opt)
			p, _ := newPager(t, srv.URL+tc.url, "")
			_, err := p.Page(context.Background(), alertPage())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			t.Logf("%v", err)
			if tc.name != "nick refused" && publishers.Retryable(err) {
				t.Errorf("%v: want permanent", err)
			}
		})
	}
}

func TestPrivateMessage(t *testing.T) {
	srv := irctest.NewServer(irctest.Options{Online: []string{"alice"}, Reporter: t})
	p, _ := newPager(t, srv.URL+"/alice", "notice = false\n"+team)
	pg := alertPage()
	pg.Person = "alice"
	if _, err := p.Page(context.Background(), pg); err != nil {
		t.Fatal(err)
	}
	m := srv.Messages()
	if len(m) == 0 || m[0].Command != "PRIVMSG" || m[0].Target != "alice" || strings.HasPrefix(m[0].Text, "alice:") {
		t.Errorf("messages = %+v: want PRIVMSG to alice, without a highlight prefix", m)
	}
	if slices.Contains(commands(srv.Lines()), "JOIN") {
		t.Error("joined a channel for a private message")
	}
}

func TestNoticeFalse(t *testing.T) {
	srv := irctest.NewServer(irctest.Options{Reporter: t})
	p, _ := newPager(t, srv.URL+"/#ops", "notice = false")
	if _, err := p.Page(context.Background(), alertPage()); err != nil {
		t.Fatal(err)
	}
	if m := srv.Messages(); len(m) == 0 || m[0].Command != "PRIVMSG" {
		t.Errorf("notice = false: %+v", m)
	}
}

// TestInjection: a hostile alert tries to end our line and send commands
// of its own; the server sees only our commands, and only #ops gets text.
func TestInjection(t *testing.T) {
	srv := irctest.NewServer(irctest.Options{Reporter: t})
	p, _ := newPager(t, srv.URL+"/#ops", "")
	pg := alertPage()
	pg.Title = "IMAP\r\nJOIN #secret\r\nPRIVMSG #secret :owned"
	pg.Summary = "disk full\nQUIT :bye\x00\rPRIVMSG NickServ :IDENTIFY hunter2\x03" + "4red\x02bold\x1b[31m"
	if _, err := p.Page(context.Background(), pg); err != nil {
		t.Fatal(err)
	}
	for _, l := range srv.Lines() {
		cmd, rest, _ := strings.Cut(l.Text, " ")
		switch cmd {
		case "CAP", "PASS", "NICK", "USER", "JOIN", "QUIT":
			if cmd == "JOIN" && rest != "#ops" || cmd == "QUIT" && rest != ":page sent" {
				t.Errorf("injected: %q", l.Text)
			}
		case "NOTICE":
			if !strings.HasPrefix(rest, "#ops :") {
				t.Errorf("a notice to another target: %q", l.Text)
			}
		default:
			t.Errorf("unexpected line %q", l.Text)
		}
	}
	for _, m := range srv.Messages() {
		if strings.ContainsFunc(m.Text, func(r rune) bool { return r < ' ' }) {
			t.Errorf("control characters reached the channel: %q", m.Text)
		}
	}
}

// TestLongPage: a summary of 3,000 bytes of multi-byte text is cut into
// lines that fit 512 bytes as the server relays them, at most MaxLines.
func TestLongPage(t *testing.T) {
	srv := irctest.NewServer(irctest.Options{Reporter: t}) // reports any relayed line over 512 bytes
	p, clock := newPager(t, srv.URL+"/#ops", "")
	pg := alertPage()
	pg.Summary = strings.Repeat("Ålesund-IMAP-ø ", 200)
	if _, err := p.Page(context.Background(), pg); err != nil {
		t.Fatal(err)
	}
	msgs := srv.Messages()
	if len(msgs) != MaxLines || !strings.HasSuffix(msgs[MaxLines-1].Text, " …") {
		t.Fatalf("%d lines, last %q: want %d, cut with …", len(msgs), msgs[len(msgs)-1].Text, MaxLines)
	}
	for _, m := range msgs {
		if !utf8.ValidString(m.Text) || len(m.Relayed)+2 > maxLine {
			t.Errorf("line of %d bytes relayed, valid UTF-8 %v", len(m.Relayed)+2, utf8.ValidString(m.Text))
		}
	}
	// JOIN and six lines: five at once, then one every 2 s.
	if !slices.Equal(clock.sleeps, []time.Duration{2 * time.Second, 2 * time.Second}) {
		t.Errorf("sleeps = %v, want 2 s twice (burst 5, then 1 per 2 s)", clock.sleeps)
	}
}

func TestBucket(t *testing.T) {
	clock := &fakeClock{now: publisherstest.Now}
	b := newBucket(5, 2*time.Second, clock.Now, clock.Sleep)
	for range 8 {
		if err := b.take(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Equal(clock.sleeps, []time.Duration{2 * time.Second, 2 * time.Second, 2 * time.Second}) {
		t.Errorf("sleeps for 8 lines = %v, want three of 2 s", clock.sleeps)
	}
	clock.sleeps = nil
	clock.now = clock.now.Add(time.Minute) // idle: the burst is back, not more
	for range 6 {
		_ = b.take(context.Background())
	}
	if !slices.Equal(clock.sleeps, []time.Duration{2 * time.Second}) {
		t.Errorf("after a pause: sleeps = %v, want one of 2 s", clock.sleeps)
	}
	clock.sleeps = nil
	clock.now = clock.now.Add(time.Second) // half a token back
	_ = b.take(context.Background())
	if !slices.Equal(clock.sleeps, []time.Duration{time.Second}) {
		t.Errorf("half a token: sleeps = %v, want 1 s", clock.sleeps)
	}
}

func TestSplit(t *testing.T) {
	for _, tc := range []struct {
		text string
		n    int
		want []string
	}{
		{"short", 20, []string{"short"}},
		{"one two three four five six", 16, []string{"one two three", "four five six"}},
		{strings.Repeat("é", 10), 16, []string{strings.Repeat("é", 8), strings.Repeat("é", 2)}},
		{strings.Repeat("x", 40), 16, []string{strings.Repeat("x", 16), strings.Repeat("x", 16), strings.Repeat("x", 8)}},
	} {
		if got := split(tc.text, tc.n); !slices.Equal(got, tc.want) {
			t.Errorf("split(%q, %d) = %q, want %q", tc.text, tc.n, got, tc.want)
		}
	}
}

func TestParse(t *testing.T) {
	m := parse("@time=2026-11-27T10:15:00Z :nick!~u@host PRIVMSG #ops :hello there")
	if m.prefix != "nick!~u@host" || m.command != "PRIVMSG" || !slices.Equal(m.params, []string{"#ops", "hello there"}) || m.nick() != "nick" {
		t.Errorf("parse = %+v", m)
	}
	if m := parse("PING :irc.test"); m.command != "PING" || m.param(0) != "irc.test" || m.prefix != "" {
		t.Errorf("parse = %+v", m)
	}
	if m := parse(":irc.test CAP * LS * :sasl multi-prefix"); m.param(2) != "*" || m.param(3) != "sasl multi-prefix" {
		t.Errorf("parse = %+v", m)
	}
	if m := parse(":s 433 * pager :Nickname is already in use"); m.command != "433" || m.text() != "Nickname is already in use" {
		t.Errorf("parse = %+v", m)
	}
}

// TestHang: a server that accepts and never answers costs one deadline.
func TestHang(t *testing.T) {
	srv := irctest.NewServer(irctest.Options{Hang: true, Reporter: t})
	p, _ := newPager(t, srv.URL+"/#ops", "")
	p.capWait = time.Minute
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := p.Page(ctx, alertPage())
	if err == nil || !publishers.Retryable(err) {
		t.Errorf("err = %v, want retryable", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s, past the deadline", d)
	}
}

// TestKeepOpen: a server that does not close after QUIT is not a failure:
// everything was sent and nothing refused.
func TestKeepOpen(t *testing.T) {
	srv := irctest.NewServer(irctest.Options{KeepOpen: true, Reporter: t})
	p, _ := newPager(t, srv.URL+"/#ops", "")
	p.quitWait = 100 * time.Millisecond
	if _, err := p.Page(context.Background(), alertPage()); err != nil {
		t.Errorf("Page: %v", err)
	}
}

func TestVerify(t *testing.T) {
	srv := saslServer(t, irctest.Options{})
	p, _ := newPager(t, srv.URL+"/#ops", "")
	who, err := p.Verify(context.Background())
	if err != nil || who != "irc.test accepted pager (SASL)" {
		t.Errorf("Verify = %q, %v", who, err)
	}
	if len(srv.Messages()) != 0 || slices.Contains(commands(srv.Lines()), "JOIN") {
		t.Error("Verify joined or sent something")
	}
}

var (
	_ pagers.Pager    = (*Pager)(nil)
	_ pagers.People   = (*Pager)(nil)
	_ pagers.Verifier = (*Pager)(nil)
)

// BenchmarkPage: one page, connect to QUIT, against the fake server with
// SASL (pacing skipped by the fake clock; a real server adds its own):
// go test ./pagers/irc -bench Page
func BenchmarkPage(b *testing.B) {
	srv := irctest.NewServer(irctest.Options{Caps: []string{"sasl"}, Accounts: map[string]string{"pager": password}})
	defer srv.Close()
	prim, md := publisherstest.Decode(b, "url = \""+srv.URL+"/#ops\"\nnick = \"pager\"\npassword = \"env:IRC_PASSWORD\"")
	pg, err := New(prim, md, publisherstest.Env(b, "chat", secrets))
	if err != nil {
		b.Fatal(err)
	}
	p := pg.(*Pager)
	clock := &fakeClock{now: publisherstest.Now}
	p.now, p.sleep = clock.Now, clock.Sleep
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := p.Page(context.Background(), alertPage()); err != nil {
			b.Fatal(err)
		}
	}
}
