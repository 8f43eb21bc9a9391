package runbook

import (
	"context"
	"fmt"

	"github.com/incident-cli/incident/templates"
)

// claim keeps two machines retrying the same delivery from both posting it.
// It records a claim on every undelivered delivery that no other machine has
// claimed within ClaimTTL, pushes the claims, pulls again, and where another
// machine claimed the same delivery earlier, leaves it to that machine. It
// returns the deliveries to skip, with the reason.
func (r *Runbook) claim(ctx context.Context, id string) (map[string]string, error) {
	if err := r.Sync.Pull(ctx); err != nil {
		return nil, err
	}
	inc, err := r.Store.Load(id)
	if err != nil {
		return nil, err
	}
	skip := map[string]string{}
	var mine []string
	for _, u := range inc.Updates {
		for _, d := range u.Deliveries {
			if d.State == Sent {
				continue
			}
			k := u.Event.ID + "/" + d.Channel
			if c := r.otherClaim(d, nil); c != nil {
				skip[k] = r.claimedBy(c)
				continue
			}
			e := Event{Kind: KindClaim, At: r.Now(), By: r.Responder, Host: r.Host, Update: u.Event.ID, Channel: d.Channel}
			if err := r.Store.Append(id, &e); err != nil {
				return nil, err
			}
			mine = append(mine, k)
		}
	}
	if len(mine) == 0 {
		return skip, nil
	}
	if err := r.SyncAfter(ctx, fmt.Sprintf("incident: claim %d delivery(ies) on %s", len(mine), id)); err != nil {
		return nil, err
	}
	if r.Sync.Pending != nil {
		return skip, nil // offline: no one to coordinate with; the idempotency keys still hold
	}
	if err := r.Sync.Pull(ctx); err != nil {
		return nil, err
	}
	if inc, err = r.Store.Load(id); err != nil {
		return nil, err
	}
	for _, u := range inc.Updates {
		for _, d := range u.Deliveries {
			if d.State == Sent {
				continue
			}
			var own *Event
			for i := range d.Claims {
				if c := &d.Claims[i]; r.isMine(c) {
					own = c
				}
			}
			if own == nil {
				continue
			}
			if c := r.otherClaim(d, own); c != nil {
				skip[u.Event.ID+"/"+d.Channel] = r.claimedBy(c)
			}
		}
	}
	return skip, nil
}

func (r *Runbook) isMine(c *Event) bool { return c.By == r.Responder && c.Host == r.Host }

// otherClaim returns a fresh claim by another machine on d that came after
// d's last result, and (when own is set) before own.
func (r *Runbook) otherClaim(d *Delivery, own *Event) *Event {
	now := r.Now()
	var best *Event
	for i := range d.Claims {
		c := &d.Claims[i]
		if r.isMine(c) || now.Sub(c.At) >= ClaimTTL || (!d.At.IsZero() && c.At.Before(d.At)) {
			continue
		}
		if own != nil && !(c.At.Before(own.At) || (c.At.Equal(own.At) && c.ID < own.ID)) {
			continue
		}
		if best == nil || c.At.Before(best.At) {
			best = c
		}
	}
	return best
}

func (r *Runbook) claimedBy(c *Event) string {
	return fmt.Sprintf("left to %s@%s, who claimed it %s ago (claims expire after %s)", c.By, c.Host,
		templates.Duration(r.Now().Sub(c.At)), templates.Duration(ClaimTTL))
}
