// Package discourse posts an incident's link text to a Discourse forum: the
// first update opens a topic in the configured category, every later update
// and the RFO reply in that topic. It speaks the Discourse API (POST
// /posts.json) with the Api-Key and Api-Username headers.
//
// Idempotency: a second Publish with the same Post.Key never creates a second
// post. A new topic carries an external_id derived from the key (a hash, so it
// fits Discourse's 50 characters and [\w-] routes); before creating one,
// Publish looks it up with GET /t/external_id/{id}.json and, when it exists,
// returns it. A reply ends with an invisible marker, an HTML comment
// "<!-- incident:HASH -->" made from the key; before replying, Publish reads
// the topic's latest posts (GET /t/{id}.json and /t/{id}/posts.json, with
// include_raw) and returns the post by the configured user that carries the
// marker. The marker counts towards the post's length (see Length). Both
// look-ups are skipped on a Fresh post (the first attempt at a delivery just
// recorded: no earlier attempt exists), so a first publish is one round trip.
package discourse

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/BurntSushi/toml"

	"github.com/incident-cli/incident/publishers"
)

// Config is a discourse channel's table in incident.toml.
type Config struct {
	Name     string            `toml:"name"`
	Template string            `toml:"template"`
	URL      string            `toml:"url"`      // the forum, e.g. https://community.example.com
	Username string            `toml:"username"` // sent as Api-Username; the posts' author
	APIKey   publishers.Secret `toml:"api_key"`  // an admin API key (env:, file: or cmd:)
	Category int               `toml:"category"` // the category id new topics go into
}

// Keys lists the config keys, for "did you mean" hints.
var Keys = publishers.KeysOf(Config{})

// MaxPostLength is Discourse's default max_post_length site setting, in
// characters (Unicode code points). Sites can change it; 32000 is what a
// fresh install enforces.
const MaxPostLength = 32000

// Publisher posts to one Discourse forum. It implements publishers.Publisher,
// publishers.Counter and publishers.Verifier.
type Publisher struct {
	cfg  Config
	base string // the forum URL without a trailing slash
	env  publishers.Env
	http *http.Client
}

// New builds a discourse channel from its config table. Secrets are resolved
// at first use, not here.
func New(cfg toml.Primitive, md toml.MetaData, env publishers.Env) (publishers.Publisher, error) {
	var c Config
	if err := md.PrimitiveDecode(cfg, &c); err != nil {
		return nil, fmt.Errorf("discourse: %w", err)
	}
	switch {
	case c.URL == "":
		return nil, errors.New("discourse: `url` is required (the forum's address, like https://community.example.com)")
	case c.Username == "":
		return nil, errors.New("discourse: `username` is required (the user the API key posts as)")
	case c.APIKey.IsZero():
		return nil, errors.New("discourse: `api_key` is required (a reference like \"env:DISCOURSE_API_KEY\")")
	case c.Category <= 0:
		return nil, errors.New("discourse: `category` is required (the numeric id of the category new topics go into)")
	}
	u, err := publishers.CheckBaseURL(c.URL)
	if err != nil {
		return nil, fmt.Errorf("discourse: %w", err)
	}
	hc := &http.Client{Timeout: 30 * time.Second}
	if env.HTTP != nil {
		cp := *env.HTTP
		hc = &cp
	}
	hc.CheckRedirect = checkRedirect
	if env.Now == nil {
		env.Now = time.Now
	}
	return &Publisher{cfg: c, base: u.String(), env: env, http: hc}, nil
}

// checkRedirect follows GET redirects on the same host only (the external_id
// lookup answers 301), so the API key never travels to another host, and
// never turns a POST into a GET.
func checkRedirect(req *http.Request, via []*http.Request) error {
	first := via[0]
	if first.Method != http.MethodGet {
		return http.ErrUseLastResponse
	}
	if len(via) >= 5 {
		return errors.New("stopped after 5 redirects")
	}
	if req.URL.Host != first.URL.Host || (first.URL.Scheme == "https" && req.URL.Scheme != "https") {
		return publishers.Permanent(fmt.Errorf("refusing a redirect to another host (%s), which would receive the API key; check the url", req.URL.Host))
	}
	return nil
}

// Length counts text as Discourse does for max_post_length (code points of
// the raw post), including the idempotency marker Publish appends.
func (p *Publisher) Length(text string) (n, limit int) {
	return utf8.RuneCountInString(text) + markerLen, MaxPostLength
}

// Publish opens the incident's topic (first update) or replies in it.
func (p *Publisher) Publish(ctx context.Context, post publishers.Post) (publishers.Receipt, error) {
	cl, err := p.client(ctx)
	if err != nil {
		return publishers.Receipt{}, err
	}
	if post.Thread == nil {
		return p.createTopic(ctx, cl, post)
	}
	return p.reply(ctx, cl, post)
}

// Verify reads the current user (GET /session/current.json). A key that may
// not read the session falls back to GET /u/{username}.json, which Discourse
// also refuses to an invalid key.
func (p *Publisher) Verify(ctx context.Context) (string, error) {
	cl, err := p.client(ctx)
	if err != nil {
		return "", err
	}
	var cur struct {
		CurrentUser struct {
			Username string `json:"username"`
		} `json:"current_user"`
	}
	err = p.do(ctx, cl, "verify credentials", http.MethodGet, "/session/current.json", nil, &cur)
	if err == nil && cur.CurrentUser.Username != "" {
		return "@" + cur.CurrentUser.Username, nil
	}
	var he *publishers.HTTPError
	if err != nil && !(errors.As(err, &he) && (he.Status == http.StatusNotFound || he.Status == http.StatusForbidden)) {
		return "", err
	}
	var u struct {
		User struct {
			Username string `json:"username"`
		} `json:"user"`
	}
	if err := p.do(ctx, cl, "verify credentials", http.MethodGet, "/u/"+url.PathEscape(p.cfg.Username)+".json", nil, &u); err != nil {
		return "", err
	}
	if u.User.Username == "" {
		return "", errors.New("verify credentials: the answer names no user")
	}
	return "@" + u.User.Username, nil
}

// post is the part of Discourse's post object we use.
type post struct {
	ID         int64  `json:"id"`
	TopicID    int64  `json:"topic_id"`
	TopicSlug  string `json:"topic_slug"`
	PostNumber int    `json:"post_number"`
	Username   string `json:"username"`
	Raw        string `json:"raw"`
	Action     string `json:"action"` // "enqueued" when the post awaits approval
}

// topic is the part of GET /t/{id}.json we use.
type topic struct {
	ID         int64  `json:"id"`
	Slug       string `json:"slug"`
	PostStream struct {
		Posts  []post  `json:"posts"`
		Stream []int64 `json:"stream"`
	} `json:"post_stream"`
}

func (p *Publisher) createTopic(ctx context.Context, cl *publishers.Client, in publishers.Post) (publishers.Receipt, error) {
	ext := externalID(in.Key)
	if !in.Fresh {
		if r, found, err := p.findTopic(ctx, cl, ext); found || err != nil {
			return r, err
		}
	}
	body := map[string]any{
		"title":       in.Title,
		"raw":         rawWithMarker(in.Text, in.Key),
		"category":    p.cfg.Category,
		"external_id": ext,
	}
	var created post
	if err := p.do(ctx, cl, "create topic", http.MethodPost, "/posts.json", body, &created); err != nil {
		return publishers.Receipt{}, err
	}
	if created.Action == "enqueued" {
		return publishers.Receipt{}, publishers.Permanent(errors.New("create topic: Discourse queued the post for a moderator's approval; let the API user post without approval"))
	}
	if created.ID == 0 || created.TopicID == 0 {
		return publishers.Receipt{}, errors.New("create topic: the answer holds no post or topic id")
	}
	return p.receipt(created, false), nil
}

// findTopic looks up the topic an earlier attempt created with external_id
// ext; found is false when there is none (404).
func (p *Publisher) findTopic(ctx context.Context, cl *publishers.Client, ext string) (r publishers.Receipt, found bool, err error) {
	var t topic
	err = p.do(ctx, cl, "look up topic", http.MethodGet, "/t/external_id/"+ext+".json", nil, &t)
	var he *publishers.HTTPError
	switch {
	case err == nil && t.ID != 0:
		// An earlier attempt created it; its answer was lost.
		first := post{TopicID: t.ID, TopicSlug: t.Slug, PostNumber: 1}
		if len(t.PostStream.Posts) > 0 {
			first.ID = t.PostStream.Posts[0].ID
		} else if len(t.PostStream.Stream) > 0 {
			first.ID = t.PostStream.Stream[0]
		}
		return p.receipt(first, false), true, nil
	case err == nil:
		return publishers.Receipt{}, false, errors.New("look up topic: the answer holds no topic id")
	case !errors.As(err, &he) || he.Status != http.StatusNotFound:
		return publishers.Receipt{}, false, err
	}
	return publishers.Receipt{}, false, nil
}

func (p *Publisher) reply(ctx context.Context, cl *publishers.Client, in publishers.Post) (publishers.Receipt, error) {
	topicID, err := strconv.ParseInt(in.Thread.Meta["topic_id"], 10, 64)
	if err != nil || topicID <= 0 {
		return publishers.Receipt{}, publishers.Permanent(fmt.Errorf("reply: the topic's receipt (post %s) has no topic_id", in.Thread.ID))
	}
	slug := in.Thread.Meta["topic_slug"]
	if !in.Fresh {
		found, err := p.findReply(ctx, cl, topicID, marker(in.Key))
		if err != nil {
			return publishers.Receipt{}, err
		}
		if found != nil {
			return p.receipt(fill(*found, topicID, slug), true), nil
		}
	}
	body := map[string]any{"topic_id": topicID, "raw": rawWithMarker(in.Text, in.Key)}
	var created post
	if err := p.do(ctx, cl, "reply", http.MethodPost, "/posts.json", body, &created); err != nil {
		return publishers.Receipt{}, err
	}
	if created.Action == "enqueued" {
		return publishers.Receipt{}, publishers.Permanent(errors.New("reply: Discourse queued the post for a moderator's approval; let the API user post without approval"))
	}
	if created.ID == 0 || created.PostNumber == 0 {
		return publishers.Receipt{}, errors.New("reply: the answer holds no post id or number")
	}
	return p.receipt(fill(created, topicID, slug), true), nil
}

// chunk is how many posts findReply asks for at once, as Discourse's own
// topic view does.
const chunk = 20

// findReply returns the post of ours in the topic that carries the marker, if
// any: on the topic's first page, else anywhere in its stream, read newest
// first a chunk at a time (a lost reply is usually recent, but a busy
// thread may have moved on by the time of the retry).
func (p *Publisher) findReply(ctx context.Context, cl *publishers.Client, topicID int64, mark string) (*post, error) {
	var t topic
	id := strconv.FormatInt(topicID, 10)
	if err := p.do(ctx, cl, "look up replies", http.MethodGet, "/t/"+id+".json?include_raw=true", nil, &t); err != nil {
		return nil, err
	}
	if hit := p.withMarker(t.PostStream.Posts, mark); hit != nil {
		return hit, nil
	}
	loaded := map[int64]bool{}
	for _, ps := range t.PostStream.Posts {
		loaded[ps.ID] = true
	}
	var rest []int64
	for _, pid := range t.PostStream.Stream {
		if !loaded[pid] {
			rest = append(rest, pid)
		}
	}
	for end := len(rest); end > 0; end -= chunk {
		q := url.Values{"include_raw": {"true"}}
		for _, pid := range rest[max(0, end-chunk):end] {
			q.Add("post_ids[]", strconv.FormatInt(pid, 10))
		}
		var more topic
		if err := p.do(ctx, cl, "look up replies", http.MethodGet, "/t/"+id+"/posts.json?"+q.Encode(), nil, &more); err != nil {
			return nil, err
		}
		if hit := p.withMarker(more.PostStream.Posts, mark); hit != nil {
			return hit, nil
		}
	}
	return nil, nil
}

func (p *Publisher) withMarker(posts []post, mark string) *post {
	for i := range posts {
		if strings.EqualFold(posts[i].Username, p.cfg.Username) && strings.HasSuffix(strings.TrimSpace(posts[i].Raw), mark) {
			return &posts[i]
		}
	}
	return nil
}

func fill(ps post, topicID int64, slug string) post {
	if ps.TopicID == 0 {
		ps.TopicID = topicID
	}
	if ps.TopicSlug == "" {
		ps.TopicSlug = slug
	}
	return ps
}

// receipt turns a post into a receipt: the topic's URL for its first post, the
// post's own URL for a reply.
func (p *Publisher) receipt(ps post, isReply bool) publishers.Receipt {
	tid := strconv.FormatInt(ps.TopicID, 10)
	slug := ps.TopicSlug
	if slug == "" {
		slug = "-" // Discourse resolves /t/-/{id} to the topic
	}
	u := p.base + "/t/" + slug + "/" + tid
	if isReply {
		u += "/" + strconv.Itoa(ps.PostNumber)
	}
	return publishers.Receipt{
		ID:  strconv.FormatInt(ps.ID, 10),
		URL: u,
		At:  p.env.Now(),
		Meta: map[string]string{
			"topic_id":    tid,
			"topic_slug":  ps.TopicSlug,
			"post_number": strconv.Itoa(ps.PostNumber),
		},
	}
}
