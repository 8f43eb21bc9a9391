// Package pagerstest holds what every pager's tests share: a sample page
// for a realistic incident, a clock a test moves by hand for the fakes,
// and the config-error check of publisherstest for a pagers.Factory.
package pagerstest

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/incident-cli/incident/pagers"
	"github.com/incident-cli/incident/publishers"
	"github.com/incident-cli/incident/publishers/publisherstest"
)

// Incident is the id of the sample page's incident.
const Incident = "2026-11-27-imap-down"

// Page returns a level-2 page about an IMAP outage that has been firing for
// twelve minutes, for person ("" for everyone), at publisherstest.Now.
func Page(kind pagers.Kind, urgent bool, person string) pagers.Page {
	now := publisherstest.Now
	p := pagers.Page{
		Key:        Incident + "/20261127T101500Z-escalate-2/pager/" + person,
		Kind:       kind,
		Incident:   Incident,
		Title:      "IMAP down",
		Severity:   "critical",
		Services:   []string{"IMAP/POP"},
		Since:      now.Add(-12 * time.Minute),
		Summary:    "imap1: connection refused",
		Level:      2,
		Urgent:     urgent,
		Person:     person,
		Subject:    "[CRITICAL] IMAP/POP: IMAP down",
		Text:       "Firing for 12 minutes: imap1: connection refused.\nAcknowledge: incident ack " + Incident,
		AckCommand: "incident ack " + Incident,
		Now:        now,
	}
	if kind == pagers.KindAck {
		p.AckedBy, p.AckedAt = "alice", now.Add(-time.Minute)
		p.Subject = "[ACK] IMAP/POP: IMAP down"
		p.Text = "Acknowledged by alice at 10:14. Stand down."
	}
	return p
}

// Clock is a clock for fakes that a test moves by hand.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock at t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// AssertConfigErrors builds a pager from each table (publisherstest.ConfigCase)
// and checks that it fails with the wanted error, showing none of the secrets.
func AssertConfigErrors(t testing.TB, newPager pagers.Factory, env publishers.Env, cases []publisherstest.ConfigCase, secrets ...string) {
	t.Helper()
	for _, tc := range cases {
		table, want := tc[0], tc[1]
		prim, md := publisherstest.Decode(t, table)
		_, err := newPager(prim, md, env)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("New(%q) err = %v, want %q", table, err, want)
		}
		if err != nil {
			publisherstest.AssertNoSecret(t, err.Error(), secrets...)
		}
	}
}
