// Package wordpress publishes the canonical status update as a WordPress post
// through the REST API (/wp-json/wp/v2/posts), authenticated with an
// application password sent as HTTP Basic.
//
// Threading: the first update of an incident creates the post; later updates
// edit it with the new title and content (Post.HTML already lists every
// update, newest first), so the permalink never changes. The RFO is its own
// post; an RFO re-published after an edit edits that RFO post.
//
// Idempotency: every post gets a slug derived from the incident id alone
// ("<id>" for the status post, "<id>-rfo" for the RFO). Before creating a post,
// Publish looks the slug up (GET /wp/v2/posts?slug=...&status=any) and, when
// a post of the bot's own user (GET /wp/v2/users/me, asked once) already
// exists (an earlier attempt whose answer was lost), returns that post
// instead of creating a second one. Edits are idempotent by nature.
//
// Slug squatting: a post with the slug by another author (a Contributor's
// pending post made in advance) is never adopted. The post is created with
// a slug of its own instead, "<slug>-<6 hex digits of the post key>", which
// no one can guess before the update is recorded, and the receipt's note
// (shown by `incident show`) says which post took the slug. When that one is
// taken too, Publish fails with an error naming both posts.
//
// The look-up is skipped on a Fresh post (the first attempt at a delivery
// just recorded: no earlier attempt exists), so a first publish is one
// round trip; when a squatter holds the slug then, WordPress gives the new
// post a slug of its own and the receipt's note says so.
//
// Permalinks depend on the site's settings, so this channel is not a
// publishers.Locator: the link channels wait for the post's real link.
package wordpress

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/BurntSushi/toml"

	"github.com/incident-cli/incident/publishers"
)

// Config is the [status_page] table of a WordPress status blog.
type Config struct {
	Name       string            `toml:"name"`
	URL        string            `toml:"url"`        // the site, e.g. https://status.example.com
	Username   string            `toml:"username"`   // the WordPress user owning the application password
	Password   publishers.Secret `toml:"password"`   // reference to the application password
	Categories []int             `toml:"categories"` // category term ids for new posts
	Tags       []int             `toml:"tags"`       // tag term ids for new posts
	Status     string            `toml:"status"`     // publish (default), draft, pending or private
}

// Keys lists the config keys, for "did you mean" hints.
var Keys = publishers.KeysOf(Config{})

// statuses are the post statuses a new post may take. "future" is left out:
// it needs a date, and an outage notice is never scheduled.
var statuses = []string{"publish", "draft", "pending", "private"}

type channel struct {
	cfg    Config
	base   string // site URL without a trailing slash
	env    publishers.Env
	client *publishers.Client

	mu sync.Mutex
	me int64 // the bot's own user id, once asked (users/me)
}

// New builds the WordPress channel from its config table.
func New(cfg toml.Primitive, md toml.MetaData, env publishers.Env) (publishers.Publisher, error) {
	var c Config
	if err := md.PrimitiveDecode(cfg, &c); err != nil {
		return nil, fmt.Errorf("wordpress: %w", err)
	}
	if c.URL == "" {
		return nil, errors.New("wordpress: `url` is required (the site, e.g. https://status.example.com)")
	}
	u, err := publishers.CheckBaseURL(c.URL)
	if err != nil {
		return nil, fmt.Errorf("wordpress: %w", err)
	}
	if c.Username == "" {
		return nil, errors.New("wordpress: `username` is required (the user owning the application password)")
	}
	if c.Password.IsZero() {
		return nil, errors.New("wordpress: `password` is required (an application password reference such as env:WP_APP_PASSWORD)")
	}
	if c.Status == "" {
		c.Status = "publish"
	}
	if !slices.Contains(statuses, c.Status) {
		return nil, fmt.Errorf("wordpress: `status` %q is not one of %s", c.Status, strings.Join(statuses, ", "))
	}
	for _, id := range append(append([]int{}, c.Categories...), c.Tags...) {
		if id <= 0 {
			return nil, fmt.Errorf("wordpress: `categories` and `tags` take term ids (positive numbers), not %d", id)
		}
	}
	ch := &channel{cfg: c, base: u.String(), env: env}
	ch.client = &publishers.Client{
		HTTP:      env.HTTP,
		UserAgent: env.UserAgent,
		Message:   ch.errorMessage,
		Hint:      publishers.Hints(c.Password),
		Authorize: ch.authorize,
		Now:       env.Now,
		NotJSON:   "WordPress answered with a web page instead of its REST API: the site probably uses Plain permalinks; choose another structure under Settings → Permalinks",
	}
	return ch, nil
}

func (c *channel) authorize(r *http.Request) error {
	pw, err := c.env.Secrets.Resolve(r.Context(), c.cfg.Password)
	if err != nil {
		return err
	}
	r.SetBasicAuth(c.cfg.Username, pw)
	return nil
}

// post is the part of a WordPress post object this channel reads.
type post struct {
	ID     int64  `json:"id"`
	Author int64  `json:"author"`
	Link   string `json:"link"`
	Slug   string `json:"slug"`
	Status string `json:"status"`
}

// postBody is what a create or edit sends.
type postBody struct {
	Title      string `json:"title"`
	Content    string `json:"content"`
	Status     string `json:"status,omitempty"`
	Slug       string `json:"slug,omitempty"`
	Categories []int  `json:"categories,omitempty"`
	Tags       []int  `json:"tags,omitempty"`
}

// Publish creates or edits the incident's post (or its RFO post).
func (c *channel) Publish(ctx context.Context, p publishers.Post) (publishers.Receipt, error) {
	if p.Incident.ID == "" {
		return publishers.Receipt{}, publishers.Permanent(errors.New("publish post: the post has no incident id"))
	}
	if strings.TrimSpace(p.HTML) == "" {
		return publishers.Receipt{}, publishers.Permanent(errors.New("publish post: the rendered HTML is empty"))
	}
	if p.Kind == publishers.KindRFO {
		if parent := rfoParent(p); parent != nil {
			return c.edit(ctx, "update RFO post", parent.ID, p, string(publishers.KindRFO))
		}
		return c.create(ctx, "create RFO post", Slug(p.Incident.ID+"-rfo"), p, string(publishers.KindRFO))
	}
	if p.Thread != nil {
		return c.edit(ctx, "update post", p.Thread.ID, p, string(publishers.KindUpdate))
	}
	return c.create(ctx, "create post", Slug(p.Incident.ID), p, string(publishers.KindUpdate))
}

// rfoParent returns the earlier RFO receipt an RFO edit must update, or nil
// for a first RFO. Post.Parent is the channel's latest receipt, which for a
// first RFO is the status post itself (same id as Thread); that one is kept.
func rfoParent(p publishers.Post) *publishers.Receipt {
	par := p.Parent
	if par == nil || par.ID == "" {
		return nil
	}
	if par.Meta["kind"] == string(publishers.KindRFO) {
		return par
	}
	if par.Meta["kind"] == string(publishers.KindUpdate) {
		return nil
	}
	if p.Thread != nil && p.Thread.ID == par.ID {
		return nil
	}
	return par
}

func (c *channel) create(ctx context.Context, op, slug string, p publishers.Post, kind string) (publishers.Receipt, error) {
	note := ""
	if !p.Fresh {
		me, err := c.user(ctx)
		if err != nil {
			return publishers.Receipt{}, err
		}
		mine, other, err := c.lookup(ctx, "look up post "+slug, slug, me)
		if err != nil {
			return publishers.Receipt{}, err
		}
		if mine != nil {
			return c.receipt(*mine, kind), nil
		}
		if other != nil {
			taken := *other
			slug = ownSlug(slug, p.Key)
			note = fmt.Sprintf("the slug %s is taken by another author's post (id %d, %s), so this post is %s: check who made that post", taken.Slug, taken.ID, taken.Status, slug)
			if mine, other, err = c.lookup(ctx, "look up post "+slug, slug, me); err != nil {
				return publishers.Receipt{}, err
			}
			if mine != nil {
				return c.noted(c.receipt(*mine, kind), note), nil
			}
			if other != nil {
				return publishers.Receipt{}, publishers.Permanent(fmt.Errorf("%s: the slugs %s and %s are taken by other authors' posts (ids %d and %d); this channel adopts only its own user's posts: delete those posts, then run `incident retry`", op, taken.Slug, slug, taken.ID, other.ID))
			}
		}
	}
	body := postBody{
		Title:      title(p),
		Content:    content(p),
		Status:     c.cfg.Status,
		Slug:       slug,
		Categories: c.cfg.Categories,
		Tags:       c.cfg.Tags,
	}
	var out post
	if _, err := c.client.Do(ctx, op, http.MethodPost, c.base+"/wp-json/wp/v2/posts", body, &out); err != nil {
		return publishers.Receipt{}, err
	}
	if out.ID == 0 {
		return publishers.Receipt{}, fmt.Errorf("%s: the answer holds no post id", op)
	}
	if note == "" && out.Slug != "" && out.Slug != slug {
		note = fmt.Sprintf("the slug %s was taken, so WordPress made this post %s: check who made the other post", slug, out.Slug)
	}
	return c.noted(c.receipt(out, kind), note), nil
}

// ownSlug is the slug a post takes when another author's post holds its
// usual one: the slug and 6 hex digits of the post key, which comes from
// the update event's id and so cannot be guessed before the update is
// recorded, yet is the same on every retry.
func ownSlug(slug, key string) string {
	sum := sha256.Sum256([]byte(key))
	if len(slug) > 182 {
		slug = strings.TrimRight(slug[:182], "-")
	}
	return slug + "-" + hex.EncodeToString(sum[:3])
}

// noted adds a note for people (incident show) to a receipt.
func (c *channel) noted(r publishers.Receipt, note string) publishers.Receipt {
	if note != "" {
		r.Meta["note"] = note
	}
	return r
}

// user returns the id of the user the application password belongs to
// (GET /wp/v2/users/me), asked once per process.
func (c *channel) user(ctx context.Context) (int64, error) {
	c.mu.Lock()
	me := c.me
	c.mu.Unlock()
	if me != 0 {
		return me, nil
	}
	var u struct {
		ID int64 `json:"id"`
	}
	if _, err := c.client.Do(ctx, "look up the bot's user", http.MethodGet, c.base+"/wp-json/wp/v2/users/me", nil, &u); err != nil {
		return 0, err
	}
	if u.ID == 0 {
		return 0, errors.New("look up the bot's user: the answer holds no user id")
	}
	c.mu.Lock()
	c.me = u.ID
	c.mu.Unlock()
	return u.ID, nil
}

func (c *channel) edit(ctx context.Context, op, id string, p publishers.Post, kind string) (publishers.Receipt, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 {
		return publishers.Receipt{}, publishers.Permanent(fmt.Errorf("%s: recorded post id %q is not a WordPress post id", op, id))
	}
	body := postBody{Title: title(p), Content: content(p)}
	var out post
	u := c.base + "/wp-json/wp/v2/posts/" + strconv.FormatInt(n, 10)
	if _, err := c.client.Do(ctx, op, http.MethodPost, u, body, &out); err != nil {
		return publishers.Receipt{}, err
	}
	if out.ID == 0 {
		out.ID = n
	}
	return c.receipt(out, kind), nil
}

// lookup finds the posts of any status (trash aside) with exactly this
// slug: the bot's own (me), and the first by another author.
func (c *channel) lookup(ctx context.Context, op, slug string, me int64) (mine, other *post, err error) {
	q := url.Values{"slug": {slug}, "status": {"any"}, "_fields": {"id,author,link,slug,status"}}
	var posts []post
	if _, err := c.client.Do(ctx, op, http.MethodGet, c.base+"/wp-json/wp/v2/posts?"+q.Encode(), nil, &posts); err != nil {
		return nil, nil, err
	}
	for i := range posts {
		p := &posts[i]
		switch {
		case p.Slug != slug || p.ID == 0:
		case p.Author == me && mine == nil:
			mine = p
		case p.Author != me && other == nil:
			other = p
		}
	}
	return mine, other, nil
}

func (c *channel) receipt(p post, kind string) publishers.Receipt {
	return publishers.Receipt{
		ID:   strconv.FormatInt(p.ID, 10),
		URL:  p.Link,
		At:   c.env.Now(),
		Meta: map[string]string{"slug": p.Slug, "kind": kind},
	}
}

// Verify checks the application password with GET /wp/v2/users/me and
// returns the user's display name.
func (c *channel) Verify(ctx context.Context) (string, error) {
	var me struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
		Slug string `json:"slug"`
	}
	if _, err := c.client.Do(ctx, "verify credentials", http.MethodGet, c.base+"/wp-json/wp/v2/users/me", nil, &me); err != nil {
		return "", err
	}
	if me.Name == "" {
		return me.Slug, nil
	}
	return me.Name, nil
}

// title is the post's title as WordPress stores it: HTML. The rendered title
// is plain text (it holds the incident title as the responder typed it), so
// &, < and > are escaped: WordPress prints a title as it is, and for a user
// with the unfiltered_html capability (an administrator) a typed <script>
// would run on the page.
func title(p publishers.Post) string {
	t := p.Title
	if strings.TrimSpace(t) == "" {
		t = p.Incident.Title
	}
	return publishers.EscapeText(t)
}

// content is the post's HTML with every "[" written as "&#91;": WordPress
// runs shortcodes ([embed], [contact-form], a plugin's own) found in post
// content, and the HTML holds what the responder typed.
func content(p publishers.Post) string { return publishers.NeutralizeShortcodes(p.HTML) }

// Slug turns an incident id into the WordPress slug this channel uses: lower
// case letters, digits and hyphens, at most 190 bytes (WordPress stores 200),
// with a short hash appended when the id had to be shortened or emptied.
func Slug(id string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(id) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	s := strings.Trim(b.String(), "-")
	if s != "" && len(s) <= 190 && s == strings.ToLower(id) {
		return s
	}
	sum := sha256.Sum256([]byte(id))
	h := hex.EncodeToString(sum[:])[:10]
	if len(s) > 178 {
		s = strings.TrimRight(s[:178], "-")
	}
	if s == "" {
		return "incident-" + h
	}
	return s + "-" + h
}

// errorMessage is the service's message for an error answer: WordPress's
// own (see errorMessage), else the body itself; the Client redacts the
// credentials we sent and shortens it. The Basic credentials a server or
// proxy may echo back are base64 of user:password, which neither the
// Client nor the runbook's redaction of secret values can recognise, so
// they are redacted here (before anything cuts the message).
func (c *channel) errorMessage(b []byte) string {
	msg := errorMessage(b)
	if msg == "" {
		msg = strings.TrimSpace(string(b))
	}
	if pw, err := c.env.Secrets.Resolve(context.Background(), c.cfg.Password); err == nil && pw != "" {
		cred := []byte(c.cfg.Username + ":" + pw)
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
			msg = strings.ReplaceAll(msg, enc.EncodeToString(cred), "[redacted]")
		}
	}
	return msg
}

// errorMessage reads WordPress's error body:
// {"code":"rest_cannot_create","message":"Sorry, ...","data":{"status":401}}.
func errorMessage(b []byte) string {
	var e struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	if json.Unmarshal(b, &e) != nil || e.Message == "" {
		return ""
	}
	if e.Code != "" {
		return e.Message + " [" + e.Code + "]"
	}
	return e.Message
}
