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
//	    "status": "investigating",   // investigating|identified|monitoring|resolved
//	    "severity": "major",         // minor|major|critical, or ""
//	    "services": [{"id": "imap", "name": "IMAP/POP"}],
//	    "accounts": 1200,            // estimate; 0 when unknown
//	    "started_at": "2026-11-27T09:55:00Z"
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
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
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
	cfg     Config
	env     publishers.Env
	http    *http.Client
	url     string            // checked URL, "" while it is a secret not yet resolved
	urlRef  publishers.Secret // the url as a reference, when it is one
	headers []header

	mu       sync.Mutex
	resolved http.Header // headers with secrets resolved, after first use
}

// header is one configured header: a literal value, or a prefix and a
// secret reference.
type header struct {
	name, prefix string
	secret       publishers.Secret
}

// reserved headers are set by the channel itself.
var reserved = map[string]bool{"Content-Type": true, "Content-Length": true, "Host": true, "User-Agent": true, "Idempotency-Key": true, "Transfer-Encoding": true, "Connection": true}

// New builds a webhook channel from its config table. Secrets are resolved
// at first use, not here.
func New(cfg toml.Primitive, md toml.MetaData, env publishers.Env) (publishers.Publisher, error) {
	var c Config
	if err := md.PrimitiveDecode(cfg, &c); err != nil {
		return nil, fmt.Errorf("webhook: %w", err)
	}
	p := &Publisher{cfg: c, env: env}
	if c.URL == "" {
		return nil, errors.New("webhook: `url` is required (https://…, or a reference like \"env:SLACK_WEBHOOK_URL\")")
	}
	if ref, err := publishers.ParseSecret(c.URL); err == nil {
		p.urlRef = ref
	} else {
		if _, err := publishers.CheckBaseURL(c.URL); err != nil {
			return nil, fmt.Errorf("webhook: %w", err)
		}
		p.url = c.URL // as written: a trailing slash can matter to the receiver
	}
	for name, v := range c.Headers {
		h, err := parseHeader(name, v)
		if err != nil {
			return nil, fmt.Errorf("webhook: headers: %w", err)
		}
		p.headers = append(p.headers, h)
	}
	hc := &http.Client{Timeout: 30 * time.Second}
	if env.HTTP != nil {
		cp := *env.HTTP
		hc = &cp
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	p.http = hc
	if p.env.Now == nil {
		p.env.Now = time.Now
	}
	return p, nil
}

func parseHeader(name, v string) (header, error) {
	canon := http.CanonicalHeaderKey(name)
	if name == "" || strings.IndexFunc(name, func(r rune) bool { return r <= ' ' || r >= 0x7f || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r) }) >= 0 {
		return header{}, fmt.Errorf("%q is not a valid header name", name)
	}
	if reserved[canon] {
		return header{}, fmt.Errorf("%s is set by incident itself and cannot be configured", canon)
	}
	if strings.ContainsAny(v, "\r\n") {
		return header{}, fmt.Errorf("%s: the value holds a line break", canon)
	}
	h := header{name: canon}
	// The whole value is a reference, or a word and a reference
	// ("Bearer env:HOOK_TOKEN").
	if prefix, s, ok := publishers.FindSecret(v); ok {
		h.prefix, h.secret = prefix, s
		return h, nil
	}
	if credential(canon) {
		return header{}, fmt.Errorf("%s: %w", canon, publishers.ErrLiteralSecret)
	}
	h.prefix = v
	return h, nil
}

// credential reports whether a header carries credentials, so that its
// value must not be written in the config.
func credential(name string) bool {
	n := strings.ToLower(name)
	switch n {
	case "authorization", "proxy-authorization", "cookie":
		return true
	}
	for _, w := range []string{"token", "secret", "password", "signature", "api-key", "apikey"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// Publish posts the update's JSON document.
func (p *Publisher) Publish(ctx context.Context, post publishers.Post) (publishers.Receipt, error) {
	const op = "post webhook"
	target, hdr, err := p.prepare(ctx)
	if err != nil {
		return publishers.Receipt{}, err
	}
	body, err := encode(post)
	if err != nil {
		return publishers.Receipt{}, publishers.Permanent(fmt.Errorf("%s: %w", op, err))
	}
	ans, err := p.send(ctx, op, target, hdr, post.Key, body)
	if err != nil {
		return publishers.Receipt{}, err
	}
	rec := publishers.Receipt{ID: ans.ID, URL: ans.URL, At: p.env.Now()}
	if rec.ID == "" {
		rec.ID = post.Key
	}
	return rec, nil
}

// prepare resolves the URL and the headers' secrets, once.
func (p *Publisher) prepare(ctx context.Context) (string, http.Header, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.url == "" {
		raw, err := p.env.Secrets.Resolve(ctx, p.urlRef)
		if err != nil {
			return "", nil, publishers.Permanent(fmt.Errorf("url: %w", err))
		}
		if _, err := publishers.CheckBaseURL(raw); err != nil {
			// Not err itself: it would quote the URL, which is a secret.
			return "", nil, publishers.Permanent(fmt.Errorf("url: the value of %s is not an https URL (or http to loopback)", p.urlRef))
		}
		p.url = raw
	}
	if p.resolved == nil {
		h := http.Header{}
		for _, c := range p.headers {
			v := c.prefix
			if !c.secret.IsZero() {
				s, err := p.env.Secrets.Resolve(ctx, c.secret)
				if err != nil {
					return "", nil, publishers.Permanent(fmt.Errorf("headers: %s: %w", c.name, err))
				}
				if strings.ContainsAny(s, "\r\n") {
					return "", nil, publishers.Permanent(fmt.Errorf("headers: %s: the value of %s holds a line break", c.name, c.secret))
				}
				v += s
			}
			h.Set(c.name, v)
		}
		p.resolved = h
	}
	return p.url, p.resolved, nil
}

// hint says what to do about a refusal.
func (p *Publisher) hint(status int) string {
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return "check the credentials in the channel's headers"
	case status == http.StatusNotFound || status == http.StatusGone:
		return "check the channel's url"
	case status >= 300 && status < 400:
		return "the url redirects; configure the address it redirects to"
	}
	return ""
}

// errURL hides the request URL in transport errors: it may hold a token.
func errURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
