package pagers

import (
	"strings"
	"testing"
	"time"
)

var composeNow = time.Date(2026, 11, 27, 10, 15, 0, 0, time.UTC)

func sampleAlert() Page {
	return Page{Key: "k", Kind: KindAlert, Incident: "2026-11-27-imap-down", Title: "IMAP/POP login failures", Severity: "critical",
		Services: []string{"IMAP/POP", "Webmail"}, Since: composeNow.Add(-75 * time.Minute), Summary: "imap01: login failures above 50%",
		Level: 2, AckCommand: "incident ack 2026-11-27-imap-down", Now: composeNow}
}

func TestSubject(t *testing.T) {
	ack := sampleAlert()
	ack.Kind, ack.AckedBy = KindAck, "alice"
	rendered := sampleAlert()
	rendered.Subject = "[MAJOR] rendered by the runbook"
	bare := Page{Kind: KindAlert, Incident: "2026-11-27-x"}
	for _, tc := range []struct {
		p    Page
		want string
	}{
		{sampleAlert(), "[CRITICAL] IMAP/POP, Webmail: IMAP/POP login failures"},
		{ack, "[CRITICAL] IMAP/POP, Webmail: IMAP/POP login failures (acknowledged by alice)"},
		{rendered, "[MAJOR] rendered by the runbook"},
		{bare, "[ALERT] 2026-11-27-x"},
		{Page{Kind: KindTest}, "[TEST] a test page from incident"},
	} {
		if got := Subject(tc.p); got != tc.want {
			t.Errorf("Subject = %q, want %q", got, tc.want)
		}
	}
}

func TestBody(t *testing.T) {
	got := Body(sampleAlert(), "email", nil)
	want := `IMAP/POP login failures
severity critical · IMAP/POP, Webmail · escalation level 2
Firing since Fri 27 Nov 09:00 UTC (1 h 15 min).

imap01: login failures above 50%

Acknowledge: incident ack 2026-11-27-imap-down
`
	if got != want {
		t.Errorf("alert body:\n%s\nwant:\n%s", got, want)
	}
	ack := sampleAlert()
	ack.Kind, ack.AckedBy, ack.AckedAt = KindAck, "alice", composeNow.Add(-time.Minute)
	if got := Body(ack, "email", func(t time.Time) string { return t.Format("15:04") }); !strings.HasPrefix(got, "Acknowledged by alice at 10:14: ") || strings.Contains(got, "Acknowledge:") {
		t.Errorf("ack body:\n%s", got)
	}
	manual := sampleAlert()
	manual.Kind, manual.Summary = KindManual, "Bob here: can you look at the IMAP proxies?"
	if got := Body(manual, "email", nil); !strings.HasPrefix(got, "Bob here: can you look at the IMAP proxies?\n\nIMAP/POP login failures\n") {
		t.Errorf("manual body:\n%s", got)
	}
	if got := Body(Page{Kind: KindTest}, "oncall-mail", nil); !strings.Contains(got, `pager "oncall-mail"`) || !strings.Contains(got, "nothing is wrong") {
		t.Errorf("test body: %s", got)
	}
	r := sampleAlert()
	r.Text = "as rendered\n"
	if got := Body(r, "email", nil); got != "as rendered\n" {
		t.Errorf("rendered body not used: %q", got)
	}
}

func TestDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		20 * time.Second: "under a minute", 12 * time.Minute: "12 min", 2 * time.Hour: "2 h",
		125 * time.Minute: "2 h 5 min", 27 * time.Hour: "1 d 3 h", 48 * time.Hour: "2 d", -5 * time.Minute: "5 min",
	} {
		if got := Duration(d); got != want {
			t.Errorf("Duration(%s) = %q, want %q", d, got, want)
		}
	}
}
