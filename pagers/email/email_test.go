package email

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/incident-cli/incident/internal/mailer/mailertest"
	"github.com/incident-cli/incident/pagers"
	"github.com/incident-cli/incident/publishers"
	"github.com/incident-cli/incident/publishers/publisherstest"
)

const (
	user     = "pager@example.com"
	password = "pager-smtp-s3cret"
)

var secrets = map[string]string{"SMTP_PASSWORD": password}

func newPager(t *testing.T, srv *mailertest.Server, to string) *Pager {
	t.Helper()
	table := fmt.Sprintf("name = \"mail\"\nurl = %q\nusername = %q\npassword = \"env:SMTP_PASSWORD\"\nfrom = \"incident pager <pager@example.com>\"\n%s", srv.URL, user, to)
	prim, md := publisherstest.Decode(t, table)
	p, err := New(prim, md, publisherstest.Env(t, "mail", secrets))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if len(md.Undecoded()) != 0 {
		t.Fatalf("undecoded keys: %v", md.Undecoded())
	}
	return p.(*Pager)
}

const people = "[channel.to]\nalice = \"alice@example.com\"\nbob = \"bob@example.net\"\n"

func newServer(t *testing.T) *mailertest.Server {
	return mailertest.NewServer(mailertest.Options{Username: user, Password: password, Reporter: t})
}

// alertPage is a level-1 page for alice, as the runbook would send it
// without rendered text.
func alertPage() pagers.Page {
	now := publisherstest.Now
	return pagers.Page{
		Key: "2026-11-27-imap-pop-login-failures/20261127T101500Z-page-l1/mail/alice", Kind: pagers.KindAlert,
		Incident: "2026-11-27-imap-pop-login-failures", Title: "IMAP/POP login failures", Severity: "critical",
		Services: []string{"IMAP/POP"}, Since: now.Add(-12 * time.Minute), Summary: "imap01: login failures above 50%",
		Level: 1, Urgent: false, Person: "alice", AckCommand: "incident ack 2026-11-27-imap-pop-login-failures", Now: now,
	}
}

func TestPageReadsBackAndThreads(t *testing.T) {
	srv := newServer(t)
	p := newPager(t, srv, people)
	ctx := context.Background()

	first := alertPage()
	rec1, err := p.Page(ctx, first)
	if err != nil {
		t.Fatalf("first page: %v", err)
	}
	second := alertPage()
	second.Key, second.Level, second.Thread = strings.Replace(first.Key, "l1", "l2", 1), 2, &rec1
	second.Subject, second.Text = "[CRITICAL] IMAP/POP: rendered by the runbook", "Rendered body.\nincident ack X\n"
	rec2, err := p.Page(ctx, second)
	if err != nil {
		t.Fatalf("second page: %v", err)
	}
	ack := alertPage()
	ack.Key, ack.Kind, ack.Person, ack.Thread = strings.Replace(first.Key, "l1", "ack", 1), pagers.KindAck, "", &rec1
	ack.AckedBy, ack.AckedAt = "bob", publisherstest.Now.Add(2*time.Minute)
	rec3, err := p.Page(ctx, ack)
	if err != nil {
		t.Fatalf("ack page: %v", err)
	}

	msgs := srv.Messages()
	if len(msgs) != 3 {
		t.Fatalf("server has %d messages, want 3", len(msgs))
	}
	m := msgs[0]
	if m.Subject != "[CRITICAL] IMAP/POP: IMAP/POP login failures" {
		t.Errorf("subject = %q", m.Subject)
	}
	if !slices.Equal(m.To, []string{"alice@example.com"}) || m.Header.Get("To") != "<alice@example.com>" {
		t.Errorf("first page went to %v (To: %s), want alice alone", m.To, m.Header.Get("To"))
	}
	for _, want := range []string{"IMAP/POP login failures\n", "severity critical · IMAP/POP · escalation level 1",
		"(12 min)", "imap01: login failures above 50%", "Acknowledge: incident ack 2026-11-27-imap-pop-login-failures"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("first page body lacks %q:\n%s", want, m.Text)
		}
	}
	if m.HTML != "" || strings.Contains(m.Text, "http") {
		t.Errorf("a page is plain text with no link: %q / %q", m.Text, m.HTML)
	}
	if rec1.ID != p.sender.MessageID(first.Key) || m.Header.Get("Message-Id") != rec1.ID || m.Header.Get("In-Reply-To") != "" {
		t.Errorf("first page: receipt %q, Message-ID %q, In-Reply-To %q", rec1.ID, m.Header.Get("Message-Id"), m.Header.Get("In-Reply-To"))
	}
	if !slices.Equal(rec1.To, []string{"alice"}) || !rec1.At.Equal(publisherstest.Now) {
		t.Errorf("receipt = %+v: want alice by name, at the injected time", rec1)
	}
	for i, r := range []pagers.Receipt{rec2, rec3} {
		h := msgs[i+1].Header
		if h.Get("Message-Id") != r.ID || r.ID == rec1.ID || h.Get("In-Reply-To") != rec1.ID || h.Get("References") != rec1.ID {
			t.Errorf("page %d: Message-ID %q (receipt %q), In-Reply-To %q, References %q; want both to point at %q",
				i+2, h.Get("Message-Id"), r.ID, h.Get("In-Reply-To"), h.Get("References"), rec1.ID)
		}
	}
	if msgs[1].Subject != second.Subject || msgs[1].Text != second.Text {
		t.Errorf("rendered page not used as given: %q / %q", msgs[1].Subject, msgs[1].Text)
	}
	if msgs[2].Subject != "[CRITICAL] IMAP/POP: IMAP/POP login failures (acknowledged by bob)" ||
		!strings.HasPrefix(msgs[2].Text, "Acknowledged by bob at Fri 27 Nov 10:17 UTC") || strings.Contains(msgs[2].Text, "Acknowledge:") {
		t.Errorf("ack page: %q\n%s", msgs[2].Subject, msgs[2].Text)
	}
	if !slices.Equal(msgs[2].To, []string{"alice@example.com", "bob@example.net"}) || !slices.Equal(rec3.To, []string{"alice", "bob"}) {
		t.Errorf("a page for no one in particular went to %v (receipt %v), want everyone", msgs[2].To, rec3.To)
	}
	if got := msgs[0].Header.Get("Auto-Submitted"); got != "auto-generated" || msgs[0].Header.Get("Precedence") != "" {
		t.Errorf("Auto-Submitted %q, Precedence %q: a page is automatic but not bulk", got, msgs[0].Header.Get("Precedence"))
	}
}

// TestRetryKeepsMessageID: a greylisting server refuses once; the retry
// (the runbook's, with the same key) carries the same Message-ID.
func TestRetryKeepsMessageID(t *testing.T) {
	srv := newServer(t)
	p := newPager(t, srv, people)
	srv.Fail(mailertest.StepRcpt, 451, "4.7.1 Greylisted, try again in 60 seconds", 1)
	pg := alertPage()
	_, err := p.Page(context.Background(), pg)
	if err == nil || !publishers.Retryable(err) || !strings.HasPrefix(err.Error(), "email: smtp ") || !strings.Contains(err.Error(), "451 4.7.1 Greylisted") {
		t.Fatalf("first attempt: %v, want a retryable error with the server's reply", err)
	}
	rec, err := p.Page(context.Background(), pg)
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 || msgs[0].Header.Get("Message-Id") != rec.ID || rec.ID != p.sender.MessageID(pg.Key) {
		t.Errorf("%d messages; Message-ID %q, receipt %q", len(msgs), msgs[0].Header.Get("Message-Id"), rec.ID)
	}
}

func TestPeopleAndTargets(t *testing.T) {
	srv := newServer(t)
	team := newPager(t, srv, people)
	if got := team.People(); !slices.Equal(got, []string{"alice", "bob"}) {
		t.Errorf("People() = %v", got)
	}
	list := newPager(t, srv, `to = ["oncall@example.com", "Ops <ops@example.com>"]`)
	if got := list.People(); len(got) != 0 {
		t.Errorf("People() of a list = %v, want none", got)
	}
	for _, tc := range []struct {
		p      *Pager
		person string
		want   string
	}{
		{team, "carol", `no person "carol" in ` + "`to`" + ` of pager "mail" (people: alice, bob)`},
		{list, "alice", `cannot page "alice" by name`},
	} {
		pg := alertPage()
		pg.Person = tc.person
		_, err := tc.p.Page(context.Background(), pg)
		if err == nil || publishers.Retryable(err) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("page %q: %v, want a permanent %q", tc.person, err, tc.want)
		}
	}
	pg := alertPage()
	pg.Person = ""
	rec, err := list.Page(context.Background(), pg)
	if err != nil {
		t.Fatal(err)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 || !slices.Equal(msgs[0].To, []string{"oncall@example.com", "ops@example.com"}) || len(rec.To) != 0 {
		t.Errorf("list page: %d messages to %v, receipt names %v", len(msgs), msgs[0].To, rec.To)
	}
}

// TestHostileAlert: an alert's summary and title come from monitoring
// payloads; nothing in them may add a header, a recipient or a terminal
// escape.
func TestHostileAlert(t *testing.T) {
	srv := newServer(t)
	p := newPager(t, srv, people)
	pg := alertPage()
	pg.Title = "IMAP down\r\nBcc: everyone@example.org"
	pg.Summary = "disk full\r\n\r\nSubject: fake\x1b]8;;https://evil.example/\x07click\x1b]8;;\x07"
	if _, err := p.Page(context.Background(), pg); err != nil {
		t.Fatal(err)
	}
	m := srv.Messages()[0]
	if len(m.To) != 1 || m.Header.Get("Bcc") != "" || m.Subject != "[CRITICAL] IMAP/POP: IMAP down Bcc: everyone@example.org" {
		t.Errorf("headers injected: to %v, subject %q, Bcc %q", m.To, m.Subject, m.Header.Get("Bcc"))
	}
	if strings.ContainsAny(m.Text, "\x1b\x07\r") {
		t.Errorf("control characters reached the body: %q", m.Text)
	}
}

func TestTestPage(t *testing.T) {
	srv := newServer(t)
	p := newPager(t, srv, people)
	_, err := p.Page(context.Background(), pagers.Page{Key: "test/1", Kind: pagers.KindTest, Person: "bob", Now: publisherstest.Now})
	if err != nil {
		t.Fatal(err)
	}
	m := srv.Messages()[0]
	if m.Subject != "[TEST] a test page from incident" || !strings.Contains(m.Text, "nothing is wrong") || !slices.Equal(m.To, []string{"bob@example.net"}) {
		t.Errorf("test page: %q to %v\n%s", m.Subject, m.To, m.Text)
	}
}

func TestVerifyAndSecrets(t *testing.T) {
	srv := newServer(t)
	p := newPager(t, srv, people)
	who, err := p.Verify(context.Background())
	if err != nil || !strings.Contains(who, "accepted the login of pager@example.com") || len(srv.Messages()) != 0 {
		t.Errorf("Verify = %q, %v (messages: %d)", who, err, len(srv.Messages()))
	}
	srv.Fail(mailertest.StepAuth, 535, "5.7.8 Authentication failed for "+password, 2)
	_, err = p.Verify(context.Background())
	if err == nil || publishers.Retryable(err) || !strings.Contains(err.Error(), "SMTP_PASSWORD") {
		t.Errorf("Verify with a refused login: %v", err)
	}
	_, perr := p.Page(context.Background(), alertPage())
	if perr == nil || publishers.Retryable(perr) {
		t.Errorf("page with a refused login: %v, want permanent", perr)
	}
	for _, e := range []error{err, perr} {
		if e != nil {
			publisherstest.AssertNoSecret(t, e.Error(), password)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	env := publisherstest.Env(t, "mail", secrets)
	base := "url = \"smtp://127.0.0.1:2525\"\nfrom = \"pager@example.com\"\n"
	for _, tc := range [][2]string{
		{base, "`to` is required"},
		{base + `to = ["not an address"]`, `email: to: "not an address" is not an email address`},
		{base + "[channel.to]\nalice = \"alice@\"", "to.alice"},
		{base + "[channel.to]\n\"al ice\" = \"a@example.com\"", "names are single words"},
		{base + `to = [1]`, "entry 1 is not a string"},
		{base + `to = "a@example.com"`, "want a list of addresses or a table"},
		{"from = \"a@example.com\"\nto = [\"a@example.com\"]", "`url` is required"},
		{base + "password = \"" + password + "\"\nusername = \"u\"\nto = [\"a@example.com\"]", "secrets are never written in the config"},
		{"url = \"smtp://127.0.0.1\"\nto = [\"a@example.com\"]", "`from` is required"},
	} {
		prim, md := publisherstest.Decode(t, tc[0])
		_, err := New(prim, md, env)
		if err == nil || !strings.Contains(err.Error(), tc[1]) {
			t.Errorf("New(%q) = %v, want %q", tc[0], err, tc[1])
		}
		if err != nil {
			publisherstest.AssertNoSecret(t, err.Error(), password)
		}
	}
	for _, k := range []string{"name", "url", "username", "password", "from", "to"} {
		if !slices.Contains(Keys, k) {
			t.Errorf("Keys %v lacks %q", Keys, k)
		}
	}
}

var (
	_ pagers.Pager    = (*Pager)(nil)
	_ pagers.People   = (*Pager)(nil)
	_ pagers.Verifier = (*Pager)(nil)
)
