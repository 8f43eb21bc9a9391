// Package pushover pages people through Pushover (pushover.net), the phone
// app: one message per person in the pager's `to` table, with the API's
// own form POSTs (POST /1/messages.json). An urgent page is an emergency
// (priority 2): Pushover repeats it every `retry` until the person taps
// Acknowledge or `expire` runs out, and answers a receipt. Acknowledged
// polls the receipt (GET /1/receipts/{r}.json, no faster than once every
// 5 s); Cancel stops every emergency of an incident at once, by the tag
// the page carried (POST /1/receipts/cancel_by_tag/{incident}.json), and
// receipt by receipt when that fails; Verify checks the token and every
// user key (POST /1/users/validate.json) without paging anyone.
//
// A page's form: token, user, title (Page.Subject, ≤250 characters),
// message (Page.Text, ≤1024), priority, timestamp (Page.Now), tags (the
// incident id), sound when configured, and retry and expire for priority 2.
// No url is sent: pages never link to the status page.
//
// Secrets: the application token and every user key are secret references,
// resolved at first use. Neither ever appears in an error, a receipt or a
// log: receipts name people, and the service's messages pass through the
// resolver's Redact.
//
// Idempotency: Pushover does not deduplicate. A Pager remembers, for a day,
// which people each Page.Key reached, so a retry after a partial failure
// pages only those not reached yet; a retry from another process may page
// someone twice.
package pushover

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/incident-cli/incident/pagers"
	"github.com/incident-cli/incident/publishers"
)

// DefaultURL is Pushover's API.
const DefaultURL = "https://api.pushover.net"

// Limits and defaults of the Messages API.
const (
	MaxTitle        = 250  // characters
	MaxMessage      = 1024 // characters
	DefaultPriority = 1    // high: bypasses the user's quiet hours
	Emergency       = 2    // repeated until acknowledged; answers a receipt
	DefaultRetry    = 60 * time.Second
	MinRetry        = 30 * time.Second
	DefaultExpire   = time.Hour
	MaxExpire       = 10800 * time.Second
	// MinRetryAfter5xx is how long Pushover asks clients to wait after a
	// 5xx before trying again; it is the RetryAfter of such an error.
	MinRetryAfter5xx = 5 * time.Second
)

// Config is a pushover pager's table in incident.toml.
type Config struct {
	Name     string                       `toml:"name"`
	URL      string                       `toml:"url"`      // DefaultURL unless testing
	Token    publishers.Secret            `toml:"token"`    // the application's API token
	To       map[string]publishers.Secret `toml:"to"`       // person -> user (or group) key, each a secret reference
	Priority *int                         `toml:"priority"` // -2..2, DefaultPriority when unset; urgent pages use 2
	Retry    Duration                     `toml:"retry"`    // how often an emergency repeats (DefaultRetry, ≥ 30s)
	Expire   Duration                     `toml:"expire"`   // how long it repeats (DefaultExpire, ≤ 3h)
	Sound    string                       `toml:"sound"`    // a Pushover sound name; the user's default when empty
}

// Keys lists the config keys, for "did you mean" hints.
var Keys = publishers.KeysOf(Config{})

// Pager pages through one Pushover application. It implements
// pagers.Pager, pagers.AckPoller, pagers.Canceller, pagers.People and
// pagers.Verifier.
type Pager struct {
	cfg      Config
	base     string
	env      publishers.Env
	client   *publishers.Client
	people   []string
	priority int
	sent     pagers.Delivered[delivery]
}

// delivery is one message Pushover accepted.
type delivery struct {
	request, receipt string
	quota            map[string]string // the X-Limit-App-* headers
}

var (
	_ pagers.Pager     = (*Pager)(nil)
	_ pagers.AckPoller = (*Pager)(nil)
	_ pagers.Canceller = (*Pager)(nil)
	_ pagers.People    = (*Pager)(nil)
	_ pagers.Verifier  = (*Pager)(nil)
)

// New builds a pushover pager from its config table. Secrets are resolved
// at first use, not here.
func New(cfg toml.Primitive, md toml.MetaData, env publishers.Env) (pagers.Pager, error) {
	var c Config
	if err := md.PrimitiveDecode(cfg, &c); err != nil {
		return nil, fmt.Errorf("pushover: %w", err)
	}
	if c.URL == "" {
		c.URL = DefaultURL
	}
	u, err := publishers.CheckBaseURL(c.URL)
	if err != nil {
		return nil, fmt.Errorf("pushover: %w", err)
	}
	p := &Pager{cfg: c, base: u.String(), env: env, priority: DefaultPriority}
	switch {
	case c.Token.IsZero():
		return nil, errors.New("pushover: `token` is required (a reference to the application's API token, like \"env:PUSHOVER_TOKEN\"; create an application at https://pushover.net/apps/build)")
	case len(c.To) == 0:
		return nil, errors.New("pushover: `to` is required: a table of people and their user keys, like to = { alice = \"env:PUSHOVER_ALICE\" }")
	}
	for name := range c.To {
		if err := pagers.CheckPerson(name); err != nil {
			return nil, fmt.Errorf("pushover: to: %w", err)
		}
		p.people = append(p.people, name)
	}
	slices.Sort(p.people)
	if c.Priority != nil {
		if *c.Priority < -2 || *c.Priority > Emergency {
			return nil, fmt.Errorf("pushover: `priority` is %d; it must be -2 (lowest) to 2 (emergency)", *c.Priority)
		}
		p.priority = *c.Priority
	}
	if c.Retry.Duration == 0 {
		p.cfg.Retry.Duration = DefaultRetry
	} else if c.Retry.Duration < MinRetry {
		return nil, fmt.Errorf("pushover: `retry` is %s; Pushover repeats an emergency at most every 30s", c.Retry.Duration)
	}
	if c.Expire.Duration == 0 {
		p.cfg.Expire.Duration = DefaultExpire
	} else if c.Expire.Duration > MaxExpire {
		return nil, fmt.Errorf("pushover: `expire` is %s; Pushover repeats an emergency for at most 3h (10800s)", c.Expire.Duration)
	}
	if p.cfg.Expire.Duration < p.cfg.Retry.Duration {
		return nil, fmt.Errorf("pushover: `expire` (%s) is shorter than `retry` (%s): the emergency would never repeat", p.cfg.Expire.Duration, p.cfg.Retry.Duration)
	}
	if strings.IndexFunc(c.Sound, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-')
	}) >= 0 {
		return nil, fmt.Errorf("pushover: `sound` %q is not a sound name (like \"siren\" or \"persistent\")", c.Sound)
	}
	// The token travels in every request: never follow a redirect.
	hc := publishers.NoRedirectClient(env.HTTP)
	if p.env.Now == nil {
		p.env.Now = time.Now
	}
	p.client = &publishers.Client{HTTP: hc, UserAgent: env.UserAgent, Now: p.env.Now,
		NotJSON: "the url does not point at the Pushover API; leave it out to use " + DefaultURL}
	return p, nil
}

// People returns the names in the `to` table, sorted.
func (p *Pager) People() []string { return slices.Clone(p.people) }

// Page sends the page to Page.Person, or to everyone in `to` when it is
// empty: one message each. Urgent pages are emergencies (priority 2) and
// their receipts are in Receipt.Meta["receipt"], comma-separated in the
// order of Receipt.To. An acknowledgement page ("stand down") is sent at
// normal priority at most: it must not wake anyone.
//
// When some people were reached and others not, Page returns the receipt
// of those reached together with the error; the error is retryable when
// one of the failures is, and a retry pages only the others.
func (p *Pager) Page(ctx context.Context, pg pagers.Page) (pagers.Receipt, error) {
	people, err := p.targets(pg.Person)
	if err != nil {
		return pagers.Receipt{}, err
	}
	token, err := p.token(ctx)
	if err != nil {
		return pagers.Receipt{}, err
	}
	form, err := p.form(pg)
	if err != nil {
		return pagers.Receipt{}, err
	}
	var reached []delivery
	rec := pagers.Receipt{At: p.env.Now(), Meta: map[string]string{"priority": form.Get("priority")}}
	rec.To, reached, err = pagers.Each(people, func(name string) (delivery, error) {
		return p.deliver(ctx, token, name, pg.Key, form)
	})
	if len(reached) == 0 {
		return pagers.Receipt{}, fmt.Errorf("pushover: %w", err)
	}
	var ids, receipts []string
	for _, d := range reached {
		ids = append(ids, d.request)
		receipts = append(receipts, d.receipt)
		for k, v := range d.quota {
			rec.Meta[k] = v
		}
	}
	rec.ID = strings.Join(ids, ",")
	if form.Get("priority") == strconv.Itoa(Emergency) {
		rec.Meta["receipt"] = strings.Join(receipts, ",")
	}
	if err != nil {
		return rec, fmt.Errorf("pushover: %w", err)
	}
	return rec, nil
}

// targets are the people a page goes to.
func (p *Pager) targets(person string) ([]string, error) {
	if person == "" {
		return p.people, nil
	}
	if _, ok := p.cfg.To[person]; !ok {
		return nil, publishers.Permanent(fmt.Errorf("pushover: %q is not in the pager's `to` table (%s)", person, strings.Join(p.people, ", ")))
	}
	return []string{person}, nil
}

// form is the message's form, without token and user.
func (p *Pager) form(pg pagers.Page) (url.Values, error) {
	title := pg.Subject
	if title == "" {
		title = pg.Title
	}
	msg := pg.Text
	for _, alt := range []string{pg.Summary, title} {
		if strings.TrimSpace(msg) == "" {
			msg = alt
		}
	}
	if strings.TrimSpace(msg) == "" {
		return nil, publishers.Permanent(errors.New("pushover: the page has no text"))
	}
	priority := p.priority
	switch {
	case pg.Kind == pagers.KindAck:
		priority = min(priority, 0)
	case pg.Urgent:
		priority = Emergency
	}
	f := url.Values{
		"title":    {pagers.Cut(pagers.Plain(title), MaxTitle, nil)},
		"message":  {pagers.Cut(pagers.Plain(msg), MaxMessage, nil)},
		"priority": {strconv.Itoa(priority)},
	}
	if !pg.Now.IsZero() {
		f.Set("timestamp", strconv.FormatInt(pg.Now.Unix(), 10))
	}
	if pg.Incident != "" {
		f.Set("tags", pg.Incident)
	}
	if p.cfg.Sound != "" {
		f.Set("sound", p.cfg.Sound)
	}
	if priority == Emergency {
		f.Set("retry", strconv.Itoa(int(p.cfg.Retry.Seconds())))
		f.Set("expire", strconv.Itoa(int(p.cfg.Expire.Seconds())))
	}
	return f, nil
}

// deliver sends one person's message, unless this key already reached them.
func (p *Pager) deliver(ctx context.Context, token, name, key string, form url.Values) (delivery, error) {
	if d, done := p.sent.Get(key, name, p.env.Now()); done {
		return d, nil
	}
	user, err := p.userKey(ctx, name)
	if err != nil {
		return delivery{}, err
	}
	f := url.Values{}
	for k, v := range form {
		f[k] = v
	}
	f.Set("token", token)
	f.Set("user", user)
	var out struct {
		Status  int    `json:"status"`
		Request string `json:"request"`
		Receipt string `json:"receipt"`
	}
	resp, err := p.post(ctx, "send to "+name, "/1/messages.json", f, &out, name)
	if err != nil {
		return delivery{}, err
	}
	if out.Status != 1 {
		return delivery{}, fmt.Errorf("send to %s: Pushover answered status %d without an error", name, out.Status)
	}
	if form.Get("priority") == strconv.Itoa(Emergency) && !validReceipt(out.Receipt) {
		return delivery{}, fmt.Errorf("send to %s: Pushover answered no receipt for an emergency", name)
	}
	d := delivery{request: clean(out.Request, 64), receipt: out.Receipt, quota: quota(resp)}
	p.sent.Put(key, name, d, p.env.Now())
	return d, nil
}

// validReceipt: Pushover's receipts are 30 characters of [A-Za-z0-9].
func validReceipt(r string) bool {
	return len(r) == 30 && strings.IndexFunc(r, func(c rune) bool {
		return !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9')
	}) < 0
}

// quota reads the X-Limit-App-* headers into receipt meta.
func quota(resp *http.Response) map[string]string {
	m := map[string]string{}
	if resp == nil {
		return m
	}
	for h, k := range map[string]string{"X-Limit-App-Limit": "app_limit", "X-Limit-App-Remaining": "app_remaining", "X-Limit-App-Reset": "app_reset"} {
		if v := resp.Header.Get(h); v != "" {
			if _, err := strconv.ParseInt(v, 10, 64); err == nil {
				m[k] = v
			}
		}
	}
	return m
}

// clean keeps an identifier from an answer printable and short.
func clean(s string, n int) string {
	return pagers.Cut(strings.ReplaceAll(pagers.Plain(s), "\n", " "), n, nil)
}
