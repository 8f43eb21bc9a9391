package mailer

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"math/big"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/incident-cli/incident/internal/mailer/mailertest"
	"github.com/incident-cli/incident/publishers"
)

const (
	testUser     = "status@example.com"
	testPassword = "s3cret-smtp-pass"
)

var testNow = time.Date(2026, 11, 27, 10, 15, 0, 0, time.UTC)

func resolver() *publishers.Resolver {
	return &publishers.Resolver{Getenv: func(k string) string {
		if k == "SMTP_PASSWORD" {
			return testPassword
		}
		return ""
	}}
}

func mustSecret(t *testing.T, ref string) publishers.Secret {
	t.Helper()
	s, err := publishers.ParseSecret(ref)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newSender(t *testing.T, url string) *Sender {
	t.Helper()
	s, err := New(Config{URL: url, Username: testUser, Password: mustSecret(t, "env:SMTP_PASSWORD"),
		From: "Example Mail status <status@example.com>"}, resolver(), func() time.Time { return testNow })
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

func newServer(t *testing.T) *mailertest.Server {
	return mailertest.NewServer(mailertest.Options{Username: testUser, Password: testPassword, Reporter: t})
}

func TestSendReadsBack(t *testing.T) {
	srv := newServer(t)
	s := newSender(t, srv.URL)
	first, second := s.MessageID("inc/ev1/announce"), s.MessageID("inc/ev2/announce")
	m := Message{
		To:              []string{"announce@lists.example.com"},
		Subject:         "[Identified] IMAP/POP login failures – Ålesund\r\nBcc: victim@example.org",
		Text:            "We blocked the networks.\r\nMore at https://status.example.com/x\x1b[31m.",
		HTML:            "<!DOCTYPE html><html><body><p>We blocked the networks.</p></body></html>",
		ID:              s.MessageID("inc/ev3/announce"),
		InReplyTo:       second,
		References:      []string{first, second, "not an id", "<two words@x>"},
		ListUnsubscribe: "<mailto:announce-leave@lists.example.com>",
		ListID:          "Example Mail status <announce.lists.example.com>",
		Bulk:            true,
	}
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("server has %d messages, want 1", len(msgs))
	}
	got := msgs[0]
	h := got.Header
	for name, want := range map[string]string{
		"Message-Id":       m.ID,
		"In-Reply-To":      second,
		"References":       first + " " + second,
		"List-Unsubscribe": m.ListUnsubscribe,
		"List-Id":          m.ListID,
		"Precedence":       "bulk",
		"Auto-Submitted":   "auto-generated",
		"To":               "<announce@lists.example.com>",
		"Bcc":              "",
	} {
		if v := h.Get(name); v != want {
			t.Errorf("%s = %q, want %q", name, v, want)
		}
	}
	if got.Subject != "[Identified] IMAP/POP login failures – Ålesund Bcc: victim@example.org" {
		t.Errorf("Subject = %q: CR/LF must not start a header", got.Subject)
	}
	if d, err := h.Date(); err != nil || !d.Equal(testNow) {
		t.Errorf("Date = %v (%v), want the injected clock %v", d, err, testNow)
	}
	if a, err := h.AddressList("From"); err != nil || len(a) != 1 || a[0].Name != "Example Mail status" || a[0].Address != "status@example.com" {
		t.Errorf("From = %v (%v)", a, err)
	}
	if got.From != "status@example.com" || len(got.To) != 1 || got.To[0] != "announce@lists.example.com" || got.User != testUser {
		t.Errorf("envelope = %q -> %v as %q", got.From, got.To, got.User)
	}
	if got.Text != "We blocked the networks.\nMore at https://status.example.com/x[31m." {
		t.Errorf("Text = %q: want the terminal escape's ESC dropped", got.Text)
	}
	if got.HTML != m.HTML {
		t.Errorf("HTML = %q", got.HTML)
	}
}

func TestMessageID(t *testing.T) {
	s := newSender(t, "smtp://127.0.0.1:2525")
	a, b := s.MessageID("inc/ev1/mail"), s.MessageID("inc/ev1/mail")
	if a != b || a == s.MessageID("inc/ev2/mail") {
		t.Errorf("ids %q, %q: want equal for one key, different for another", a, b)
	}
	if !strings.HasPrefix(a, "<") || !strings.HasSuffix(a, "@example.com>") || validID(a) == "" {
		t.Errorf("id %q: want <hex@example.com>", a)
	}
}

// TestRetryKeepsMessageID: a temporary refusal is retryable, and the retry
// carries the same Message-ID, so a receiver that saw both could dedupe.
func TestRetryKeepsMessageID(t *testing.T) {
	srv := newServer(t)
	s := newSender(t, srv.URL)
	m := Message{To: []string{"oncall@example.com"}, Subject: "[CRITICAL] IMAP/POP", Text: "down", ID: s.MessageID("k")}
	srv.Fail(mailertest.StepData, 451, "4.3.0 Try again later", 1)
	err := s.Send(context.Background(), m)
	if err == nil || !publishers.Retryable(err) || !strings.Contains(err.Error(), "451 4.3.0 Try again later") {
		t.Fatalf("first attempt: err = %v, want a retryable error with the server's reply", err)
	}
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatalf("retry: %v", err)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 || msgs[0].Header.Get("Message-Id") != m.ID {
		t.Fatalf("messages = %d, Message-ID %q; want one with %q", len(msgs), msgs[0].Header.Get("Message-Id"), m.ID)
	}
}

func TestFailures(t *testing.T) {
	for _, tc := range []struct {
		name      string
		step      mailertest.Step
		code      int
		text      string
		retryable bool
		want      []string
	}{
		{"login refused", mailertest.StepAuth, 535, "5.7.8 Authentication credentials invalid", false,
			[]string{"login as status@example.com", "535 5.7.8 Authentication credentials invalid", "the environment variable SMTP_PASSWORD"}},
		{"login temporarily unavailable", mailertest.StepAuth, 454, "4.7.0 Temporary authentication failure", true,
			[]string{"454 4.7.0 Temporary authentication failure"}},
		{"sender refused", mailertest.StepMail, 553, "5.7.1 Sender address rejected: not owned by user", false,
			[]string{"MAIL FROM: 553 5.7.1 Sender address rejected", "the server refuses the sender: check `from`"}},
		{"recipient unknown", mailertest.StepRcpt, 550, "5.1.1 No such user", false,
			[]string{"RCPT TO: 550 5.1.1 No such user", "oncall@example.com", "check the address in `to`"}},
		{"greylisted", mailertest.StepRcpt, 450, "4.2.0 Greylisted, come back later", true,
			[]string{"450 4.2.0 Greylisted"}},
		{"message refused", mailertest.StepData, 554, "5.7.1 Spam detected", false,
			[]string{"554 5.7.1 Spam detected"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t)
			s := newSender(t, srv.URL)
			srv.Fail(tc.step, tc.code, tc.text, 1)
			err := s.Send(context.Background(), Message{To: []string{"oncall@example.com"}, Subject: "x", Text: "y"})
			if err == nil {
				t.Fatal("Send succeeded")
			}
			t.Logf("%v", err)
			if publishers.Retryable(err) != tc.retryable {
				t.Errorf("Retryable(%v) = %v, want %v", err, !tc.retryable, tc.retryable)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if !strings.HasPrefix(err.Error(), "smtp "+srv.Addr+": ") {
				t.Errorf("error %q does not start with the server", err)
			}
			assertNoPassword(t, err.Error())
			if len(srv.Messages()) != 0 {
				t.Error("a refused message was stored")
			}
		})
	}
}

// TestPasswordNeverInErrors: a server that echoes what it was sent, in
// every encoding the login used, still shows no password.
func TestPasswordNeverInErrors(t *testing.T) {
	srv := newServer(t)
	s := newSender(t, srv.URL)
	echo := "5.7.8 bad " + testPassword + " / " + base64.StdEncoding.EncodeToString([]byte(testPassword)) +
		" / " + base64.StdEncoding.EncodeToString([]byte("\x00"+testUser+"\x00"+testPassword))
	srv.Fail(mailertest.StepAuth, 535, echo, 1)
	err := s.Send(context.Background(), Message{To: []string{"a@example.com"}, Subject: "x", Text: "y"})
	if err == nil {
		t.Fatal("Send succeeded")
	}
	assertNoPassword(t, err.Error())
	if !strings.Contains(err.Error(), "5.7.8 bad [redacted] / [redacted] / [redacted]") {
		t.Errorf("error %q: want the reply with the password redacted", err)
	}
	srv.Fail(mailertest.StepAuth, 535, echo, 1)
	_, err = s.Verify(context.Background())
	if err == nil {
		t.Fatal("Verify succeeded")
	}
	assertNoPassword(t, err.Error())
}

func assertNoPassword(t *testing.T, s string) {
	t.Helper()
	for _, v := range []string{testPassword, base64.StdEncoding.EncodeToString([]byte(testPassword)),
		base64.StdEncoding.EncodeToString([]byte("\x00" + testUser + "\x00" + testPassword))} {
		if strings.Contains(s, v) {
			t.Errorf("the password (%q) leaked into %q", v, s)
		}
	}
}

// TestHang: a server that stops answering costs one attempt's deadline,
// not more, and the failure is retryable.
func TestHang(t *testing.T) {
	srv := newServer(t)
	s := newSender(t, srv.URL)
	// A listener that accepts and never greets.
	mute, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer mute.Close()
	go func() {
		for {
			c, err := mute.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	for _, tc := range []struct {
		name string
		s    *Sender
		hang func()
	}{
		{"no greeting", newSender(t, "smtp://"+mute.Addr().String()), func() {}},
		{"no answer to MAIL", s, func() { srv.Hang(mailertest.StepMail, 1) }},
		{"no answer to the final dot", s, func() { srv.Hang(mailertest.StepData, 1) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.hang()
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			start := time.Now()
			err := tc.s.Send(ctx, Message{To: []string{"a@example.com"}, Subject: "x", Text: "y"})
			if err == nil || !publishers.Retryable(err) || !strings.Contains(err.Error(), "no answer in time") {
				t.Errorf("err = %v, want a retryable timeout", err)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("the attempt took %s, past its deadline", d)
			}
		})
	}
}

func TestVerify(t *testing.T) {
	srv := newServer(t)
	s := newSender(t, srv.URL)
	who, err := s.Verify(context.Background())
	if err != nil || !strings.Contains(who, "accepted the login of status@example.com") {
		t.Fatalf("Verify = %q, %v", who, err)
	}
	if ok, _ := srv.Logins(); ok != 1 || len(srv.Messages()) != 0 {
		t.Errorf("logins %d, messages %d: want one login and nothing sent", ok, len(srv.Messages()))
	}
	srv.Fail(mailertest.StepAuth, 535, "5.7.8 Authentication failed", 1)
	if _, err := s.Verify(context.Background()); err == nil || publishers.Retryable(err) || !strings.Contains(err.Error(), "SMTP_PASSWORD") {
		t.Errorf("Verify with a refused login: %v", err)
	}
	// Without a login configured, the server refuses mail but Verify only
	// connects.
	open, err := New(Config{URL: srv.URL, From: "a@example.com"}, resolver(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if who, err := open.Verify(context.Background()); err != nil || !strings.Contains(who, "no login configured") {
		t.Errorf("Verify without login = %q, %v", who, err)
	}
	err = open.Send(context.Background(), Message{To: []string{"a@example.com"}, Subject: "x", Text: "y"})
	if err == nil || publishers.Retryable(err) || !strings.Contains(err.Error(), "set `username` and `password`") {
		t.Errorf("Send without login to a server that wants one: %v", err)
	}
}

func TestTLS(t *testing.T) {
	cert, pool := testCert(t, "mail.test")
	good := &tls.Config{Certificates: []tls.Certificate{cert}}
	via := func(s *Sender, addr string) *Sender {
		s.dial = func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		}
		s.rootCAs = pool
		return s
	}
	msg := Message{To: []string{"a@example.com"}, Subject: "x", Text: "y"}

	starttls := mailertest.NewServer(mailertest.Options{Username: testUser, Password: testPassword, TLS: good, Reporter: t})
	s := via(newSender(t, "smtp://mail.test:587"), starttls.Addr)
	if err := s.Send(context.Background(), msg); err != nil {
		t.Fatalf("STARTTLS: %v", err)
	}
	if m := starttls.Messages(); len(m) != 1 || !m[0].TLS || m[0].User != testUser {
		t.Errorf("STARTTLS: the message did not come over TLS with the login: %+v", m)
	}
	if who, err := s.Verify(context.Background()); err != nil || !strings.Contains(who, "mail.test:587 (STARTTLS)") {
		t.Errorf("Verify = %q, %v", who, err)
	}

	implicit := mailertest.NewServer(mailertest.Options{Username: testUser, Password: testPassword, TLS: good, Implicit: true, Reporter: t})
	s = via(newSender(t, "smtps://mail.test"), implicit.Addr)
	if s.port != 465 {
		t.Errorf("smtps default port = %d", s.port)
	}
	if err := s.Send(context.Background(), msg); err != nil {
		t.Fatalf("implicit TLS: %v", err)
	}
	if m := implicit.Messages(); len(m) != 1 || !m[0].TLS {
		t.Errorf("implicit TLS: %+v", m)
	}

	// A server that offers no STARTTLS gets neither the password nor the mail.
	plain := newServer(t)
	err := via(newSender(t, "smtp://mail.test:587"), plain.Addr).Send(context.Background(), msg)
	if err == nil || publishers.Retryable(err) || !strings.Contains(err.Error(), "does not offer STARTTLS") {
		t.Errorf("no STARTTLS: %v", err)
	}
	if ok, refused := plain.Logins(); ok+refused != 0 {
		t.Error("a login was tried without TLS")
	}

	// A certificate for another name is refused, for good.
	s = via(newSender(t, "smtp://other.test:587"), starttls.Addr)
	err = s.Send(context.Background(), msg)
	if err == nil || publishers.Retryable(err) || !strings.Contains(err.Error(), "certificate is not valid for other.test") {
		t.Errorf("wrong certificate: %v", err)
	}
}

func testCert(t *testing.T, host string) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

func TestConfigErrors(t *testing.T) {
	pw := mustSecret(t, "env:SMTP_PASSWORD")
	for _, tc := range []struct {
		c    Config
		want string
	}{
		{Config{From: "a@example.com"}, "`url` is required"},
		{Config{URL: "https://mail.example.com", From: "a@example.com"}, "scheme must be smtp"},
		{Config{URL: "smtp://user:pw@mail.example.com", From: "a@example.com"}, "not in the url"},
		{Config{URL: "smtp://mail.example.com:99999", From: "a@example.com"}, "port must be a number"},
		{Config{URL: "smtp://mail.example.com/x", From: "a@example.com"}, "only scheme://host:port"},
		{Config{URL: "smtp://mail.example.com", From: "a@example.com", Password: pw}, "`username` is not"},
		{Config{URL: "smtp://mail.example.com", From: "a@example.com", Username: "a"}, "`password` is not"},
		{Config{URL: "smtp://mail.example.com"}, "`from` is required"},
		{Config{URL: "smtp://mail.example.com", From: "not an address"}, "is not an email address"},
		{Config{URL: "smtp://mail.example.com", From: "a@"}, "is not an email address"},
	} {
		_, err := New(tc.c, resolver(), nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%+v) = %v, want %q", tc.c, err, tc.want)
		}
	}
	s, err := New(Config{URL: "smtp://mail.example.com", From: "a@example.com"}, resolver(), nil)
	if err != nil || s.port != 587 || s.loopback || s.implicit {
		t.Errorf("smtp:// to a remote host: port %d, loopback %v, implicit %v (%v)", s.port, s.loopback, s.implicit, err)
	}
}

// TestUnresolvedPassword: a secret that does not resolve is a permanent
// error naming the reference, and nothing is contacted.
func TestUnresolvedPassword(t *testing.T) {
	srv := newServer(t)
	s, err := New(Config{URL: srv.URL, Username: testUser, Password: mustSecret(t, "env:NOT_SET"), From: "a@example.com"}, resolver(), nil)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(context.Background(), Message{To: []string{"a@example.com"}, Subject: "x", Text: "y"})
	if err == nil || publishers.Retryable(err) || !strings.Contains(err.Error(), "NOT_SET") {
		t.Errorf("err = %v", err)
	}
	if ok, refused := srv.Logins(); ok+refused != 0 {
		t.Error("the server was contacted")
	}
	var perm interface{ Unwrap() error }
	if !errors.As(err, &perm) {
		t.Error("want a wrapped, permanent error")
	}
}

// BenchmarkSend: one message per attempt, connect to QUIT, to the
// in-process server (what one page or one list update costs besides the
// network): go test ./internal/mailer -bench Send
func BenchmarkSend(b *testing.B) {
	srv := mailertest.NewServer(mailertest.Options{Username: testUser, Password: testPassword})
	defer srv.Close()
	ref, _ := publishers.ParseSecret("env:SMTP_PASSWORD")
	s, err := New(Config{URL: srv.URL, Username: testUser, Password: ref, From: "status@example.com"}, resolver(), nil)
	if err != nil {
		b.Fatal(err)
	}
	m := Message{To: []string{"a@example.com"}, Subject: "[CRITICAL] IMAP/POP", Text: strings.Repeat("line of text\n", 20), HTML: "<p>x</p>"}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m.ID = s.MessageID(strconv.Itoa(i))
		if err := s.Send(context.Background(), m); err != nil {
			b.Fatal(err)
		}
	}
}
