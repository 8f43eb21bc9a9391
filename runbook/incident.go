package runbook

import (
	"fmt"
	"slices"
	"time"

	"github.com/incident-cli/incident/publishers"
)

// Statuses of the lifecycle, in order. An incident born from an alert
// starts one step earlier, Triggered: private (recorded, shown to staff,
// nothing public) until its first public update; one that closes while
// still private (a false alarm, or every alert recovered) is Dismissed and
// never appears on the status page, in history or in a feed.
const (
	Triggered     = "triggered"
	Investigating = "investigating"
	Identified    = "identified"
	Monitoring    = "monitoring"
	Resolved      = "resolved"
	Dismissed     = "dismissed"
)

// Statuses lists the statuses an update may set (resolved only through close).
var Statuses = []string{Investigating, Identified, Monitoring, Resolved}

// Severities lists the valid severities.
var Severities = []string{"minor", "major", "critical"}

// Incident is the fold of an incident's events: its current state.
type Incident struct {
	ID         string
	Title      string
	Status     string
	Severity   string
	Services   []string
	Accounts   int // 0 when unknown
	StartedAt  time.Time
	OpenedAt   time.Time
	ResolvedAt time.Time // zero while open
	OpenedBy   string
	// States is each affected service's state as of the last public
	// update (service id -> state); all operational once resolved.
	States  map[string]string
	Related []string // ids of earlier incidents this one is related to (a recurrence)

	Updates []*Update // public updates (and RFO posts), in order
	Notes   []Event
	Steps   []Event
	Events  []Event // the whole log, in order

	// Alerting: the incident's alerts, and who took it over.
	FromAlert    bool          // opened by an alert (see Triggered)
	Route        string        // the route that opened it
	PublishAfter time.Duration // the route's automatic first update; 0 when off
	Alerts       []*AlertState // by source and key, in order of first notification
	AckedAt      time.Time     // when a person acknowledged (incident ack, a page's button, publishing an update); zero while no one has
	AckedBy      string
	AckHow       string
	DismissedAt  time.Time // when it was closed privately
	DismissedBy  string
	Reason       string // why it was dismissed ("flap", "recovered after 3 min")

	// Maintenance is set when the incident is a scheduled maintenance
	// window (see maintenance.go): its Status is then Scheduled,
	// InProgress, Completed or Cancelled.
	Maintenance *Maintenance

	statesSeverity string // the severity when States were last set (see nextStates)

	// Pages are the incident's pages to staff, by key, in order of their
	// first record (see paging.go).
	Pages []*PageState
}

// Update is one public update and the fate of its deliveries.
type Update struct {
	Event      Event
	Number     int // 1-based among updates (RFO posts are not numbered)
	RFO        bool
	Deliveries []*Delivery // in planned order: status page first
	// States is each affected service's state set by this update (the
	// recorded states, or the severity's default for older records); nil
	// for RFO posts.
	States map[string]string
}

// Delivery states.
const (
	Pending = "pending"
	Sent    = "sent"
	Failed  = "failed"
	// Superseded: a newer update reached the channel first, so this one is
	// not posted (it would show customers an older state after a newer one);
	// on a status page the newer post already holds its text.
	Superseded = "superseded"
)

// Delivery is one planned post of an update on one channel.
type Delivery struct {
	Channel   string
	State     string // pending, sent, failed
	Receipt   *publishers.Receipt
	Error     string
	Attempts  int
	Failures  int // failed events recorded
	Permanent bool
	At        time.Time // of the last result
	Note      string    // what the channel had to do to deliver it ("shortened to fit ...")
	// SupersededBy is the id of the newer update that made this delivery
	// Superseded.
	SupersededBy string
}

// Done reports whether nothing is left to do for the delivery: it was sent,
// or superseded by a newer update.
func (d *Delivery) Done() bool { return d.State == Sent || d.State == Superseded }

// Fold computes an incident's state from its events (already in order).
// Results (delivered, failed) are matched to their update by its
// id, wherever they stand in the log: an event stamped by a clock that was
// behind is never dropped for its position.
func Fold(id string, events []Event) *Incident {
	inc := &Incident{ID: id, Events: events}
	byID := map[string]*Update{}
	n := 0
	for _, e := range events {
		switch e.Kind {
		case KindOpened:
			if !inc.OpenedAt.IsZero() && e.Message == "" {
				// A second open of the same folder: two machines opened an
				// incident for the same alert at once (their ids are derived
				// from it) and git merged the folders. It is one incident.
				continue
			}
			inc.Title, inc.Severity, inc.Services = e.Title, e.Severity, e.Services
			inc.OpenedAt, inc.OpenedBy, inc.Status = e.At, e.By, Investigating
			inc.StartedAt = e.At
			applyFields(inc, e)
			if w := e.Maintenance; w != nil {
				inc.Maintenance = &Maintenance{Start: w.Start, End: w.End, Phase: Scheduled}
				inc.Status, inc.StartedAt = Scheduled, w.Start
			}
			if e.Status == Triggered {
				inc.Status, inc.FromAlert, inc.Route = Triggered, true, e.Route
				inc.PublishAfter, _ = parseAfter(e.PublishAfter)
				if e.Alert != nil {
					foldAlerting(inc, Event{Kind: KindAlert, At: e.At, Alert: e.Alert}) // the alert that opened it
				}
			}
			if e.Message == "" {
				continue // triggered by an alert, or opened without its first update (logs of older versions)
			}
			fallthrough // the opened event is also update #1
		case KindUpdate:
			u := &Update{Event: e, RFO: e.Post == "rfo"}
			if !u.RFO {
				n++
				u.Number = n
				applyFields(inc, e)
				inc.Status = e.Status
				if inc.Maintenance != nil {
					foldMaintenance(inc, e)
				}
				if inc.AckedAt.IsZero() && e.By != AutomaticAuthor {
					inc.AckedAt, inc.AckedBy, inc.AckHow = e.At, e.By, "published an update" // publishing acknowledges
				}
				inc.DismissedAt = time.Time{}
				if closedStatus(e.Status) {
					inc.ResolvedAt = e.At
				} else {
					inc.ResolvedAt = time.Time{}
				}
				u.States = foldStates(inc, e)
				inc.States, inc.statesSeverity = u.States, inc.Severity
			}
			for _, c := range e.Channels {
				u.Deliveries = append(u.Deliveries, &Delivery{Channel: c, State: Pending})
			}
			inc.Updates = append(inc.Updates, u)
			byID[e.ID] = u
		case KindChanged:
			applyFields(inc, e)
		case KindAlert, KindAck, KindDismissed:
			foldAlerting(inc, e)
		case KindPage:
			foldPage(inc, e)
		case KindNote:
			inc.Notes = append(inc.Notes, e)
		case KindStep:
			inc.Steps = append(inc.Steps, e)
			if e.Outcome == "noted" && e.Text != "" {
				inc.Notes = append(inc.Notes, e) // a checklist note is a note
			}
		}
	}
	for _, e := range events {
		if e.Kind != KindDelivered && e.Kind != KindFailed {
			continue
		}
		u := byID[e.Update]
		if u == nil {
			continue
		}
		d := u.Delivery(e.Channel)
		if d == nil {
			d = &Delivery{Channel: e.Channel, State: Pending}
			u.Deliveries = append(u.Deliveries, d)
		}
		upgrade := d.State == Superseded && e.Kind == KindDelivered && e.SupersededBy == "" // it went out after all
		if d.Done() && !upgrade {
			continue // a late failure never hides a success
		}
		d.At = e.At
		switch {
		case e.Kind == KindDelivered && e.SupersededBy != "":
			d.State, d.SupersededBy, d.Error = Superseded, e.SupersededBy, ""
		case e.Kind == KindDelivered:
			d.State, d.Receipt, d.Error, d.Note = Sent, e.Receipt, "", e.Note
		default:
			d.State, d.Error, d.Permanent = Failed, e.Error, e.Permanent
			d.Attempts += e.Attempts
			d.Failures++
		}
	}
	return inc
}

func applyFields(inc *Incident, e Event) {
	if e.Title != "" {
		inc.Title = e.Title
	}
	if e.Severity != "" {
		inc.Severity = e.Severity
	}
	if e.Services != nil {
		inc.Services = e.Services
	}
	if e.Accounts != nil {
		inc.Accounts = *e.Accounts
	}
	if e.StartedAt != nil {
		inc.StartedAt = *e.StartedAt
	}
	if e.Related != nil {
		inc.Related = e.Related
	}
}

// Delivery returns the update's delivery on a channel, or nil.
func (u *Update) Delivery(channel string) *Delivery {
	for _, d := range u.Deliveries {
		if d.Channel == channel {
			return d
		}
	}
	return nil
}

// update returns the update recorded by the event with this id, or nil.
func (inc *Incident) update(id string) *Update {
	for _, u := range inc.Updates {
		if u.Event.ID == id {
			return u
		}
	}
	return nil
}

// Open reports whether the incident is neither resolved nor dismissed (nor,
// for a maintenance window, completed or cancelled).
func (inc *Incident) Open() bool { return !closedStatus(inc.Status) && inc.Status != Dismissed }

// Private reports whether nothing of the incident was published: it is
// shown to staff only, never on the status page, in history or a feed.
func (inc *Incident) Private() bool { return len(inc.PublicUpdates()) == 0 }

// PublicUpdates returns the numbered updates (not RFO posts).
func (inc *Incident) PublicUpdates() []*Update {
	var out []*Update
	for _, u := range inc.Updates {
		if !u.RFO {
			out = append(out, u)
		}
	}
	return out
}

// LastPublic returns the time of the last public update that reached the
// status page (or was at least attempted), zero when none.
func (inc *Incident) LastPublic() time.Time {
	ups := inc.PublicUpdates()
	if len(ups) == 0 {
		return time.Time{}
	}
	return ups[len(ups)-1].Event.At
}

// Undelivered counts deliveries that are pending or failed.
func (inc *Incident) Undelivered() int {
	n := 0
	for _, u := range inc.Updates {
		for _, d := range u.Deliveries {
			if !d.Done() {
				n++
			}
		}
	}
	return n
}

// Thread returns a channel's first and latest receipts for this incident's
// updates (RFO posts on the status page are their own thread).
func (inc *Incident) Thread(channel string, statusPage bool) (first, last *publishers.Receipt) {
	for _, u := range inc.Updates {
		if u.RFO && statusPage {
			continue
		}
		if d := u.Delivery(channel); d != nil && d.State == Sent && d.Receipt != nil {
			if first == nil {
				first = d.Receipt
			}
			last = d.Receipt
		}
	}
	return first, last
}

// RFOPost returns a channel's receipt of the incident's first RFO post: an
// edited RFO updates that post instead of making a new one.
func (inc *Incident) RFOPost(channel string) *publishers.Receipt {
	for _, u := range inc.Updates {
		if d := u.Delivery(channel); u.RFO && d != nil && d.State == Sent && d.Receipt != nil {
			return d.Receipt
		}
	}
	return nil
}

// CheckTransition says whether an update may move the incident to status.
// Updates move forward, stay, or step back; resolved is reached only through
// close, and a resolved incident changes only through reopen.
func CheckTransition(inc *Incident, status string, via string) error {
	if !slices.Contains(Statuses, status) {
		return fmt.Errorf("unknown status %q: use investigating, identified or monitoring", status)
	}
	if inc.Status == Dismissed {
		return fmt.Errorf("incident %s was dismissed (closed privately, never public): run `incident open` for a new one", inc.ID)
	}
	switch via {
	case "update":
		if !inc.Open() {
			return fmt.Errorf("incident %s is resolved: run `incident reopen %s` to reopen it", inc.ID, inc.ID)
		}
		if status == Resolved {
			return fmt.Errorf("an update cannot resolve an incident: run `incident close %s`", inc.ID)
		}
	case "close":
		if !inc.Open() {
			return fmt.Errorf("incident %s is already resolved", inc.ID)
		}
		if inc.Private() {
			return fmt.Errorf("nothing of incident %s was published yet: `incident dismiss %s --reason TEXT` closes it privately, `incident update %s` publishes its first update", inc.ID, inc.ID, inc.ID)
		}
	case "reopen":
		if inc.Open() {
			return fmt.Errorf("incident %s is not resolved; use `incident update %s`", inc.ID, inc.ID)
		}
		if status == Resolved {
			return fmt.Errorf("reopen needs a status other than resolved")
		}
	}
	return nil
}

// Walk describes the latest checklist walk of a phase: its run id and the
// items it finished. A walk is unfinished while some item of the checklist
// has no step in it. An update published by a walk's publish item counts as
// that item done, even when the walk was interrupted before recording it.
func (inc *Incident) Walk(phase string) (run string, done map[string]bool) {
	walked := func(e *Event) bool {
		return e.Phase == phase && e.Run != "" && (e.Kind == KindStep || e.Kind == KindUpdate || e.Kind == KindOpened)
	}
	for i := range inc.Events {
		if e := &inc.Events[i]; walked(e) {
			run = e.Run
		}
	}
	done = map[string]bool{}
	for i := range inc.Events {
		if e := &inc.Events[i]; walked(e) && e.Run == run && e.Step != "" {
			done[e.Step] = true
		}
	}
	return run, done
}

// PublishedBy returns the update a checklist walk's run published, or nil.
func (inc *Incident) PublishedBy(run string) *Update {
	if run == "" {
		return nil
	}
	for _, u := range inc.Updates {
		if u.Event.Run == run {
			return u
		}
	}
	return nil
}
