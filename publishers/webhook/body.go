package webhook

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/incident-cli/incident/publishers"
)

// document is the JSON body of a delivery; the package doc shows it.
type document struct {
	Kind     publishers.Kind   `json:"kind"`
	Key      string            `json:"key"`
	Title    string            `json:"title"`
	Text     string            `json:"text"`
	Link     string            `json:"link"`
	Texts    map[string]string `json:"texts"`
	Incident incident          `json:"incident"`
	Update   update            `json:"update"`
	ThreadID string            `json:"thread_id,omitempty"`
	ParentID string            `json:"parent_id,omitempty"`
}

type incident struct {
	ID        string               `json:"id"`
	Title     string               `json:"title"`
	Status    string               `json:"status"`
	Severity  string               `json:"severity"`
	Services  []publishers.Service `json:"services"`
	Accounts  int                  `json:"accounts"`
	StartedAt time.Time            `json:"started_at,omitzero"`
}

type update struct {
	Number  int       `json:"number"`
	Status  string    `json:"status"`
	Message string    `json:"message"`
	At      time.Time `json:"at,omitzero"`
	Author  string    `json:"author"`
}

// encode builds the body for a post. "text" is escaped as Slack's mrkdwn
// requires (&, < and > as entities), so that text a person or a monitoring
// system typed cannot be read as <!channel>, <@user> or a <url|label> link
// that shows one address and opens another; every other field holds the
// text exactly (a program escapes it for its own venue).
func encode(p publishers.Post) ([]byte, error) {
	in := p.Incident
	d := document{
		Kind: p.Kind, Key: p.Key, Title: p.Title, Text: publishers.EscapeText(p.Text), Link: p.Link, Texts: p.Texts,
		Incident: incident{
			ID: in.ID, Title: in.Title, Status: in.Status, Severity: in.Severity,
			Services: in.Services, Accounts: in.Accounts, StartedAt: in.StartedAt.UTC(),
		},
	}
	if d.Kind == "" {
		d.Kind = publishers.KindUpdate
	}
	if d.Texts == nil {
		d.Texts = map[string]string{}
	}
	if d.Incident.Services == nil {
		d.Incident.Services = []publishers.Service{}
	}
	var u *publishers.Update
	if p.Kind == publishers.KindRFO && in.RFO != nil {
		u = in.RFO
	} else if len(in.Updates) > 0 {
		u = &in.Updates[len(in.Updates)-1]
	}
	if u != nil {
		d.Update = update{Number: u.Number, Status: u.Status, Message: u.Message, At: u.At.UTC(), Author: u.Author}
	}
	if p.Thread != nil {
		d.ThreadID = p.Thread.ID
	}
	if p.Parent != nil {
		d.ParentID = p.Parent.ID
	}
	return json.Marshal(d)
}

// answer is what a receiver may say about the delivery.
type answer struct {
	ID, URL string
}

// send posts body once. Any 2xx is success, whatever its body.
func (p *Publisher) send(ctx context.Context, op, target string, hdr http.Header, key string, body []byte) (answer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return answer{}, publishers.Permanent(fmt.Errorf("%s: %w", op, errURL(err)))
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/plain;q=0.9, */*;q=0.8")
	req.Header.Set("User-Agent", p.env.UserAgent)
	req.Header.Set("Idempotency-Key", headerKey(key))
	resp, err := p.http.Do(req)
	if err != nil {
		return answer{}, fmt.Errorf("%s: %w", op, errURL(err))
	}
	defer resp.Body.Close()
	b, err := publishers.ReadAnswer(resp.Body)
	switch {
	case errors.Is(err, publishers.ErrAnswerTooLarge) && resp.StatusCode >= 200 && resp.StatusCode <= 299:
		return answer{}, nil // delivered (any 2xx is), whatever else the receiver sends
	case err != nil && !errors.Is(err, publishers.ErrAnswerTooLarge):
		return answer{}, fmt.Errorf("%s: reading the answer: %w", op, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return answer{}, &publishers.HTTPError{
			Op:         op,
			Status:     resp.StatusCode,
			Message:    p.env.Secrets.Clip(message(b), publishers.MaxMessage, publishers.CredentialValues(req.Header)...),
			RetryAfter: publishers.ParseRetryAfter(resp.Header.Get("Retry-After"), p.env.Now()),
			Hint:       p.hint(resp.StatusCode),
		}
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(b, &fields) != nil {
		return answer{}, nil // "ok", an empty body, or anything else
	}
	var a answer
	var s string
	var n json.Number
	if json.Unmarshal(fields["id"], &s) == nil {
		a.ID = s
	} else if json.Unmarshal(fields["id"], &n) == nil {
		a.ID = n.String()
	}
	if json.Unmarshal(fields["url"], &s) == nil {
		a.URL = s
	}
	return a, nil
}

// message reads a refusal's body: the usual JSON error fields, else the
// text itself (the caller redacts and shortens it).
func message(b []byte) string {
	var e struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
		Detail  string          `json:"detail"`
		Errors  []any           `json:"errors"`
	}
	if json.Unmarshal(b, &e) == nil {
		var s string
		switch {
		case json.Unmarshal(e.Error, &s) == nil && s != "":
			return s
		case e.Message != "":
			return e.Message
		case e.Detail != "":
			return e.Detail
		case len(e.Errors) > 0:
			msgs := make([]string, len(e.Errors))
			for i, x := range e.Errors {
				msgs[i] = fmt.Sprint(x)
			}
			return strings.Join(msgs, "; ")
		}
	}
	return strings.TrimSpace(string(b))
}

// headerKey is key as a header value: as is when it is printable ASCII of
// reasonable length, else its SHA-256.
func headerKey(key string) string {
	ok := len(key) <= 200
	for i := 0; ok && i < len(key); i++ {
		ok = key[i] >= 0x20 && key[i] < 0x7f
	}
	if ok {
		return key
	}
	sum := sha256.Sum256([]byte(key))
	return "sha256-" + hex.EncodeToString(sum[:])
}
