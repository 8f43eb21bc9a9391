package pushover

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/incident-cli/incident/pagers"
	"github.com/incident-cli/incident/publishers"
)

// receipts returns the emergency receipts of a page, each with the person
// it went to.
func receipts(r pagers.Receipt) (ids, people []string) {
	for i, id := range strings.Split(r.Meta["receipt"], ",") {
		if !validReceipt(id) {
			continue
		}
		who := ""
		if i < len(r.To) {
			who = r.To[i]
		}
		ids, people = append(ids, id), append(people, who)
	}
	return ids, people
}

// receiptStatus is GET /1/receipts/{r}.json's answer.
type receiptStatus struct {
	Status               int    `json:"status"`
	Acknowledged         int    `json:"acknowledged"`
	AcknowledgedAt       int64  `json:"acknowledged_at"`
	AcknowledgedBy       string `json:"acknowledged_by"`
	AcknowledgedByDevice string `json:"acknowledged_by_device"`
	Expired              int    `json:"expired"`
	ExpiresAt            int64  `json:"expires_at"`
}

// Acknowledged polls each emergency receipt of the page once (Pushover
// allows one poll per receipt every 5 s; the caller spaces them). The page
// is acknowledged when anyone acknowledged it; By is the person in `to`
// whose user key tapped Acknowledge, or, for a group key, the group's name
// and the device. It is expired when every receipt expired unacknowledged,
// or is gone (Pushover keeps receipts a week).
func (p *Pager) Acknowledged(ctx context.Context, r pagers.Receipt) (pagers.Ack, error) {
	ids, people := receipts(r)
	if len(ids) == 0 {
		return pagers.Ack{}, publishers.Permanent(errors.New("pushover: the page has no emergency receipt to poll (only urgent pages, priority 2, can be acknowledged in the app)"))
	}
	token, err := p.token(ctx)
	if err != nil {
		return pagers.Ack{}, err
	}
	var ack pagers.Ack
	expired := 0
	for i, id := range ids {
		var st receiptStatus
		_, err := p.get(ctx, "poll receipt", "/1/receipts/"+id+".json", url.Values{"token": {token}}, &st)
		var he *publishers.HTTPError
		switch {
		case errors.As(err, &he) && he.Status == http.StatusNotFound:
			expired++
			continue
		case err != nil:
			return pagers.Ack{}, fmt.Errorf("pushover: %w", err)
		case st.Status != 1:
			return pagers.Ack{}, fmt.Errorf("pushover: poll receipt: Pushover answered status %d without an error", st.Status)
		}
		if st.Acknowledged == 1 {
			at := time.Unix(st.AcknowledgedAt, 0).UTC()
			if !ack.Acknowledged || at.Before(ack.At) {
				ack = pagers.Ack{Acknowledged: true, At: at, By: p.who(ctx, st.AcknowledgedBy, st.AcknowledgedByDevice, people[i])}
			}
			continue
		}
		if st.Expired == 1 {
			expired++
		}
	}
	if !ack.Acknowledged && expired == len(ids) {
		ack.Expired = true
	}
	return ack, nil
}

// who names the user key that acknowledged: a person in `to`, else the
// entry the receipt went to (a group key: its member acknowledged) with
// the device. A user key itself is never returned.
func (p *Pager) who(ctx context.Context, key, device, sentTo string) string {
	for _, name := range p.people {
		if v, err := p.env.Secrets.Resolve(ctx, p.cfg.To[name]); err == nil && v == key {
			return name
		}
	}
	name := sentTo
	if name == "" {
		name = "a Pushover user outside the `to` table"
	}
	if d := clean(device, 25); d != "" {
		return name + " (on " + d + ")"
	}
	return name
}

// Cancel stops every emergency of the incident still repeating: by its tag
// first (POST /1/receipts/cancel_by_tag/{incident}.json), then, when that
// fails, receipt by receipt (POST /1/receipts/{r}/cancel.json). A receipt
// already gone counts as cancelled.
func (p *Pager) Cancel(ctx context.Context, incident string, rs []pagers.Receipt) error {
	token, err := p.token(ctx)
	if err != nil {
		return err
	}
	form := url.Values{"token": {token}}
	var out struct {
		Status int `json:"status"`
	}
	_, tagErr := p.post(ctx, "cancel by tag", "/1/receipts/cancel_by_tag/"+url.PathEscape(incident)+".json", form, &out, "")
	if tagErr == nil && out.Status == 1 {
		return nil
	}
	if tagErr == nil {
		tagErr = fmt.Errorf("cancel by tag: Pushover answered status %d without an error", out.Status)
	}
	if errors.Is(tagErr, context.Canceled) {
		return fmt.Errorf("pushover: %w", tagErr)
	}
	var ids []string
	for _, r := range rs {
		got, _ := receipts(r)
		ids = append(ids, got...)
	}
	if len(ids) == 0 {
		return fmt.Errorf("pushover: %w", tagErr)
	}
	var errs []error
	for _, id := range ids {
		_, err := p.post(ctx, "cancel receipt", "/1/receipts/"+id+"/cancel.json", form, &out, "")
		var he *publishers.HTTPError
		if err != nil && !(errors.As(err, &he) && he.Status == http.StatusNotFound) {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("pushover: %w", errors.Join(append([]error{tagErr}, errs...)...))
	}
	return nil
}

// Verify checks the token (GET /1/apps/limits.json, which also tells the
// month's quota) and every user key (POST /1/users/validate.json); neither
// pages anyone. It returns what Pushover said of each person.
func (p *Pager) Verify(ctx context.Context) (string, error) {
	token, err := p.token(ctx)
	if err != nil {
		return "", err
	}
	var limits struct {
		Status    int   `json:"status"`
		Limit     int   `json:"limit"`
		Remaining int   `json:"remaining"`
		Reset     int64 `json:"reset"`
	}
	if _, err := p.get(ctx, "check token", "/1/apps/limits.json", url.Values{"token": {token}}, &limits); err != nil {
		return "", fmt.Errorf("pushover: %w", err)
	}
	said := []string{fmt.Sprintf("token valid (%d of %d messages left this month)", limits.Remaining, limits.Limit)}
	var errs []error
	for _, name := range p.people {
		user, err := p.userKey(ctx, name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		var out struct {
			Status  int      `json:"status"`
			Group   int      `json:"group"`
			Devices []string `json:"devices"`
		}
		if _, err := p.post(ctx, "validate "+name, "/1/users/validate.json", url.Values{"token": {token}, "user": {user}}, &out, name); err != nil {
			errs = append(errs, err)
			continue
		}
		if out.Status != 1 {
			errs = append(errs, fmt.Errorf("validate %s: Pushover answered status %d", name, out.Status))
			continue
		}
		switch {
		case out.Group == 1:
			said = append(said, name+": a group")
		case len(out.Devices) == 1:
			said = append(said, name+": 1 device")
		default:
			said = append(said, fmt.Sprintf("%s: %d devices", name, len(out.Devices)))
		}
	}
	if len(errs) > 0 {
		return "", fmt.Errorf("pushover: %w", errors.Join(errs...))
	}
	return strings.Join(said, "; "), nil
}
