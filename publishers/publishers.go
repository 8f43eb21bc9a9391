// Package publishers defines what a channel is: a Publisher that delivers one
// rendered update to one place (the status page, a forum, a social account),
// and the small shared pieces every channel needs (secrets, HTTP errors that
// say whether a retry can help, base-URL checks). One sub-package per channel
// type implements it; none of them knows anything about the runbook.
package publishers

import (
	"context"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// A Publisher delivers one rendered update to one channel.
//
// Publish is called once per attempt. It never sleeps or loops: it classifies
// its failure (see HTTPError, Permanent) and the caller's retry stage decides
// whether and when to try again. Publish must be safe to call again with the
// same Post.Key after an attempt whose outcome is unknown: where the service
// allows, it looks up or deduplicates by the key instead of posting twice.
// With Post.Fresh set no such attempt exists, and a look-up made only for
// that is skipped.
type Publisher interface {
	Publish(ctx context.Context, p Post) (Receipt, error)
}

// Kind says what a Post announces.
type Kind string

// The kinds of post.
const (
	KindUpdate Kind = "update" // an incident update (the first creates, later ones edit or reply)
	KindRFO    Kind = "rfo"    // the Reason For Outage: its own status-page post
)

// Post is everything a channel needs to deliver one update.
type Post struct {
	Key      string   // idempotency key: incident id + update event id + channel; stable across retries
	Kind     Kind     // update or rfo
	Title    string   // rendered title (status page, forum topic)
	Text     string   // rendered for this channel: Markdown for status page and forum, plain for social
	HTML     string   // Text as HTML, responder input escaped: for the status page, and link channels that implement HTMLWanted
	Link     string   // canonical URL (the status page's); empty for the status page itself
	Thread   *Receipt // the channel's first receipt for this incident: edit or reply-root target
	Parent   *Receipt // the channel's latest receipt for this incident: reply-parent target
	Incident Incident // the incident as it stands with this update applied
	Texts    map[string]string
	// Texts holds every rendered text by template name (webhook only).

	// Fresh says this is the first attempt at a delivery that this process
	// recorded just before (a publish, not a retry): no earlier attempt can
	// have left a twin on the service, so a channel skips the look-up it
	// makes before creating (a WordPress slug, a Discourse external_id or
	// reply marker, a Statuspage incident). It is false on every later
	// attempt (the outcome of the one before may be unknown: a timeout, a
	// dropped connection) and in `incident retry` (a killed process may
	// have sent the post without recording the answer).
	Fresh bool
}

// Receipt is what a channel answered for one delivered post.
type Receipt struct {
	ID   string            `toml:"id" json:"id"`
	URL  string            `toml:"url,omitempty" json:"url,omitempty"`
	At   time.Time         `toml:"at" json:"at"`
	Meta map[string]string `toml:"meta,omitempty" json:"meta,omitempty"`
}

// Incident is the runbook's incident as channels see it.
type Incident struct {
	ID         string
	Title      string
	Status     string // investigating, identified, monitoring, resolved (a maintenance window: scheduled, in_progress, completed, cancelled)
	Severity   string // minor, major, critical (may be empty)
	Services   []Service
	Accounts   int // estimate of accounts affected; 0 when unknown
	StartedAt  time.Time
	OpenedAt   time.Time
	ResolvedAt time.Time // zero while open
	Updates    []Update  // oldest first; the last is the one being published
	RFO        *Update   // the published or edited RFO, if any
	// States is each affected service's state (service id -> one of
	// States) as of the last update: what a status page with components
	// shows. Every affected service has one; all are operational once
	// resolved.
	States  map[string]string
	Related []RelatedIncident
	// Maintenance is set when the incident is a scheduled maintenance
	// window: its Status is then scheduled, in_progress, completed or
	// cancelled (Statuspage's words, plus cancelled), its services are
	// under_maintenance only while it is in progress, and it has no
	// severity.
	Maintenance *Maintenance
}

// RelatedIncident is an earlier incident an incident is related to (it
// recurs): its URL is its status post's ("" when it has none).
type RelatedIncident struct {
	ID, Title, URL string
	StartedAt      time.Time
}

// Maintenance is a scheduled maintenance window.
type Maintenance struct {
	Start, End time.Time // the announced window
}

// Closed reports whether the incident is over: resolved, or a maintenance
// window that was completed or cancelled.
func (inc Incident) Closed() bool {
	switch inc.Status {
	case "resolved", "completed", "cancelled":
		return true
	}
	return false
}

// Update is one public update of an incident.
type Update struct {
	Number  int
	Status  string
	Message string // as the responder typed it (Markdown)
	// Markdown is Message escaped for a venue that renders Markdown (the
	// templates' rule, templates.MarkdownText): for a channel that sends one
	// update's message on its own.
	Markdown string
	HTML     string // Message as HTML, escaped
	At       time.Time
	Author   string
	States   map[string]string // service id -> state set by this update
}

// Service is one service (component) named in the runbook.
type Service struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Counter is implemented by channels that limit the length of a post. Length
// counts text with the channel's own rules (weighted characters, URLs as a
// fixed length, graphemes) and returns the count and the limit.
type Counter interface {
	Length(text string) (n, limit int)
}

// Verifier is implemented by channels that can check their credentials with a
// read-only call (incident doctor --online). It returns who the service says
// we are.
type Verifier interface {
	Verify(ctx context.Context) (string, error)
}

// LimitLoader is implemented by channels whose length limit depends on the
// service (a Mastodon instance's max_characters). The engine calls it, with
// a short deadline, before it renders; on failure the channel keeps its
// default limit.
type LimitLoader interface {
	LoadLimit(ctx context.Context)
}

// Locator is implemented by status pages that know the public URL of an
// incident's page before publishing it (static, hugo). The engine uses it to
// check link-channel lengths against the real URL.
type Locator interface {
	URLFor(incidentID string, kind Kind) string
}

// HTMLWanted is implemented by link channels that send HTML besides their
// text (email): for them the engine fills Post.HTML from the rendered
// Markdown text.
type HTMLWanted interface {
	WantsHTML() bool
}

// Subscriber is implemented by channels that people can subscribe to
// themselves, such as an announcement mailing list. Subscribe returns what
// the status page offers under "Subscribe": an address (list@example.com)
// or an http(s) URL of the list's subscribe page; "" when none.
type Subscriber interface {
	Subscribe() string
}

// Env is what a channel constructor gets from the runbook besides its own
// config keys.
type Env struct {
	Name         string // the channel's name from config (for errors)
	Dir          string // the runbook directory; relative paths in config are relative to it
	Records      string // the incident records folder (Dir/incidents): never written into or deleted by a channel
	StateDir     string // the user's state directory for this runbook (sessions, caches); never in the runbook
	UserAgent    string // "incident/VERSION"
	HTTP         *http.Client
	Organization string
	Services     []Service
	Secrets      *Resolver
	Now          func() time.Time
	// When formats a time for people in the runbook's zones, primary first:
	// "Fri 27 Nov 12:00 CET (11:00 UTC)".
	When func(time.Time) string
	// Window formats a maintenance window the same way: "Tue 1 Dec
	// 22:00–23:00 CET (21:00–22:00 UTC)".
	Window func(start, end time.Time) string
}

// Factory builds a channel from its config table. It decodes cfg with
// md.PrimitiveDecode into its own struct, so unknown keys are found by the
// caller through md.Undecoded.
type Factory func(cfg toml.Primitive, md toml.MetaData, env Env) (Publisher, error)

// KeysOf lists the toml keys of a config struct, for "did you mean" hints.
func KeysOf(cfg any) []string {
	t := reflect.TypeOf(cfg)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var keys []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		keys = append(keys, name)
	}
	return keys
}
