package email

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/incident-cli/incident/internal/mailer/mailertest"
	"github.com/incident-cli/incident/publishers"
	"github.com/incident-cli/incident/publishers/publisherstest"
)

const (
	user     = "status@example.com"
	password = "list-smtp-s3cret"
)

var secrets = map[string]string{"SMTP_PASSWORD": password}

func newServer(t *testing.T) *mailertest.Server {
	return mailertest.NewServer(mailertest.Options{Username: user, Password: password, Reporter: t})
}

func newPublisher(t *testing.T, srv *mailertest.Server, extra string) *Publisher {
	t.Helper()
	table := fmt.Sprintf("name = \"announce\"\nurl = %q\nusername = %q\npassword = \"env:SMTP_PASSWORD\"\n"+
		"from = \"Example Mail status <status@example.com>\"\nto = \"status-announce@lists.example.com\"\n%s", srv.URL, user, extra)
	prim, md := publisherstest.Decode(t, table)
	p, err := New(prim, md, publisherstest.Env(t, "announce", secrets))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if u := md.Undecoded(); len(u) != 0 {
		t.Fatalf("undecoded keys: %v", u)
	}
	return p.(*Publisher)
}

func post(n int) publishers.Post {
	p := publisherstest.Post(n, fmt.Sprintf("**IMAP/POP login failures**\n\nUpdate %d &lt;b> typed.\n\nEvery update: https://status.example.com/incidents/x.html", n))
	p.Key += fmt.Sprint("/", n)
	p.HTML = fmt.Sprintf("<p><strong>IMAP/POP login failures</strong></p>\n<p>Update %d &lt;b&gt; typed.</p>", n)
	return p
}

// TestThread publishes four updates as the engine would (Thread = the first
// receipt, Parent = the latest) and reads the thread back.
func TestThread(t *testing.T) {
	srv := newServer(t)
	p := newPublisher(t, srv, `list_unsubscribe = "mailto:status-announce-leave@lists.example.com, https://lists.example.com/leave"
list_id = "Example Mail status <status-announce.lists.example.com>"`)
	ctx := context.Background()
	var recs []publishers.Receipt
	for n := 1; n <= 4; n++ {
		pt := post(n)
		if n > 1 {
			pt.Thread, pt.Parent = &recs[0], &recs[n-2]
		}
		rec, err := p.Publish(ctx, pt)
		if err != nil {
			t.Fatalf("update %d: %v", n, err)
		}
		if rec.ID != p.sender.MessageID(pt.Key) || !rec.At.Equal(publisherstest.Now) || rec.URL != "mailto:status-announce@lists.example.com" {
			t.Errorf("update %d: receipt %+v", n, rec)
		}
		recs = append(recs, rec)
	}
	msgs := srv.Messages()
	if len(msgs) != 4 {
		t.Fatalf("the list got %d messages", len(msgs))
	}
	for i, m := range msgs {
		h := m.Header
		if h.Get("Message-Id") != recs[i].ID || !slices.Equal(m.To, []string{"status-announce@lists.example.com"}) {
			t.Errorf("message %d: Message-ID %q to %v", i+1, h.Get("Message-Id"), m.To)
		}
		wantRefs := make([]string, i)
		for k := range i {
			wantRefs[k] = recs[k].ID
		}
		if got := strings.Fields(h.Get("References")); !slices.Equal(got, wantRefs) {
			t.Errorf("message %d: References %v, want %v (first to latest)", i+1, got, wantRefs)
		}
		if i > 0 && h.Get("In-Reply-To") != recs[i-1].ID {
			t.Errorf("message %d: In-Reply-To %q, want the latest %q", i+1, h.Get("In-Reply-To"), recs[i-1].ID)
		}
		for name, want := range map[string]string{
			"Precedence":       "bulk",
			"Auto-Submitted":   "auto-generated",
			"List-Unsubscribe": "<mailto:status-announce-leave@lists.example.com>, <https://lists.example.com/leave>",
			"List-Id":          "Example Mail status <status-announce.lists.example.com>",
		} {
			if got := h.Get(name); got != want {
				t.Errorf("message %d: %s = %q, want %q", i+1, name, got, want)
			}
		}
	}
	m := msgs[1]
	if m.Subject != "[Identified] IMAP/POP login failures" {
		t.Errorf("subject = %q", m.Subject)
	}
	if !strings.Contains(m.Text, "Update 2 <b> typed.") || !strings.Contains(m.Text, "https://status.example.com/incidents/x.html") {
		t.Errorf("plain text = %q: want the text as typed, with the link", m.Text)
	}
	if !strings.Contains(m.HTML, "<p>Update 2 &lt;b&gt; typed.</p>") || !strings.Contains(m.HTML, "<title>[Identified] IMAP/POP login failures</title>") {
		t.Errorf("HTML = %q", m.HTML)
	}
}

// TestRetryKeepsMessageID: a lost answer (the server hangs after the final
// dot) or a 4xx refusal leaves the engine to retry with the same key: the
// same Message-ID, the same thread.
func TestRetryKeepsMessageID(t *testing.T) {
	srv := newServer(t)
	p := newPublisher(t, srv, "")
	first, err := p.Publish(context.Background(), post(1))
	if err != nil {
		t.Fatal(err)
	}
	pt := post(2)
	pt.Thread, pt.Parent = &first, &first
	srv.Fail(mailertest.StepData, 452, "4.3.1 Insufficient system storage", 1)
	if _, err := p.Publish(context.Background(), pt); err == nil || !publishers.Retryable(err) {
		t.Fatalf("refused attempt: %v, want retryable", err)
	}
	rec, err := p.Publish(context.Background(), pt)
	if err != nil {
		t.Fatal(err)
	}
	msgs := srv.Messages()
	if len(msgs) != 2 || msgs[1].Header.Get("Message-Id") != rec.ID || msgs[1].Header.Get("In-Reply-To") != first.ID ||
		rec.Meta["references"] != first.ID {
		t.Errorf("retry: %d messages, Message-ID %q (receipt %+v)", len(msgs), msgs[1].Header.Get("Message-Id"), rec)
	}
}

// TestParentWithoutReferences: a parent receipt recorded without the chain
// (an older record) still threads: References are the first and the parent.
func TestParentWithoutReferences(t *testing.T) {
	first := publishers.Receipt{ID: "<a@example.com>"}
	parent := publishers.Receipt{ID: "<c@example.com>"}
	if got := references(&first, &parent, "<d@example.com>"); !slices.Equal(got, []string{"<a@example.com>", "<c@example.com>"}) {
		t.Errorf("references = %v", got)
	}
	if got := references(&first, &first, "<b@example.com>"); !slices.Equal(got, []string{"<a@example.com>"}) {
		t.Errorf("references = %v", got)
	}
	var long []string
	for i := range 30 {
		long = append(long, fmt.Sprintf("<%d@example.com>", i))
	}
	p := publishers.Receipt{ID: "<30@example.com>", Meta: map[string]string{"references": strings.Join(long, " ")}}
	got := references(&publishers.Receipt{ID: long[0]}, &p, "<31@example.com>")
	if len(got) != maxReferences || got[0] != long[0] || got[len(got)-1] != "<30@example.com>" {
		t.Errorf("long thread: references = %v, want the first and the latest, %d in all", got, maxReferences)
	}
}

func TestWithoutHTML(t *testing.T) {
	srv := newServer(t)
	p := newPublisher(t, srv, "")
	pt := post(1)
	pt.HTML = ""
	if _, err := p.Publish(context.Background(), pt); err != nil {
		t.Fatal(err)
	}
	if m := srv.Messages()[0]; m.HTML != "" || m.Text == "" || m.Header.Get("List-Unsubscribe") != "" || m.Header.Get("List-Id") != "" {
		t.Errorf("message = %+v", m)
	}
}

func TestSubscribeAndVerify(t *testing.T) {
	srv := newServer(t)
	for extra, want := range map[string]string{
		"": "",
		`subscribe = "status-announce-join@lists.example.com"`: "mailto:status-announce-join@lists.example.com",
		`subscribe = "https://lists.example.com/join"`:         "https://lists.example.com/join",
	} {
		p := newPublisher(t, srv, extra)
		if got := p.Subscribe(); got != want {
			t.Errorf("%s: Subscribe() = %q, want %q", extra, got, want)
		}
		if !p.WantsHTML() {
			t.Error("the email channel must ask for HTML")
		}
	}
	p := newPublisher(t, srv, "")
	who, err := p.Verify(context.Background())
	if err != nil || !strings.Contains(who, "accepted the login of status@example.com") || len(srv.Messages()) != 0 {
		t.Errorf("Verify = %q, %v", who, err)
	}
	srv.Fail(mailertest.StepAuth, 535, "5.7.8 Authentication failed", 1)
	_, err = p.Publish(context.Background(), post(1))
	if err == nil || publishers.Retryable(err) || !strings.Contains(err.Error(), "the environment variable SMTP_PASSWORD") {
		t.Errorf("refused login: %v", err)
	}
	publisherstest.AssertNoSecret(t, err.Error(), password)
}

func TestConfigErrors(t *testing.T) {
	base := "url = \"smtp://127.0.0.1:2525\"\nfrom = \"status@example.com\"\n"
	withTo := base + "to = \"list@example.com\"\n"
	publisherstest.AssertConfigErrors(t, New, publisherstest.Env(t, "announce", secrets), []publisherstest.ConfigCase{
		{base, "`to` is required"},
		{base + `to = "not an address"`, "is not an email address"},
		{withTo + `list_unsubscribe = "ftp://lists.example.com"`, "want an address, a mailto: URL or an https:// URL"},
		{withTo + `list_unsubscribe = "mailto:nobody"`, "is not an email address"},
		{withTo + `list_id = "nodots"`, "is not a list id"},
		{withTo + `list_id = "Bad \"phrase\" <a.b>"`, "may not hold"},
		{withTo + `subscribe = "http://lists.example.com/join"`, "want an address, a mailto: URL or an https:// URL"},
		{withTo + `subscribe = "a b@example.com"`, "holds a space"},
		{"to = \"list@example.com\"\nfrom = \"a@example.com\"", "`url` is required"},
		{withTo + "username = \"u\"\npassword = \"" + password + "\"", "secrets are never written in the config"},
	}, password)
	for _, k := range []string{"name", "template", "url", "username", "password", "from", "to", "list_unsubscribe", "list_id", "subscribe"} {
		if !slices.Contains(Keys, k) {
			t.Errorf("Keys %v lacks %q", Keys, k)
		}
	}
}

var (
	_ publishers.Publisher  = (*Publisher)(nil)
	_ publishers.Verifier   = (*Publisher)(nil)
	_ publishers.HTMLWanted = (*Publisher)(nil)
	_ publishers.Subscriber = (*Publisher)(nil)
)
