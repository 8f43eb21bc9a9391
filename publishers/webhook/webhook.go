// Package webhook posts every update as one JSON document to a URL: chat
// bridges (Slack, Mattermost, Matrix or Teams bridges) and a team's own
// tooling.
//
// The request is POST {url} with Content-Type: application/json,
// Idempotency-Key: Post.Key, User-Agent: incident/VERSION and the configured
// headers. The body:
//
//	{
//	  "kind": "update",              // or "rfo"
//	  "key": "…",                    // Post.Key: the same on every retry of this delivery
//	  "title": "[Investigating] IMAP/POP login failures",
//	  "text": "…",                   // this channel's rendered text (its template), &<> escaped as Slack wants
//	  "link": "https://status.example.com/…",  // the canonical update
//	  "texts": {"social.txt": "…", …},         // every rendered text by template name
//	  "incident": {
//	    "id": "2026-11-27-imap-pop-login-failures",
//	    "title": "IMAP/POP login failures",
//	    "status": "investigating",   // investigating|identified|monitoring|resolved; a maintenance window: scheduled|in_progress|completed|cancelled
//	    "severity": "major",         // minor|major|critical, or ""
//	    "services": [{"id": "imap", "name": "IMAP/POP"}],
//	    "accounts": 1200,            // estimate; 0 when unknown
//	    "started_at": "2026-11-27T09:55:00Z",
//	    "maintenance": {"start": "…", "end": "…"}  // a scheduled maintenance window's; absent for an incident
//	  },
//	  "update": {                    // the update published; for an rfo, the RFO
//	    "number": 1, "status": "investigating", "message": "…",
//	    "at": "2026-11-27T10:15:00Z", "author": "alice"
//	  },
//	  "thread_id": "…",              // the id answered for this incident's first delivery, if any
//	  "parent_id": "…"               // the id answered for its latest delivery, if any
//	}
//
// Because "text" is a top-level field, a Slack or Mattermost incoming webhook
// URL works as is. Any 2xx answer is success: when the body is a JSON object
// with "id" (string or number) that is the receipt's id, and its "url" the
// receipt's URL; otherwise (Slack answers "ok" in plain text) the id is the
// post key. Redirects are not followed.
//
// Secrets: a header value may be a secret reference (env:NAME, file:PATH,
// cmd:COMMAND), or a scheme and a reference ("Bearer env:HOOK_TOKEN"); it is
// resolved at the first delivery. Other values pass as written, except that
// credential headers (Authorization, Cookie, and names holding token,
// secret, password, signature or api-key) refuse literal values. The url may
// itself be a reference, since chat webhook URLs carry their token in the
// path; errors never show the URL.
//
// Idempotency: every retry of a delivery carries the same Idempotency-Key
// and "key", so a receiver that deduplicates on either never shows an update
// twice; one that does not may see a repeat after a lost answer.
package webhook

import (
	"context"
	"fmt"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/incident-cli/incident/publishers"
)

// Config is a webhook channel's table in incident.toml.
type Config struct {
	Name     string            `toml:"name"`
	Template string            `toml:"template"`
	URL      string            `toml:"url"`     // https URL, or a secret reference to one
	Headers  map[string]string `toml:"headers"` // extra request headers; values may be secret references
}

// Keys lists the config keys, for "did you mean" hints.
var Keys = publishers.KeysOf(Config{})

// Publisher posts to one webhook. It implements publishers.Publisher.
type Publisher struct {
	cfg      Config
	env      publishers.Env
	endpoint *Endpoint
}

// New builds a webhook channel from its config table. Secrets are resolved
// at first use, not here.
func New(cfg toml.Primitive, md toml.MetaData, env publishers.Env) (publishers.Publisher, error) {
	var c Config
	if err := md.PrimitiveDecode(cfg, &c); err != nil {
		return nil, fmt.Errorf("webhook: %w", err)
	}
	e, err := NewEndpoint(c.URL, c.Headers, env, "channel")
	if err != nil {
		return nil, fmt.Errorf("webhook: %w", err)
	}
	if env.Now == nil {
		env.Now = time.Now
	}
	return &Publisher{cfg: c, env: env, endpoint: e}, nil
}

// Publish posts the update's JSON document.
func (p *Publisher) Publish(ctx context.Context, post publishers.Post) (publishers.Receipt, error) {
	const op = "post webhook"
	body, err := encode(post)
	if err != nil {
		return publishers.Receipt{}, publishers.Permanent(fmt.Errorf("%s: %w", op, err))
	}
	ans, err := p.endpoint.Post(ctx, op, post.Key, body)
	if err != nil {
		return publishers.Receipt{}, err
	}
	rec := publishers.Receipt{ID: ans.ID, URL: ans.URL, At: p.env.Now()}
	if rec.ID == "" {
		rec.ID = post.Key
	}
	return rec, nil
}
