package runbook

import (
	"time"

	"github.com/incident-cli/incident/publishers"
)

// EventKind names what an event records.
type EventKind string

// The kinds of event in an incident's log.
const (
	KindOpened    EventKind = "opened"    // the incident exists: title, services, severity, started_at
	KindUpdate    EventKind = "update"    // a public update, with the deliveries it plans
	KindDelivered EventKind = "delivered" // a channel took an update: its receipt
	KindFailed    EventKind = "failed"    // a channel refused or could not be reached
	KindNote      EventKind = "note"      // a private timeline entry
	KindStep      EventKind = "step"      // a checklist step's outcome
	KindChanged   EventKind = "changed"   // a field of the incident changed (accounts, severity, ...)
)

// Event is one file of an incident's log. It is written once and never
// changed; the incident is the fold of its events in order. Fields not used
// by a kind are left empty.
type Event struct {
	ID   string    `toml:"-"` // the file name without .toml: sorts in time order
	Kind EventKind `toml:"kind"`
	At   time.Time `toml:"at"`
	By   string    `toml:"by,omitempty"`   // responder
	Host string    `toml:"host,omitempty"` // machine

	// opened, changed, update
	Title     string     `toml:"title,omitempty"`
	Severity  string     `toml:"severity,omitempty"`
	Services  []string   `toml:"services,omitempty"`
	Accounts  *int       `toml:"accounts,omitempty"`
	StartedAt *time.Time `toml:"started_at,omitempty"`
	Related   []string   `toml:"related,omitempty"` // opened: ids of earlier incidents this one recurs

	// update
	Status   string   `toml:"status,omitempty"`
	Message  string   `toml:"message,omitempty"`
	Post     string   `toml:"post,omitempty"`     // "update" (default) or "rfo"
	Channels []string `toml:"channels,omitempty"` // planned deliveries, status page first

	// delivered, failed
	Update    string              `toml:"update,omitempty"` // the update event's ID
	Channel   string              `toml:"channel,omitempty"`
	Receipt   *publishers.Receipt `toml:"receipt,omitempty"`
	Error     string              `toml:"error,omitempty"`
	Attempts  int                 `toml:"attempts,omitempty"`
	Permanent bool                `toml:"permanent,omitempty"` // retrying as is cannot help

	// note, step
	Text    string `toml:"text,omitempty"`
	Phase   string `toml:"phase,omitempty"`
	Step    string `toml:"step,omitempty"`
	Outcome string `toml:"outcome,omitempty"` // done, skipped, published, entered
	Value   string `toml:"value,omitempty"`
	Run     string `toml:"run,omitempty"`    // the checklist walk this step belongs to
	Public  bool   `toml:"public,omitempty"` // a note that may appear in the RFO timeline

	// rfo-draft, and update with post = "rfo"
	RFO *RFOText `toml:"rfo,omitempty"`
}
