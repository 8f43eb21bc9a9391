// Package bluesky posts an update's short link text to Bluesky, or any AT
// Protocol PDS, over XRPC with plain net/http: com.atproto.server.createSession
// with an app password, then com.atproto.repo.createRecord of an
// app.bsky.feed.post record. The record carries a link facet over every
// http(s) URL in the text (UTF-8 byte offsets), since Bluesky does not turn
// URLs into links by itself; bare domains are left as text.
//
// Sessions: createSession is rate-limited (30 per 5 minutes and 300 a day per
// account; Bluesky's entryway has been seen to allow about 100 a day), so the
// session (access and refresh tokens, DID, handle) is kept in a file under the
// user's state directory, bluesky-session-<hash of url and identifier>.json,
// mode 0600, written atomically; never in the runbook. Later runs reuse it.
// When the PDS answers 400 ExpiredToken, the session is refreshed with
// com.atproto.server.refreshSession and the call is made once more; when the
// refresh is refused too, a new session is created.
//
// Threading: the first update is a new post; later updates and the RFO reply
// with reply.root = the channel's first post (Post.Thread) and reply.parent =
// its latest (Post.Parent), so they chain under the first post.
//
// Idempotency: each post's record key is a TID derived from Post.Key: the
// update's time to the second, with microseconds and the 10-bit clock id
// hashed from the key.
// A second createRecord with the same key cannot create a second post: the
// PDS refuses it (today with 500 InternalServerError, bluesky-social/atproto
// issue 3718; a dedicated error is proposed in pull request 4728). Whenever
// createRecord fails with an answer other than an auth or rate-limit refusal,
// Publish fetches the record with com.atproto.repo.getRecord and, when it
// exists with the same text, returns it as the receipt. So a retry after a
// lost answer returns the post the lost attempt created.
//
// Counting: the channel is a publishers.Counter: 300 graphemes, and at most
// 3000 UTF-8 bytes (the lexicon's maxGraphemes and maxLength for text).
package bluesky

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/incident-cli/incident/publishers"
)

// DefaultURL is the PDS of accounts hosted by Bluesky.
const DefaultURL = "https://bsky.social"

// Config is a bluesky channel's table in incident.toml.
type Config struct {
	Name        string            `toml:"name"`
	Template    string            `toml:"template"`     // the link text's template (the runbook reads it)
	URL         string            `toml:"url"`          // the account's PDS, default https://bsky.social
	Identifier  string            `toml:"identifier"`   // the account's handle (or DID or email)
	AppPassword publishers.Secret `toml:"app_password"` // reference to an app password (Settings > Privacy and security > App passwords)
}

// Keys lists the config keys, for "did you mean" hints.
var Keys = publishers.KeysOf(Config{})

type channel struct {
	cfg  Config
	base string
	env  publishers.Env
	api  *publishers.Client

	mu      sync.Mutex
	sess    *session
	saveErr error // the last failure to store the session, reported by Verify
}

// New builds the Bluesky channel from its config table. The app password is
// resolved at first use, not here.
func New(cfg toml.Primitive, md toml.MetaData, env publishers.Env) (publishers.Publisher, error) {
	var c Config
	if err := md.PrimitiveDecode(cfg, &c); err != nil {
		return nil, fmt.Errorf("bluesky: %w", err)
	}
	if c.URL == "" {
		c.URL = DefaultURL
	}
	u, err := publishers.CheckBaseURL(c.URL)
	if err != nil {
		return nil, fmt.Errorf("bluesky: %w", err)
	}
	c.Identifier = strings.TrimPrefix(strings.TrimSpace(c.Identifier), "@")
	if c.Identifier == "" {
		return nil, errors.New("bluesky: `identifier` is required (the account's handle, e.g. example.bsky.social)")
	}
	if c.AppPassword.IsZero() {
		return nil, errors.New("bluesky: `app_password` is required (a reference such as env:BLUESKY_APP_PASSWORD)")
	}
	if env.Now == nil {
		env.Now = time.Now
	}
	ch := &channel{cfg: c, base: u.String(), env: env}
	ch.api = &publishers.Client{
		HTTP:      env.HTTP,
		UserAgent: env.UserAgent,
		Message:   errorMessage,
		Hint:      ch.hint,
		Now:       env.Now,
	}
	return ch, nil
}

// MaxGraphemes and MaxBytes are the app.bsky.feed.post lexicon's limits for
// a post's text.
const (
	MaxGraphemes = 300
	MaxBytes     = 3000
)

// Length counts text in graphemes, as Bluesky does, against 300. Text over
// 3000 bytes is reported as over the limit whatever its graphemes.
func (c *channel) Length(text string) (n, limit int) {
	text = string([]rune(text)) // what JSON encoding will send
	n = graphemes(text)
	if len(text) > MaxBytes && n <= MaxGraphemes {
		n = MaxGraphemes + 1
	}
	return n, MaxGraphemes
}

// Verify checks the credentials (a stored session's getSession, or
// createSession) and returns "@handle".
func (c *channel) Verify(ctx context.Context) (string, error) {
	var out struct {
		Handle string `json:"handle"`
	}
	_, err := c.authed(ctx, func(s *session) error {
		_, err := c.call(ctx, "check session", http.MethodGet, "com.atproto.server.getSession", s.AccessJwt, nil, &out)
		return err
	})
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	saveErr := c.saveErr
	c.mu.Unlock()
	if saveErr != nil {
		return "", fmt.Errorf("%w (the session works, but every run will log in again)", saveErr)
	}
	return "@" + out.Handle, nil
}

// call makes one XRPC call: a procedure (POST, JSON body) or a query (GET,
// body as parameters). token, when set, goes into Authorization.
func (c *channel) call(ctx context.Context, op, method, nsid, token string, body, out any) (*http.Response, error) {
	u := c.base + "/xrpc/" + nsid
	var rd *bytes.Reader
	if q, ok := body.(url.Values); ok {
		u += "?" + q.Encode()
	} else if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, publishers.Permanent(fmt.Errorf("%s: %w", op, err))
		}
		rd = bytes.NewReader(b)
	}
	var req *http.Request
	var err error
	if rd != nil {
		req, err = http.NewRequestWithContext(ctx, method, u, rd)
	} else {
		req, err = http.NewRequestWithContext(ctx, method, u, nil)
	}
	if err != nil {
		return nil, publishers.Permanent(fmt.Errorf("%s: %w", op, err))
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.api.Send(op, req, out)
	var he *publishers.HTTPError
	if resp != nil && errors.As(err, &he) && he.Status == http.StatusTooManyRequests && he.RetryAfter == 0 {
		// ratelimit-reset is the epoch second the window resets.
		if reset, perr := strconv.ParseInt(strings.TrimSpace(resp.Header.Get("ratelimit-reset")), 10, 64); perr == nil {
			if d := time.Unix(reset, 0).Sub(c.env.Now()); d > 0 {
				he.RetryAfter = d
			}
		}
	}
	return resp, err
}

// errorMessage reads an XRPC error body, {"error":"Name","message":"..."}.
func errorMessage(body []byte) string {
	var e struct {
		Error   string `json:"error"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	switch {
	case e.Error != "" && e.Message != "":
		return e.Error + ": " + e.Message
	case e.Error != "":
		return e.Error
	}
	return e.Message
}

func (c *channel) hint(status int) string {
	switch status {
	case http.StatusUnauthorized:
		return "check `identifier` and the app password in " + c.cfg.AppPassword.Where()
	case http.StatusNotFound:
		return "check the channel's `url`: the account's PDS, " + DefaultURL + " for accounts hosted by Bluesky"
	}
	return ""
}
