// Package pagers defines how staff are woken: a Pager delivers one page (an
// alert, "acknowledged by alice", a test) to people over one channel (email,
// IRC, Pushover, Twilio, a webhook), and the small shared pieces every pager
// needs. One sub-package per pager type implements it, exactly like
// publishers/: a pager makes one attempt and classifies its failure with the
// helpers of package publishers (publishers.HTTPError, publishers.Permanent,
// publishers.Retryable); the runbook's one retry stage owns backoff. Pagers
// know nothing of the runbook and never link to the status page.
package pagers

import (
	"context"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/incident-cli/incident/publishers"
)

// A Pager delivers one page to one or more people on one channel.
//
// Page is called once per attempt and never sleeps or loops. It must be safe
// to call again with the same Page.Key after an attempt whose outcome is
// unknown: where the service allows, it deduplicates by the key.
type Pager interface {
	Page(ctx context.Context, p Page) (Receipt, error)
}

// Kind says what a page announces.
type Kind string

// The kinds of page.
const (
	KindAlert  Kind = "alert"  // wake someone: an incident needs a person
	KindAck    Kind = "ack"    // stand down: someone acknowledged ("acknowledged by alice at 12:09")
	KindTest   Kind = "test"   // incident page --test NAME
	KindManual Kind = "manual" // incident page --to NAME --message TEXT: a colleague calls another in
)

// Page is everything a pager needs. It never holds a secret and never a link
// to the status page: pages go to staff.
type Page struct {
	Key      string // idempotency key: incident id + action id + pager + person; stable across retries and machines
	Kind     Kind
	Incident string    // the incident id
	Title    string    // the incident's title
	Severity string    // minor, major, critical (may be empty)
	Services []string  // display names of the services affected
	Since    time.Time // when the first alert fired (or the incident was opened)
	Summary  string    // the alert's summary, or the manual page's message
	Level    int       // escalation level, 1-based (0 for manual and test pages)
	// Urgent asks for the pager's loudest form: Pushover priority 2
	// (emergency, repeated until acknowledged), a voice call.
	Urgent bool
	// Person is whom to page: a name from the pager's `to` table, or ""
	// for everyone in it.
	Person string
	// Subject and Text are the rendered page: a short subject that starts
	// with the severity and service ("[CRITICAL] IMAP/POP: ..."), and a
	// plain-text body that says how long it has been firing and gives the
	// command to acknowledge (AckCommand).
	Subject    string
	Text       string
	AckCommand string // "incident ack 2026-12-01-imap-down"
	// Thread is this pager's first receipt for this incident (email:
	// In-Reply-To/References, so one incident's pages thread).
	Thread *Receipt
	// Acked is set for KindAck pages: who acknowledged, and when.
	AckedBy string
	AckedAt time.Time
	Now     time.Time // the page's own time (injected clock)
}

// Receipt is what a pager's service answered for one page.
type Receipt struct {
	ID   string            `toml:"id" json:"id"`                         // Message-ID, Pushover receipt or request id, Twilio SID, ...
	At   time.Time         `toml:"at" json:"at"`                         // when it was accepted
	To   []string          `toml:"to,omitempty" json:"to,omitempty"`     // whom it reached (person names, never addresses)
	Meta map[string]string `toml:"meta,omitempty" json:"meta,omitempty"` // e.g. "receipt" for a Pushover emergency
}

// AckPoller is implemented by pagers whose service lets the person paged
// acknowledge (the Pushover acknowledge button on an emergency receipt).
// Acknowledged asks, with one read-only call, whether the receipt was
// acknowledged and by whom.
type AckPoller interface {
	Acknowledged(ctx context.Context, r Receipt) (Ack, error)
}

// Ack is an acknowledgement read back from a pager's service.
type Ack struct {
	Acknowledged bool
	By           string // the person (from the pager's `to` table) or the service's own user id
	At           time.Time
	Expired      bool // the service stopped repeating it without an acknowledgement
}

// Canceller is implemented by pagers that keep repeating a page until told
// to stop (Pushover emergencies): Cancel stops every outstanding page of the
// incident (by the tag, or each receipt given).
type Canceller interface {
	Cancel(ctx context.Context, incident string, receipts []Receipt) error
}

// People is implemented by every pager: the names in its `to` table, so the
// runbook can check escalation targets ("pushover:alice") against them.
type People interface {
	People() []string
}

// Verifier is implemented by pagers that can check their credentials without
// paging anyone (incident doctor --online): Pushover users/validate, SMTP
// connect and auth, IRC connect and quit. It returns who the service says we
// are, or what it checked.
type Verifier = publishers.Verifier

// Factory builds a pager from its [[pager]] table. It decodes cfg with
// md.PrimitiveDecode into its own struct, so unknown keys are found by the
// caller through md.Undecoded. env is the same environment channels get
// (secrets, HTTP client, state dir, clock).
type Factory func(cfg toml.Primitive, md toml.MetaData, env publishers.Env) (Pager, error)
