package runbook

import (
	"fmt"
	"slices"
	"time"

	"github.com/incident-cli/incident/publishers"
)

// Statuses of the lifecycle, in order.
const (
	Investigating = "investigating"
	Identified    = "identified"
	Monitoring    = "monitoring"
	Resolved      = "resolved"
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
	Related    []string // ids of earlier incidents this one is related to (a recurrence)

	Updates []*Update // public updates (and RFO posts), in order
	Notes   []Event
	Steps   []Event
	Events  []Event // the whole log, in order
}

// Update is one public update and the fate of its deliveries.
type Update struct {
	Event      Event
	Number     int // 1-based among updates (RFO posts are not numbered)
	RFO        bool
	Deliveries []*Delivery // in planned order: status page first
}

// Delivery states.
const (
	Pending = "pending"
	Sent    = "sent"
	Failed  = "failed"
)

// Delivery is one planned post of an update on one channel.
type Delivery struct {
	Channel   string
	State     string // pending, sent, failed
	Receipt   *publishers.Receipt
	Error     string
	Attempts  int
	Permanent bool
	At        time.Time // of the last result
	Claims    []Event   // claims by machines about to deliver it (see ClaimTTL)
}

// Fold computes an incident's state from its events (already in order).
func Fold(id string, events []Event) *Incident {
	inc := &Incident{ID: id, Events: events}
	byID := map[string]*Update{}
	n := 0
	for _, e := range events {
		switch e.Kind {
		case KindOpened:
			inc.Title, inc.Severity, inc.Services = e.Title, e.Severity, e.Services
			inc.OpenedAt, inc.OpenedBy, inc.Status = e.At, e.By, Investigating
			inc.StartedAt = e.At
			applyFields(inc, e)
			if e.Message == "" {
				continue // opened without its first update (logs of older versions)
			}
			fallthrough // the opened event is also update #1
		case KindUpdate:
			u := &Update{Event: e, RFO: e.Post == "rfo"}
			if !u.RFO {
				n++
				u.Number = n
				applyFields(inc, e)
				inc.Status = e.Status
				if e.Status == Resolved {
					inc.ResolvedAt = e.At
				} else {
					inc.ResolvedAt = time.Time{}
				}
			}
			for _, c := range e.Channels {
				u.Deliveries = append(u.Deliveries, &Delivery{Channel: c, State: Pending})
			}
			inc.Updates = append(inc.Updates, u)
			byID[e.ID] = u
		case KindDelivered, KindFailed:
			u := byID[e.Update]
			if u == nil {
				continue
			}
			d := u.Delivery(e.Channel)
			if d == nil {
				d = &Delivery{Channel: e.Channel, State: Pending}
				u.Deliveries = append(u.Deliveries, d)
			}
			if d.State == Sent {
				continue // a late failure never hides a success
			}
			d.At = e.At
			if e.Kind == KindDelivered {
				d.State, d.Receipt, d.Error = Sent, e.Receipt, ""
			} else {
				d.State, d.Error, d.Permanent = Failed, e.Error, e.Permanent
				d.Attempts += e.Attempts
			}
		case KindClaim:
			if u := byID[e.Update]; u != nil {
				if d := u.Delivery(e.Channel); d != nil {
					d.Claims = append(d.Claims, e)
				}
			}
		case KindChanged:
			applyFields(inc, e)
		case KindNote:
			inc.Notes = append(inc.Notes, e)
		case KindStep:
			inc.Steps = append(inc.Steps, e)
			if e.Outcome == "noted" && e.Text != "" {
				inc.Notes = append(inc.Notes, e) // a checklist note is a note
			}
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

// Open reports whether the incident is not resolved.
func (inc *Incident) Open() bool { return inc.Status != Resolved }

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
			if d.State != Sent {
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
// has no step in it.
func (inc *Incident) Walk(phase string) (run string, done map[string]bool) {
	for _, e := range inc.Steps {
		if e.Phase == phase && e.Run != "" {
			run = e.Run
		}
	}
	done = map[string]bool{}
	for _, e := range inc.Steps {
		if e.Phase == phase && e.Run == run && run != "" {
			done[e.Step] = true
		}
	}
	return run, done
}
