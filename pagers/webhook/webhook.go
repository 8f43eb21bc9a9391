// Package webhook pages through anything that takes a JSON POST: a Matrix
// or Slack bridge, an SMS gateway, a team's own tool. It posts through the
// same endpoint code as the webhook channel (publishers/webhook): the url
// may be a secret reference, header values may be secrets ("Bearer
// env:PAGER_TOKEN"), redirects are not followed, and errors never show the
// URL or a credential.
//
// The request is POST {url} with Content-Type: application/json,
// Idempotency-Key (the body's "key"), User-Agent: incident/VERSION and the
// configured headers. The body:
//
//	{
//	  "kind": "alert",                 // alert, ack, test or manual
//	  "key": "…",                      // the same on every retry of this page to this person
//	  "incident": "2026-11-27-imap-down",
//	  "title": "IMAP down",
//	  "severity": "critical",          // minor, major, critical, or ""
//	  "services": ["IMAP/POP"],
//	  "since": "2026-11-27T10:03:00Z", // when the first alert fired (absent when unknown)
//	  "summary": "imap1: connection refused",
//	  "level": 2,                      // escalation level; 0 for manual and test pages
//	  "urgent": true,                  // the loudest form was asked for
//	  "person": "alice",               // whom to page ("" for the receiver's own audience)
//	  "handle": "@alice:example.org",  // the person's entry in `to` ("" without one)
//	  "subject": "[CRITICAL] IMAP/POP: IMAP down",
//	  "text": "Firing for 12 minutes: …",
//	  "ack_command": "incident ack 2026-11-27-imap-down",
//	  "acked_by": "alice",             // ack pages only
//	  "acked_at": "2026-11-27T10:14:00Z",
//	  "at": "2026-11-27T10:15:00Z"     // when the page was made
//	}
//
// With a `to` table, a page for everyone is one POST per person (the key
// then ends in "/" and the person); without one, it is a single POST and
// a person named by the page passes as is. Any 2xx answer is success: the
// receipt's ID is the answer's "id" when it is a JSON object with one,
// else the key.
//
// Idempotency: every retry of a page carries the same Idempotency-Key and
// "key", so a receiver that deduplicates on either never pages twice; one
// that does not may page again after a lost answer.
package webhook

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/incident-cli/incident/pagers"
	"github.com/incident-cli/incident/publishers"
	hook "github.com/incident-cli/incident/publishers/webhook"
)

// Config is a webhook pager's table in incident.toml.
type Config struct {
	Name    string            `toml:"name"`
	URL     string            `toml:"url"`     // https URL, or a secret reference to one
	Headers map[string]string `toml:"headers"` // extra request headers; values may be secret references
	To      map[string]string `toml:"to"`      // optional: person -> the handle the receiver knows them by
}

// Keys lists the config keys, for "did you mean" hints.
var Keys = publishers.KeysOf(Config{})

// Pager posts pages to one webhook. It implements pagers.Pager and
// pagers.People.
type Pager struct {
	cfg      Config
	env      publishers.Env
	endpoint *hook.Endpoint
	people   []string
}

var (
	_ pagers.Pager  = (*Pager)(nil)
	_ pagers.People = (*Pager)(nil)
)

// New builds a webhook pager from its config table. Secrets are resolved
// at first use, not here.
func New(cfg toml.Primitive, md toml.MetaData, env publishers.Env) (pagers.Pager, error) {
	var c Config
	if err := md.PrimitiveDecode(cfg, &c); err != nil {
		return nil, fmt.Errorf("webhook: %w", err)
	}
	e, err := hook.NewEndpoint(c.URL, c.Headers, env, "pager")
	if err != nil {
		return nil, fmt.Errorf("webhook: %w", err)
	}
	p := &Pager{cfg: c, env: env, endpoint: e}
	for name, handle := range c.To {
		if err := pagers.CheckPerson(name); err != nil {
			return nil, fmt.Errorf("webhook: to: %w", err)
		}
		if strings.TrimSpace(handle) == "" || pagers.Plain(handle) != handle || strings.Contains(handle, "\n") {
			return nil, fmt.Errorf("webhook: to: %s's handle %q must be a non-empty line of text", name, handle)
		}
		p.people = append(p.people, name)
	}
	slices.Sort(p.people)
	if p.env.Now == nil {
		p.env.Now = time.Now
	}
	return p, nil
}

// People returns the names in the `to` table, sorted (none without one).
func (p *Pager) People() []string { return slices.Clone(p.people) }

// document is the JSON body; the package doc shows it.
type document struct {
	Kind       pagers.Kind `json:"kind"`
	Key        string      `json:"key"`
	Incident   string      `json:"incident"`
	Title      string      `json:"title"`
	Severity   string      `json:"severity"`
	Services   []string    `json:"services"`
	Since      time.Time   `json:"since,omitzero"`
	Summary    string      `json:"summary"`
	Level      int         `json:"level"`
	Urgent     bool        `json:"urgent"`
	Person     string      `json:"person"`
	Handle     string      `json:"handle"`
	Subject    string      `json:"subject"`
	Text       string      `json:"text"`
	AckCommand string      `json:"ack_command"`
	AckedBy    string      `json:"acked_by,omitempty"`
	AckedAt    time.Time   `json:"acked_at,omitzero"`
	At         time.Time   `json:"at"`
}

// Page posts the page once per person (see the package doc).
func (p *Pager) Page(ctx context.Context, pg pagers.Page) (pagers.Receipt, error) {
	type target struct{ person, handle, key string }
	var targets []target
	switch {
	case pg.Person != "" && len(p.cfg.To) > 0:
		h, ok := p.cfg.To[pg.Person]
		if !ok {
			return pagers.Receipt{}, publishers.Permanent(fmt.Errorf("webhook: %q is not in the pager's `to` table (%s)", pg.Person, strings.Join(p.people, ", ")))
		}
		targets = []target{{pg.Person, h, pg.Key}}
	case len(p.cfg.To) > 0:
		for _, name := range p.people {
			targets = append(targets, target{name, p.cfg.To[name], pg.Key + "/" + name})
		}
	default:
		targets = []target{{pg.Person, "", pg.Key}}
	}
	services := make([]string, 0, len(pg.Services))
	for _, s := range pg.Services {
		services = append(services, pagers.Plain(s))
	}
	doc := document{
		Kind: pg.Kind, Incident: pg.Incident, Title: pagers.Plain(pg.Title), Severity: pg.Severity, Services: services,
		Since: pg.Since.UTC(), Summary: pagers.Plain(pg.Summary), Level: pg.Level, Urgent: pg.Urgent,
		Subject: pagers.Plain(pg.Subject), Text: pagers.Plain(pg.Text), AckCommand: pg.AckCommand,
		AckedBy: pg.AckedBy, AckedAt: pg.AckedAt.UTC(), At: pg.Now.UTC(),
	}
	if doc.At.IsZero() {
		doc.At = p.env.Now().UTC()
	}
	byPerson := map[string]target{}
	names := make([]string, len(targets))
	for i, t := range targets {
		names[i] = t.person
		byPerson[t.person] = t
	}
	reached, ids, err := pagers.Each(names, func(name string) (string, error) {
		t := byPerson[name]
		d := doc
		d.Person, d.Handle, d.Key = t.person, t.handle, t.key
		body, err := json.Marshal(d)
		if err != nil {
			return "", publishers.Permanent(err)
		}
		op := "post page"
		if name != "" {
			op += " for " + name
		}
		ans, err := p.endpoint.Post(ctx, op, t.key, body)
		if err != nil {
			return "", err
		}
		if ans.ID == "" {
			return t.key, nil
		}
		return pagers.Cut(strings.ReplaceAll(pagers.Plain(ans.ID), "\n", " "), 200, nil), nil
	})
	if len(reached) == 0 {
		return pagers.Receipt{}, fmt.Errorf("webhook: %w", err)
	}
	rec := pagers.Receipt{ID: strings.Join(ids, ","), At: p.env.Now()}
	for _, name := range reached {
		if name != "" {
			rec.To = append(rec.To, name)
		}
	}
	if err != nil {
		return rec, fmt.Errorf("webhook: %w", err)
	}
	return rec, nil
}
