// Package mastodon posts an incident's link text to a Mastodon account through
// github.com/mattn/go-mastodon: the first update is a new status, every later
// update and the RFO reply to the channel's latest status (Post.Parent), so the
// updates read as one thread.
//
// Idempotency: every POST /api/v1/statuses carries "Idempotency-Key:
// Post.Key" (its SHA-256 if the key is not short printable ASCII). Mastodon
// remembers the key for up to an hour and answers a repeat
// with the status the first request created, so a retry within the hour after
// a lost answer creates no second status.
//
// Rate limits: go-mastodon itself retries a 429 with growing sleeps for up to
// an hour. This package puts a RoundTripper under the client that turns every
// error answer (4xx/5xx) into a *publishers.HTTPError before go-mastodon sees
// it, with RetryAfter taken from Retry-After or X-RateLimit-Reset, so Publish
// returns at once and the runbook's retry stage decides.
//
// Length counts like Mastodon's StatusLengthValidator against the instance's
// limit. Call LoadLimit once before rendering to learn the instance's limit
// (GET /api/v2/instance, kept in the state directory for LimitTTL); until
// it succeeds, Length uses 500.
package mastodon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/mattn/go-mastodon"

	"github.com/incident-cli/incident/publishers"
)

// Config is a mastodon channel's table in incident.toml.
type Config struct {
	Name        string            `toml:"name"`
	Template    string            `toml:"template"`
	URL         string            `toml:"url"`          // the instance, e.g. https://mastodon.social
	AccessToken publishers.Secret `toml:"access_token"` // scopes write:statuses (and read:accounts for doctor)
	Visibility  string            `toml:"visibility"`   // public (default), unlisted, private or direct
	Language    string            `toml:"language"`     // ISO 639 code of the posts, optional
}

// Keys lists the config keys, for "did you mean" hints.
var Keys = publishers.KeysOf(Config{})

// The counting defaults of Mastodon's StatusLengthValidator, used until
// LoadLimit has read the instance's own values.
const (
	DefaultLimit     = 500 // MAX_CHARS
	DefaultURLLength = 23  // URL_PLACEHOLDER_CHARS
)

// limitTimeout bounds LoadLimit, which runs before rendering.
const limitTimeout = 5 * time.Second

// Publisher posts to one Mastodon account. It implements
// publishers.Publisher, publishers.Counter and publishers.Verifier.
type Publisher struct {
	cfg  Config
	base *url.URL
	env  publishers.Env

	mu     sync.Mutex
	client *mastodon.Client // built at first use, when the token is resolved

	limitMu sync.Mutex
	limit   int
	urlLen  int
	loaded  bool
}

// languageRE is compiled at first use, not when the program starts.
var languageRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z]{2,3}(-[A-Za-z]{2,4})?$`) })

// New builds a mastodon channel from its config table. The access token is
// resolved at first use, not here.
func New(cfg toml.Primitive, md toml.MetaData, env publishers.Env) (publishers.Publisher, error) {
	var c Config
	if err := md.PrimitiveDecode(cfg, &c); err != nil {
		return nil, fmt.Errorf("mastodon: %w", err)
	}
	if c.URL == "" {
		return nil, errors.New("mastodon: `url` is required (the instance, like https://mastodon.social)")
	}
	if c.AccessToken.IsZero() {
		return nil, errors.New("mastodon: `access_token` is required (a reference like \"env:MASTODON_TOKEN\")")
	}
	switch c.Visibility {
	case "":
		c.Visibility = mastodon.VisibilityPublic
	case mastodon.VisibilityPublic, mastodon.VisibilityUnlisted, mastodon.VisibilityFollowersOnly, mastodon.VisibilityDirectMessage:
	default:
		return nil, fmt.Errorf("mastodon: `visibility` %q is not one of public, unlisted, private, direct", c.Visibility)
	}
	if c.Language != "" && !languageRE().MatchString(c.Language) {
		return nil, fmt.Errorf("mastodon: `language` %q is not an ISO 639 code like \"en\" or \"de\"", c.Language)
	}
	u, err := publishers.CheckBaseURL(c.URL)
	if err != nil {
		return nil, fmt.Errorf("mastodon: %w", err)
	}
	if env.Now == nil {
		env.Now = time.Now
	}
	if env.HTTP == nil {
		env.HTTP = &http.Client{Timeout: 30 * time.Second}
	}
	return &Publisher{cfg: c, base: u, env: env, limit: DefaultLimit, urlLen: DefaultURLLength}, nil
}

// Publish posts the text as a new status, or as a reply to the channel's
// latest status when there is one.
func (p *Publisher) Publish(ctx context.Context, post publishers.Post) (publishers.Receipt, error) {
	const op = "post status"
	c, err := p.mastodon(ctx)
	if err != nil {
		return publishers.Receipt{}, err
	}
	toot := &mastodon.Toot{Status: post.Text, Visibility: p.cfg.Visibility, Language: p.cfg.Language}
	switch {
	case post.Parent != nil:
		toot.InReplyToID = mastodon.ID(post.Parent.ID)
	case post.Thread != nil:
		toot.InReplyToID = mastodon.ID(post.Thread.ID)
	}
	st, err := c.PostStatus(withCall(ctx, op, post.Key), toot)
	if err != nil {
		return publishers.Receipt{}, p.tooLong(ctx, p.classify(op, err))
	}
	if st.ID == "" {
		return publishers.Receipt{}, fmt.Errorf("%s: the answer holds no status id", op)
	}
	return publishers.Receipt{ID: string(st.ID), URL: st.URL, At: p.env.Now()}, nil
}

// Verify calls verify_credentials and returns the account's handle,
// "@user@instance", with the instance's limit, which it reads again
// (refreshing the one kept in the state directory).
func (p *Publisher) Verify(ctx context.Context) (string, error) {
	const op = "verify credentials"
	c, err := p.mastodon(ctx)
	if err != nil {
		return "", err
	}
	acct, err := c.GetAccountCurrentUser(withCall(ctx, op, ""))
	if err != nil {
		return "", p.classify(op, err)
	}
	if acct.Acct == "" {
		return "", fmt.Errorf("%s: the answer names no account", op)
	}
	handle := "@" + acct.Acct
	if !strings.Contains(acct.Acct, "@") {
		handle += "@" + p.base.Host
	}
	// doctor --online is where the instance's limit is read again.
	if err := p.refreshLimit(ctx); err != nil {
		return handle + " (the instance's limits could not be read: " + err.Error() + "; counting against 500 characters)", nil
	}
	_, limit := p.Length("")
	return fmt.Sprintf("%s (%d characters a post)", handle, limit), nil
}

// Length counts text as Mastodon's StatusLengthValidator does: grapheme
// clusters, every http(s) URL as 23 characters (the instance's
// characters_reserved_per_url), a remote mention @user@domain as @user. Where
// it cannot be sure Mastodon sees a URL, it counts high, never low. The limit
// is the instance's max_characters once LoadLimit succeeded, else 500.
func (p *Publisher) Length(text string) (n, limit int) {
	p.limitMu.Lock()
	limit, urlLen := p.limit, p.urlLen
	p.limitMu.Unlock()
	if limit == 0 {
		limit, urlLen = DefaultLimit, DefaultURLLength
	}
	return Count(text, urlLen), limit
}

// mastodon returns the client, building it at first use: the token is
// resolved, the transport wrapped (Idempotency-Key, prompt error answers),
// env.HTTP's timeout and env.UserAgent applied.
func (p *Publisher) mastodon(ctx context.Context) (*mastodon.Client, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.client != nil {
		return p.client, nil
	}
	token, err := p.env.Secrets.Resolve(ctx, p.cfg.AccessToken)
	if err != nil {
		return nil, publishers.Permanent(fmt.Errorf("access_token: %w", err))
	}
	c := mastodon.NewClient(&mastodon.Config{Server: p.base.String(), AccessToken: token})
	c.Client = *p.env.HTTP
	next := c.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	c.Transport = &transport{next: next, now: p.env.Now, hint: publishers.Hints(p.cfg.AccessToken), clip: p.env.Secrets.Clip}
	c.UserAgent = p.env.UserAgent
	p.client = c
	return c, nil
}

// classify turns what go-mastodon returned into the error contract: the
// transport's *publishers.HTTPError as is, a *mastodon.APIError (an answer
// the transport let through) as an HTTPError, an undecodable answer or a
// network failure as a retryable error that says what was tried.
func (p *Publisher) classify(op string, err error) error {
	var he *publishers.HTTPError
	if errors.As(err, &he) {
		return he
	}
	var ae *mastodon.APIError
	if errors.As(err, &ae) {
		return &publishers.HTTPError{Op: op, Status: ae.StatusCode, Message: ae.Message, Hint: publishers.Hints(p.cfg.AccessToken)(ae.StatusCode)}
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // the URL adds nothing the user does not know
	}
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	if errors.As(err, &se) || errors.As(err, &te) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%s: the answer is not the JSON expected (%v)", op, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}
