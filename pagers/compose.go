package pagers

import (
	"fmt"
	"strings"
	"time"
)

// Subject returns a page's subject: Page.Subject as the runbook rendered
// it, else one composed from the page's fields that starts with the
// severity and the services ("[CRITICAL] IMAP/POP: IMAP/POP login
// failures"), says who acknowledged for an ack page, and starts with
// [TEST] for a test page. Each pager cleans it for its protocol.
func Subject(p Page) string {
	if s := strings.TrimSpace(p.Subject); s != "" {
		return s
	}
	tag := strings.ToUpper(p.Severity)
	if tag == "" {
		tag = "ALERT"
	}
	if p.Kind == KindTest {
		tag = "TEST"
	}
	s := "[" + tag + "] "
	if len(p.Services) > 0 {
		s += strings.Join(p.Services, ", ") + ": "
	}
	title := p.Title
	if title == "" {
		title = p.Incident
	}
	if title == "" && p.Kind == KindTest {
		title = "a test page from incident"
	}
	s += title
	if p.Kind == KindAck {
		s += " (acknowledged by " + orSomeone(p.AckedBy) + ")"
	}
	return s
}

// Body returns a page's text: Page.Text as the runbook rendered it, else
// one composed from the page's fields: what happened (an acknowledgement, a
// colleague's message), the title, severity, services and escalation level,
// how long it has been firing, the alert's summary, and the command to
// acknowledge (or the incident's id). pager names the pager (a test page says which); when formats
// times for people (UTC when nil). It never holds a link.
func Body(p Page, pager string, when func(time.Time) string) string {
	if strings.TrimSpace(p.Text) != "" {
		return p.Text
	}
	if when == nil {
		when = func(t time.Time) string { return t.UTC().Format("Mon 2 Jan 15:04 MST") }
	}
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	now := p.Now
	if now.IsZero() {
		now = time.Now()
	}
	switch p.Kind {
	case KindAck:
		at := p.AckedAt
		if at.IsZero() {
			at = now
		}
		line("Acknowledged by %s at %s: someone is on it, you need not act.", orSomeone(p.AckedBy), when(at))
		line("")
	case KindTest:
		line("A test page from incident (pager %q): nothing is wrong, there is nothing to do.", pager)
		if p.Summary != "" {
			line("")
			line("%s", p.Summary)
		}
		return b.String()
	case KindManual:
		if p.Summary != "" {
			line("%s", p.Summary)
			line("")
		}
	}
	if p.Title != "" {
		line("%s", p.Title)
	}
	var facts []string
	if p.Severity != "" {
		facts = append(facts, "severity "+p.Severity)
	}
	if len(p.Services) > 0 {
		facts = append(facts, strings.Join(p.Services, ", "))
	}
	if p.Level > 0 {
		facts = append(facts, fmt.Sprintf("escalation level %d", p.Level))
	}
	if len(facts) > 0 {
		line("%s", strings.Join(facts, " · "))
	}
	if !p.Since.IsZero() {
		line("Firing since %s (%s).", when(p.Since), Duration(now.Sub(p.Since)))
	}
	if p.Summary != "" && p.Kind != KindManual {
		line("")
		line("%s", p.Summary)
	}
	if p.AckCommand != "" && p.Kind != KindAck {
		line("")
		line("Acknowledge: %s", p.AckCommand)
	}
	if p.Incident != "" && (p.AckCommand == "" || p.Kind == KindAck) {
		line("Incident: %s", p.Incident)
	}
	return b.String()
}

func orSomeone(s string) string {
	if s == "" {
		return "someone"
	}
	return s
}

// Duration says how long, to the minute, as pages show it: "under a
// minute", "12 min", "2 h 5 min", "1 d 3 h".
func Duration(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	m := int(d / time.Minute)
	switch {
	case m < 1:
		return "under a minute"
	case m < 60:
		return fmt.Sprintf("%d min", m)
	case m < 24*60:
		if m%60 == 0 {
			return fmt.Sprintf("%d h", m/60)
		}
		return fmt.Sprintf("%d h %d min", m/60, m%60)
	}
	parts := []string{fmt.Sprintf("%d d", m/(24*60))}
	if h := m % (24 * 60) / 60; h > 0 {
		parts = append(parts, fmt.Sprintf("%d h", h))
	}
	return strings.Join(parts, " ")
}
