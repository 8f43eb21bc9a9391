// Package twitter posts an update's short link text to X (formerly Twitter)
// through the X API v2, POST /2/tweets, authenticated with OAuth 1.0a user
// context: the app's consumer key and secret plus the account's access token
// and secret, each request signed with HMAC-SHA1 by github.com/dghubble/oauth1
// over plain net/http. It does not use github.com/dghubble/go-twitter: that
// library is deprecated (no development since November 2022) and speaks only
// API v1.1, whose statuses/update endpoint now answers 403 with error 453 ("You
// currently have access to a subset of X API V2 endpoints...").
//
// Threading: the first update is a new post; every later update (and the RFO)
// replies to the channel's latest post (Post.Parent) with
// reply.in_reply_to_tweet_id, so the posts form one chained thread.
//
// Idempotency: X has no idempotency key, but it refuses a post whose text
// duplicates a recent post of the same account (403, "You are not allowed to
// create a Tweet with duplicate content."). On that refusal Publish looks up
// the account (GET /2/users/me) and its 10 most recent posts (GET
// /2/users/{id}/tweets) for one with the same text (links compared as X
// rewrites them, through t.co) replying to the same parent, and returns it as
// the receipt. So when an attempt's answer is lost, the engine's next attempt
// with the same Post.Key returns the post that attempt created instead of
// posting twice. The guarantee rests on X's duplicate check: were the earlier
// post no longer among the 10 most recent, the retry fails with a permanent
// error instead of posting again.
//
// Counting: the channel is a publishers.Counter that counts exactly as
// twitter-text 3.1.0's parseTweet (weighted length against 280): the text is
// NFC-normalized; code points in U+0000–U+10FF, U+2000–U+200D, U+2010–U+201F
// and U+2032–U+2037 count 1, others (CJK, most symbols) 2; an emoji of
// twemoji-parser's list (ZWJ sequence, flag, keycap, skin tone) counts 2;
// every URL twitter-text's extractor finds counts 23, bare domains included
// when their top-level domain is one of its list (so "www.runbox.…", a URL
// cut by truncate, is no URL and counts its characters). A differential test
// (internal/countcheck) compares it with the npm package on random texts.
package twitter

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/dghubble/oauth1"

	"github.com/incident-cli/incident/publishers"
)

// DefaultURL is the X API's base URL.
const DefaultURL = "https://api.x.com"

// Config is a twitter channel's table in incident.toml. The four credentials
// come from the app's "Keys and tokens" page in the X developer console; the
// app needs "Read and write" permission before the access token is generated.
type Config struct {
	Name              string            `toml:"name"`
	Template          string            `toml:"template"`            // the link text's template (the runbook reads it)
	URL               string            `toml:"url"`                 // API base URL, default https://api.x.com
	ConsumerKey       publishers.Secret `toml:"consumer_key"`        // the app's API key
	ConsumerSecret    publishers.Secret `toml:"consumer_secret"`     // the app's API key secret
	AccessToken       publishers.Secret `toml:"access_token"`        // the account's access token
	AccessTokenSecret publishers.Secret `toml:"access_token_secret"` // the account's access token secret
}

// Keys lists the config keys, for "did you mean" hints.
var Keys = publishers.KeysOf(Config{})

type channel struct {
	cfg  Config
	base string
	env  publishers.Env

	mu       sync.Mutex
	api      *publishers.Client // signing client, built at first use
	userID   string             // learned from GET /2/users/me
	username string
}

// New builds the X channel from its config table. Secrets are resolved at
// first use, not here.
func New(cfg toml.Primitive, md toml.MetaData, env publishers.Env) (publishers.Publisher, error) {
	var c Config
	if err := md.PrimitiveDecode(cfg, &c); err != nil {
		return nil, fmt.Errorf("twitter: %w", err)
	}
	if c.URL == "" {
		c.URL = DefaultURL
	}
	u, err := publishers.CheckBaseURL(c.URL)
	if err != nil {
		return nil, fmt.Errorf("twitter: %w", err)
	}
	for _, k := range []struct {
		key string
		s   publishers.Secret
	}{{"consumer_key", c.ConsumerKey}, {"consumer_secret", c.ConsumerSecret}, {"access_token", c.AccessToken}, {"access_token_secret", c.AccessTokenSecret}} {
		if k.s.IsZero() {
			return nil, fmt.Errorf("twitter: `%s` is required (a reference such as env:X_%s; all four OAuth 1.0a credentials come from the app's Keys and tokens page)", k.key, strings.ToUpper(k.key))
		}
	}
	if env.Now == nil {
		env.Now = time.Now
	}
	return &channel{cfg: c, base: u.String(), env: env}, nil
}

// client returns the signing API client, resolving the secrets the first time.
func (c *channel) client(ctx context.Context) (*publishers.Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.api != nil {
		return c.api, nil
	}
	var v [4]string
	for i, s := range []publishers.Secret{c.cfg.ConsumerKey, c.cfg.ConsumerSecret, c.cfg.AccessToken, c.cfg.AccessTokenSecret} {
		var err error
		if v[i], err = c.env.Secrets.Resolve(ctx, s); err != nil {
			return nil, publishers.Permanent(err)
		}
	}
	base := c.env.HTTP
	if base == nil {
		base = http.DefaultClient
	}
	// oauth1 takes its underlying transport from the context's client.
	signed := oauth1.NewConfig(v[0], v[1]).Client(context.WithValue(context.Background(), oauth1.HTTPClient, base), oauth1.NewToken(v[2], v[3]))
	signed.Timeout, signed.CheckRedirect, signed.Jar = base.Timeout, base.CheckRedirect, base.Jar
	c.api = &publishers.Client{
		HTTP:      signed,
		UserAgent: c.env.UserAgent,
		Message:   errorMessage,
		Hint:      c.hint,
		Now:       c.env.Now,
	}
	return c.api, nil
}

type createBody struct {
	Text  string `json:"text"`
	Reply *reply `json:"reply,omitempty"`
}

type reply struct {
	InReplyToTweetID string `json:"in_reply_to_tweet_id"`
}

type tweet struct {
	ID   string `json:"id"`
	Text string `json:"text"`
}

// Publish posts p.Text, as a reply to the channel's latest post when there is
// one. See the package doc for what happens on a duplicate.
func (c *channel) Publish(ctx context.Context, p publishers.Post) (publishers.Receipt, error) {
	const op = "create post"
	if strings.TrimSpace(p.Text) == "" {
		return publishers.Receipt{}, publishers.Permanent(errors.New(op + ": the rendered text is empty"))
	}
	api, err := c.client(ctx)
	if err != nil {
		return publishers.Receipt{}, fmt.Errorf("%s: %w", op, err)
	}
	parent := ""
	switch {
	case p.Parent != nil && p.Parent.ID != "":
		parent = p.Parent.ID
	case p.Thread != nil && p.Thread.ID != "":
		parent = p.Thread.ID
	}
	body := createBody{Text: p.Text}
	if parent != "" {
		body.Reply = &reply{InReplyToTweetID: parent}
	}
	var out struct {
		Data tweet `json:"data"`
	}
	resp, err := api.Do(ctx, op, http.MethodPost, c.base+"/2/tweets", body, &out)
	if err != nil {
		if isDuplicate(err) {
			return c.findDuplicate(ctx, api, p.Text, parent, err)
		}
		return publishers.Receipt{}, c.rateLimited(resp, err)
	}
	if out.Data.ID == "" {
		return publishers.Receipt{}, errors.New(op + ": the answer holds no post id")
	}
	return c.receipt(out.Data.ID), nil
}

// Verify checks the credentials with GET /2/users/me and returns "@username".
func (c *channel) Verify(ctx context.Context) (string, error) {
	api, err := c.client(ctx)
	if err != nil {
		return "", fmt.Errorf("look up account: %w", err)
	}
	_, name, err := c.me(ctx, api)
	if err != nil {
		return "", err
	}
	return "@" + name, nil
}

// me returns the account's id and username, asking X once.
func (c *channel) me(ctx context.Context, api *publishers.Client) (id, username string, err error) {
	const op = "look up account"
	c.mu.Lock()
	id, username = c.userID, c.username
	c.mu.Unlock()
	if id != "" {
		return id, username, nil
	}
	var out struct {
		Data struct {
			ID       string `json:"id"`
			Username string `json:"username"`
		} `json:"data"`
	}
	resp, err := api.Do(ctx, op, http.MethodGet, c.base+"/2/users/me", nil, &out)
	if err != nil {
		return "", "", c.rateLimited(resp, err)
	}
	if out.Data.ID == "" || out.Data.Username == "" {
		return "", "", errors.New(op + ": the answer holds no user id or username")
	}
	c.mu.Lock()
	c.userID, c.username = out.Data.ID, out.Data.Username
	c.mu.Unlock()
	return out.Data.ID, out.Data.Username, nil
}

// receipt describes post id; its URL names the account when we know it.
func (c *channel) receipt(id string) publishers.Receipt {
	c.mu.Lock()
	name := c.username
	c.mu.Unlock()
	u := "https://x.com/i/web/status/" + url.PathEscape(id)
	if name != "" {
		u = "https://x.com/" + url.PathEscape(name) + "/status/" + url.PathEscape(id)
	}
	return publishers.Receipt{ID: id, URL: u, At: c.env.Now()}
}

// rateLimited sets RetryAfter on a 429 from X's x-rate-limit-reset header
// (the epoch second the window resets) when there was no Retry-After.
func (c *channel) rateLimited(resp *http.Response, err error) error {
	var he *publishers.HTTPError
	if resp == nil || !errors.As(err, &he) || he.Status != http.StatusTooManyRequests || he.RetryAfter > 0 {
		return err
	}
	if reset, perr := strconv.ParseInt(strings.TrimSpace(resp.Header.Get("x-rate-limit-reset")), 10, 64); perr == nil {
		if d := time.Unix(reset, 0).Sub(c.env.Now()); d > 0 {
			he.RetryAfter = d
		}
	}
	return err
}

// hint says what the user can do about a refusal.
func (c *channel) hint(status int) string {
	switch status {
	case http.StatusUnauthorized:
		return "check the credentials in " + c.cfg.ConsumerKey.String() + ", " + c.cfg.ConsumerSecret.String() + ", " +
			c.cfg.AccessToken.String() + " and " + c.cfg.AccessTokenSecret.String()
	case http.StatusForbidden:
		return "if the text is fine, the app may lack Read and write permission: set it, then regenerate the access token"
	case http.StatusNotFound:
		return "check the channel's `url`; the default is " + DefaultURL
	case http.StatusPaymentRequired:
		return "the X developer account has no credits left for posting"
	}
	return ""
}
