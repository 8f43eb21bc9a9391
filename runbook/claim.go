package runbook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/incident-cli/incident/templates"
)

// Claims keep two machines that share a runbook through git from both doing
// the same thing: retrying the same delivery, or carrying out the same timed
// action (the automatic first update, a page). Before acting, a machine
// records a claim event on the thing's key and pushes it. The shared
// history decides who acts: of the open claims on a key, the one whose
// commit came first in the remote's history wins (pushes are linear: a
// rejected push is rebased behind the one that won), never a wall-clock
// field, which a slow push or a clock that is off would get wrong.
//
// A claim is open until a result for its key follows it in the log (the
// delivery's delivered or failed event, the action's own event) or its
// machine releases it. A machine honours another's open claim for ClaimTTL,
// counted from when it first saw the claim on its own clock, so a machine
// whose clock is minutes ahead does not take fresh claims for stale ones; an
// older open claim belongs to a run that died, and the key is taken over
// (an idempotency key still guards the delivery where the channel allows).

// KindClaim records that a machine is about to deliver an update to a
// channel, or to carry out a timed action (Event.Action). Outcome
// "released" withdraws the machine's earlier claims on the key.
const KindClaim EventKind = "claim"

// ClaimTTL is how long this machine honours another machine's open claim
// after first seeing it. A claimant pushes its results as each update's
// deliveries end, well within it: a channel's whole retry budget is 90 s.
const ClaimTTL = 10 * time.Minute

// ErrUncoordinated is returned when a claim could not be shared (the remote
// cannot be reached, the branch has no upstream, the push was rejected
// again and again): nothing was done, since another machine may be doing it.
var ErrUncoordinated = errors.New("could not coordinate with the other machines through git")

// deliveryKey is the claim key of an update's delivery on a channel.
func deliveryKey(update, channel string) string { return update + "/" + channel }

// actionKey is the claim key of a timed action.
func actionKey(action string) string { return "action:" + action }

// claimKey is the key an event claims or settles: its delivery, or its
// action.
func claimKey(e *Event) string {
	if e.Action != "" {
		return actionKey(e.Action)
	}
	if e.Update != "" && e.Channel != "" {
		return deliveryKey(e.Update, e.Channel)
	}
	return ""
}

// openClaims folds the claims of a log: per key, the claims not yet
// followed by a result or released, in log order.
func openClaims(events []Event) map[string][]Event {
	open := map[string][]Event{}
	for _, e := range events {
		k := claimKey(&e)
		if k == "" {
			continue
		}
		switch {
		case e.Kind == KindClaim && e.Outcome == "released":
			kept := open[k][:0]
			for _, c := range open[k] {
				if c.By != e.By || c.Host != e.Host {
					kept = append(kept, c)
				}
			}
			open[k] = kept
		case e.Kind == KindClaim:
			open[k] = append(open[k], e)
		case e.Kind == KindDelivered || e.Kind == KindFailed || e.Action != "":
			delete(open, k) // the delivery or action has its result
		}
	}
	return open
}

func (r *Runbook) isMine(c *Event) bool { return c.By == r.Responder && c.Host == r.Host }

// coordinate claims keys of incident id for this machine and returns those
// another machine holds, with the reason. Keys another machine holds an
// open, live claim on are left to it without claiming. For the others it
// records claims, pushes them and reads the remote's history: where
// another machine's open claim came first, the key is left to it (and this
// machine's claim released). Without git sync it claims nothing: the local
// lock serializes this machine's processes.
func (r *Runbook) coordinate(ctx context.Context, id string, keys []string, what string) (map[string]string, error) {
	skip := map[string]string{}
	if r.Sync == nil || len(keys) == 0 {
		return skip, nil
	}
	r.Sync.Pending = nil // what is pending is pushed with the claims
	if err := r.Sync.Pull(ctx); err != nil {
		return nil, err
	}
	if err := r.Sync.Pending; err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUncoordinated, err)
	}
	events, err := r.Store.EventsFresh(id)
	if err != nil {
		return nil, err
	}
	seen := r.loadSeen()
	defer r.saveSeen(seen)
	open := openClaims(events)
	mine := map[string]string{} // key -> my claim's event id
	for _, k := range keys {
		if c := r.liveClaim(open[k], seen, nil, nil); c != nil {
			skip[k] = r.claimedBy(c, seen)
			continue
		}
		e := claimEvent(r, k)
		if err := r.Store.Append(id, &e); err != nil {
			return nil, err
		}
		mine[k] = e.ID
	}
	if len(mine) == 0 {
		return skip, nil
	}
	if err := r.shareNow(ctx, fmt.Sprintf("incident: claim %s on %s", what, id)); err != nil {
		return nil, err
	}
	order, err := r.Sync.History(ctx, "incidents/"+id)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUncoordinated, err)
	}
	if events, err = r.Store.EventsFresh(id); err != nil {
		return nil, err
	}
	open = openClaims(events)
	var lost []string
	for k, own := range mine {
		pos, ok := order[own]
		if !ok {
			return nil, fmt.Errorf("%w: the claim pushed is not in the remote's history", ErrUncoordinated)
		}
		if c := r.liveClaim(open[k], seen, order, &pos); c != nil {
			skip[k] = r.claimedBy(c, seen)
			lost = append(lost, k)
		}
	}
	// A claim that lost is withdrawn, so it holds no one up later.
	sort.Strings(lost)
	for _, k := range lost {
		e := claimEvent(r, k)
		e.Outcome = "released"
		if err := r.Store.Append(id, &e); err != nil {
			return nil, err
		}
	}
	return skip, nil
}

// claimEvent is this machine's claim on key k.
func claimEvent(r *Runbook, k string) Event {
	e := Event{Kind: KindClaim, At: r.Now(), By: r.Responder, Host: r.Host}
	if a, ok := strings.CutPrefix(k, "action:"); ok {
		e.Action = a
	} else {
		e.Update, e.Channel, _ = strings.Cut(k, "/") // event ids hold no slash; channel names may
	}
	return e
}

// liveClaim returns another machine's open claim that is still honoured
// (first seen less than ClaimTTL ago); with order and before set, only one
// that came before position *before in the remote's history.
func (r *Runbook) liveClaim(claims []Event, seen map[string]time.Time, order map[string]int, before *int) *Event {
	now := r.Now()
	var best *Event
	bestPos := 0
	for i := range claims {
		c := &claims[i]
		if r.isMine(c) {
			continue // an earlier run of this machine, which died: this one holds the lock
		}
		first, ok := seen[c.ID]
		if !ok {
			first = now
			seen[c.ID] = now
		}
		if now.Sub(first) >= ClaimTTL {
			continue
		}
		if before != nil {
			pos, ok := order[c.ID]
			if !ok || pos >= *before {
				continue // not in the shared history yet, or after ours
			}
			if best == nil || pos < bestPos {
				best, bestPos = c, pos
			}
			continue
		}
		if best == nil {
			best = c
		}
	}
	return best
}

func (r *Runbook) claimedBy(c *Event, seen map[string]time.Time) string {
	age := r.Now().Sub(seen[c.ID])
	return fmt.Sprintf("left to %s@%s, who claimed it (seen %s ago here; a claim is honoured for %s)", c.By, c.Host,
		templates.Duration(age), templates.Duration(ClaimTTL))
}

// shareNow commits what was written and pushes it; anything short of a
// push that landed is ErrUncoordinated.
func (r *Runbook) shareNow(ctx context.Context, message string) error {
	if err := r.SyncAfter(ctx, message); err != nil {
		return err
	}
	if err := r.Sync.Pending; err != nil {
		return fmt.Errorf("%w: %v", ErrUncoordinated, err)
	}
	return nil
}

// seenFile keeps, per claim, when this machine first saw it.
func (r *Runbook) seenFile() string { return filepath.Join(r.StateDir, "claims-seen.json") }

func (r *Runbook) loadSeen() map[string]time.Time {
	seen := map[string]time.Time{}
	if b, err := os.ReadFile(r.seenFile()); err == nil {
		_ = json.Unmarshal(b, &seen)
	}
	return seen
}

// saveSeen writes the first-seen times back, dropping those older than a
// day (their claims expired long ago).
func (r *Runbook) saveSeen(seen map[string]time.Time) {
	now := r.Now()
	for k, t := range seen {
		if now.Sub(t) > 24*time.Hour {
			delete(seen, k)
		}
	}
	if b, err := json.Marshal(seen); err == nil && os.MkdirAll(r.StateDir, 0o700) == nil {
		_ = writeCache(r.StateDir, "claims-seen.json", b)
	}
}
