package runbook

import (
	"time"

	"github.com/incident-cli/incident/pagers"
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
	KindAlert     EventKind = "alert"     // a monitoring system's alert fired or resolved
	KindAck       EventKind = "ack"       // a person acknowledged: escalation and the automatic first update stop
	KindDismissed EventKind = "dismissed" // a private incident closed privately: a false alarm, or recovered
	KindPage      EventKind = "page"      // a page to staff: written before the attempt (state sending), then its result
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
	// States is each affected service's state as of this update (service
	// id -> operational, degraded_performance, ...). Records written
	// before it existed have none: their services take the severity's
	// default (see DefaultState).
	States map[string]string `toml:"states,omitempty"`

	// delivered, failed
	Update    string              `toml:"update,omitempty"` // the update event's ID
	Channel   string              `toml:"channel,omitempty"`
	Receipt   *publishers.Receipt `toml:"receipt,omitempty"`
	Error     string              `toml:"error,omitempty"`
	Attempts  int                 `toml:"attempts,omitempty"`
	Permanent bool                `toml:"permanent,omitempty"` // retrying as is cannot help
	// SupersededBy, on a delivered event, names the newer update that
	// reached the channel first: this update is not posted there.
	SupersededBy string `toml:"superseded_by,omitempty"`
	Note         string `toml:"note,omitempty"` // delivered: what the channel had to do ("shortened to fit")

	// claim, and the events of timed actions (the automatic first update,
	// pages): the action's key, stable across machines (see claim.go)
	Action string `toml:"action,omitempty"`

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

	// alert
	Alert *AlertRecord `toml:"alert,omitempty"`
	// opened: the window of a scheduled maintenance (the incident is one;
	// see maintenance.go)
	Maintenance *Window `toml:"maintenance,omitempty"`
	// opened from an alert: the route that took it, and its automatic first
	// update ("10m", or "off")
	Route        string `toml:"route,omitempty"`
	PublishAfter string `toml:"publish_after,omitempty"`
	// ack, dismissed: how ("cli", "pushover", "recovered", ...); the reason
	// is in Text
	How string `toml:"how,omitempty"`

	// page
	Page *PageRecord `toml:"page,omitempty"`
}

// AlertRecord is one alert notification as recorded: what the monitoring
// system said, normalized (see package alerts). It is untrusted text.
type AlertRecord struct {
	Source      string            `toml:"source"`
	Key         string            `toml:"key"`
	Group       string            `toml:"group,omitempty"`
	Firing      bool              `toml:"firing"`
	StartsAt    *time.Time        `toml:"starts_at,omitempty"`
	EndsAt      *time.Time        `toml:"ends_at,omitempty"`
	Name        string            `toml:"name,omitempty"`
	Summary     string            `toml:"summary,omitempty"`
	Description string            `toml:"description,omitempty"`
	Severity    string            `toml:"severity,omitempty"`
	Labels      map[string]string `toml:"labels,omitempty"`
	URL         string            `toml:"url,omitempty"`
}

// PageRecord is one page as recorded: what it was (the escalation level
// and its repeat round, a stand-down, a page by hand, the cancelling of
// outstanding emergencies), to whom on which pager, and how it went. A
// page's first record (State "sending") is written before the attempt, so
// a process killed mid-page leaves a page whose outcome is unknown, never
// one that is not in the log; its result follows (State "sent" or
// "failed"). The event's Action is the page's key. It never holds a
// secret: receipts name people, not addresses or keys.
type PageRecord struct {
	Kind      string          `toml:"kind"`            // alert, ack, manual, cancel
	Level     int             `toml:"level,omitempty"` // escalation level, 1-based (0: not a level's page)
	Round     int             `toml:"round,omitempty"` // the last level's repeat round (0: its first page)
	Pager     string          `toml:"pager"`
	Person    string          `toml:"person,omitempty"` // "" for everyone in the pager's `to`
	OnCall    bool            `toml:"oncall,omitempty"` // the person is the one the [[rota]] names
	Urgent    bool            `toml:"urgent,omitempty"`
	State     string          `toml:"state"` // sending, sent, failed
	Receipt   *pagers.Receipt `toml:"receipt,omitempty"`
	Error     string          `toml:"error,omitempty"`
	Attempts  int             `toml:"attempts,omitempty"`
	Permanent bool            `toml:"permanent,omitempty"` // retrying as is cannot help
	RetryAt   *time.Time      `toml:"retry_at,omitempty"`  // the service asked to wait until then
	Note      string          `toml:"note,omitempty"`      // how the target was chosen ("nobody on call: everyone")
}
