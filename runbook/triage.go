package runbook

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Ack records that a person took the incident over: escalation stops and
// the automatic first update is not published. how says through what
// ("cli", "pushover"). Acknowledging twice changes nothing.
func (r *Runbook) Ack(ctx context.Context, id, how, by string) (*Incident, error) {
	inc, err := r.Store.LoadFresh(id)
	if err != nil {
		return nil, err
	}
	if !inc.Open() {
		return inc, &UsageError{fmt.Errorf("incident %s is %s: there is nothing to acknowledge", id, inc.Status)}
	}
	if inc.Acked() {
		return inc, nil
	}
	if by == "" {
		by = r.Responder
	}
	e := Event{Kind: KindAck, At: r.Now(), By: by, Host: r.Host, How: how}
	if err := r.Store.Append(id, &e); err != nil {
		return nil, err
	}
	return r.Store.LoadFresh(id)
}

// Dismiss closes a private incident as a false alarm: nothing of it was
// published, and nothing will be; it never appears on the status page, in
// history or in a feed.
func (r *Runbook) Dismiss(ctx context.Context, id, reason string) (*Incident, error) {
	if strings.TrimSpace(reason) == "" {
		return nil, &UsageError{errors.New("say why with --reason (\"flap\", \"planned restart\")")}
	}
	unlock, err := r.Store.Lock(ctx, id)
	if err != nil {
		return nil, err
	}
	defer unlock()
	inc, err := r.Store.LoadFresh(id)
	if err != nil {
		return nil, err
	}
	switch {
	case !inc.Open():
		return inc, &UsageError{fmt.Errorf("incident %s is already %s", id, inc.Status)}
	case !inc.Private():
		return inc, &UsageError{fmt.Errorf("incident %s is public (%d update(s) published): `incident close %s` resolves it publicly", id, len(inc.PublicUpdates()), id)}
	}
	e := Event{Kind: KindDismissed, At: r.Now(), By: r.Responder, Host: r.Host, How: "dismissed", Text: reason}
	if err := r.Store.Append(id, &e); err != nil {
		return nil, err
	}
	return r.Store.LoadFresh(id)
}
