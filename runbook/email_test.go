package runbook

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/incident-cli/incident/internal/mailer/mailertest"
	"github.com/incident-cli/incident/publishers"
)

// TestEmailChannelThreads publishes an incident through the engine to the
// email channel on a real (in-process) SMTP server: every message has the
// HTML the engine rendered for it, the thread runs from the first message to
// the latest through the recorded receipts, and a temporary refusal is
// retried by the engine's retry stage.
func TestEmailChannelThreads(t *testing.T) {
	srv := mailertest.NewServer(mailertest.Options{Username: "status@example.com", Password: "smtp-pw-0123", Reporter: t})
	dir := t.TempDir()
	cfg := fmt.Sprintf(`organization = "Example Mail"
[[service]]
id = "imap"
name = "IMAP/POP"

[status_page]
type = "static"
base_url = "https://status.example.com"

[[channel]]
name = "announce"
type = "email"
url = %q
username = "status@example.com"
password = "env:SMTP_PASSWORD"
from = "Example Mail status <status@example.com>"
to = "status-announce@lists.example.com"
list_unsubscribe = "status-announce-leave@lists.example.com"
list_id = "status-announce.lists.example.com"
subscribe = "status-announce-join@lists.example.com"
`, srv.URL)
	if err := os.WriteFile(filepath.Join(dir, ConfigFile), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	rb, err := Open(Location{Dir: dir}, Options{Getenv: func(k string) string {
		if k == "SMTP_PASSWORD" {
			return "smtp-pw-0123"
		}
		return ""
	}, StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	rb.RetryPolicy = RetryPolicy{Attempts: 3, Base: time.Millisecond, Max: 5 * time.Millisecond, Timeout: 5 * time.Second,
		Budget: 10 * time.Second, Sleep: func(ctx context.Context, d time.Duration) error { return nil }}
	if s, ok := rb.Links[0].Pub.(publishers.Subscriber); !ok || s.Subscribe() != "mailto:status-announce-join@lists.example.com" {
		t.Errorf("the email channel does not say where to subscribe")
	}

	ctx := context.Background()
	res := open(t, rb)
	id := res.Incident.ID
	srv.Fail(mailertest.StepData, 451, "4.3.0 Queue full, try again", 1)
	for _, d := range []Draft{
		{Via: "update", Status: Identified, Message: "A brute-force attack <script>x</script> overloads the servers."},
		{Via: "close", Status: Resolved, Message: "Fixed."},
	} {
		res, err := rb.Publish(ctx, id, d, PublishOptions{})
		if err != nil || res.Failed() != 0 {
			t.Fatalf("%s: %v %+v", d.Via, err, res.Channels)
		}
	}
	msgs := srv.Messages()
	if len(msgs) != 3 {
		t.Fatalf("the list got %d messages, want 3 (one per update; the refused attempt stored nothing)", len(msgs))
	}
	inc, err := rb.Store.Load(id)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i, u := range inc.Updates {
		d := u.Delivery("announce")
		if d == nil || d.State != Sent || d.Receipt == nil {
			t.Fatalf("update %d: delivery %+v", i+1, d)
		}
		ids = append(ids, d.Receipt.ID)
		m := msgs[i]
		if m.Header.Get("Message-Id") != d.Receipt.ID {
			t.Errorf("update %d: Message-ID %q, recorded %q", i+1, m.Header.Get("Message-Id"), d.Receipt.ID)
		}
		if !strings.Contains(m.Text, "https://status.example.com/incidents/"+id+".html") ||
			!strings.Contains(m.HTML, `<a href="https://status.example.com/incidents/`+id+`.html">`) ||
			!strings.HasPrefix(m.HTML, "<!DOCTYPE html>") {
			t.Errorf("update %d: text or HTML without the link:\n%s\n%s", i+1, m.Text, m.HTML)
		}
		if m.Header.Get("Precedence") != "bulk" || m.Header.Get("List-Id") != "<status-announce.lists.example.com>" ||
			m.Header.Get("List-Unsubscribe") != "<mailto:status-announce-leave@lists.example.com>" {
			t.Errorf("update %d: list headers %v", i+1, m.Header)
		}
	}
	if got := msgs[1]; !strings.Contains(got.Text, "<script>x</script>") || strings.Contains(got.HTML, "<script>") ||
		!strings.Contains(got.HTML, "&lt;script&gt;x&lt;/script&gt;") {
		t.Errorf("typed HTML: the text must show it as typed, the HTML escaped:\n%s\n%s", got.Text, got.HTML)
	}
	if h := msgs[0].Header; h.Get("In-Reply-To") != "" || h.Get("References") != "" {
		t.Errorf("the first message is no reply: %v", h)
	}
	if h := msgs[1].Header; h.Get("In-Reply-To") != ids[0] || h.Get("References") != ids[0] {
		t.Errorf("second message: In-Reply-To %q, References %q; want %q", h.Get("In-Reply-To"), h.Get("References"), ids[0])
	}
	if h := msgs[2].Header; h.Get("In-Reply-To") != ids[1] || h.Get("References") != ids[0]+" "+ids[1] {
		t.Errorf("third message: In-Reply-To %q, References %q; want %q, %q", h.Get("In-Reply-To"), h.Get("References"), ids[1], ids[0]+" "+ids[1])
	}
	if !strings.Contains(msgs[2].Text, "This incident is resolved") || !strings.HasPrefix(msgs[2].Subject, "[Resolved] ") {
		t.Errorf("closing message: %q\n%s", msgs[2].Subject, msgs[2].Text)
	}
}
