// Package twilio pages people by text message or phone call through
// Twilio's REST API, with plain form POSTs and HTTP Basic auth
// (AccountSid:AuthToken): one SMS or one call per person in the pager's
// `to` table.
//
//   - mode "sms": POST /2010-04-01/Accounts/{sid}/Messages.json with To,
//     From and Body: the page's subject and text, at most 1600 characters
//     (cut at a word, never inside a character).
//   - mode "call": POST /2010-04-01/Accounts/{sid}/Calls.json with To,
//     From, Timeout=60 (seconds it rings) and inline TwiML:
//     <Response><Say loop="2">…</Say></Response>, a short spoken text
//     (severity, title, services, summary, how long it has been firing),
//     XML-escaped, the whole at most 4000 characters. A call only notifies:
//     acknowledging from the keypad would need a public URL for Twilio to
//     call back, so the person acknowledges with `incident ack`.
//
// The receipt's ID is the SID Twilio answered (comma-separated, in the
// order of Receipt.To, when several people were paged). Verify reads the
// account (GET /2010-04-01/Accounts/{sid}.json) and sends nothing.
//
// Secrets: the auth token is a secret reference, resolved at first use; it
// never appears in an error (Twilio's account resource even carries it:
// that field is never read). Phone numbers are config, not secrets.
//
// Idempotency: Twilio does not deduplicate. A Pager remembers, for a day,
// which people each Page.Key reached, so a retry after a partial failure
// texts or calls only those not reached yet.
package twilio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/incident-cli/incident/pagers"
	"github.com/incident-cli/incident/publishers"
)

// DefaultURL is Twilio's API.
const DefaultURL = "https://api.twilio.com"

// Limits of the Messages and Calls APIs.
const (
	MaxBody     = 1600 // characters of an SMS body (counted in UTF-16 units, as phones do)
	MaxTwiml    = 4000 // characters of inline TwiML
	RingTimeout = 60   // seconds a call rings before Twilio gives up
)

// Modes.
const (
	ModeSMS  = "sms"
	ModeCall = "call"
)

// Config is a twilio pager's table in incident.toml.
type Config struct {
	Name       string            `toml:"name"`
	URL        string            `toml:"url"`         // DefaultURL unless testing
	AccountSID string            `toml:"account_sid"` // AC followed by 32 hex digits
	AuthToken  publishers.Secret `toml:"auth_token"`  // the account's auth token (or an API key secret)
	From       string            `toml:"from"`        // a number of the account, E.164
	To         map[string]string `toml:"to"`          // person -> phone number, E.164 (+14155550100)
	Mode       string            `toml:"mode"`        // "sms" (default) or "call"
}

// Keys lists the config keys, for "did you mean" hints.
var Keys = publishers.KeysOf(Config{})

// Pager texts or calls through one Twilio account. It implements
// pagers.Pager, pagers.People and pagers.Verifier.
type Pager struct {
	cfg    Config
	base   string
	env    publishers.Env
	client *publishers.Client
	people []string
	sent   pagers.Delivered[sent]
}

// sent is what Twilio answered for one message or call.
type sent struct{ sid, status string }

var (
	e164       = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)
	accountSID = regexp.MustCompile(`^AC[0-9a-fA-F]{32}$`)
)

var (
	_ pagers.Pager    = (*Pager)(nil)
	_ pagers.People   = (*Pager)(nil)
	_ pagers.Verifier = (*Pager)(nil)
)

// New builds a twilio pager from its config table. The auth token is
// resolved at first use, not here.
func New(cfg toml.Primitive, md toml.MetaData, env publishers.Env) (pagers.Pager, error) {
	var c Config
	if err := md.PrimitiveDecode(cfg, &c); err != nil {
		return nil, fmt.Errorf("twilio: %w", err)
	}
	if c.URL == "" {
		c.URL = DefaultURL
	}
	if c.Mode == "" {
		c.Mode = ModeSMS
	}
	u, err := publishers.CheckBaseURL(c.URL)
	if err != nil {
		return nil, fmt.Errorf("twilio: %w", err)
	}
	switch {
	case c.AccountSID == "":
		return nil, errors.New("twilio: `account_sid` is required (AC… from the Twilio console's account info)")
	case !accountSID.MatchString(c.AccountSID):
		return nil, fmt.Errorf("twilio: `account_sid` %q is not an account SID (AC followed by 32 hex digits)", c.AccountSID)
	case c.AuthToken.IsZero():
		return nil, errors.New("twilio: `auth_token` is required (a reference like \"env:TWILIO_AUTH_TOKEN\")")
	case !e164.MatchString(c.From):
		return nil, fmt.Errorf("twilio: `from` %q must be a phone number of the account in E.164 form, like +14155550100", c.From)
	case c.Mode != ModeSMS && c.Mode != ModeCall:
		return nil, fmt.Errorf("twilio: `mode` %q must be \"sms\" or \"call\"", c.Mode)
	case len(c.To) == 0:
		return nil, errors.New("twilio: `to` is required: a table of people and their numbers, like to = { alice = \"+14155550100\" }")
	}
	p := &Pager{cfg: c, base: u.String(), env: env}
	for name, number := range c.To {
		if err := pagers.CheckPerson(name); err != nil {
			return nil, fmt.Errorf("twilio: to: %w", err)
		}
		if !e164.MatchString(number) {
			return nil, fmt.Errorf("twilio: to: %s's number %q is not in E.164 form (a + and the country code, no spaces: +14155550100)", name, number)
		}
		p.people = append(p.people, name)
	}
	slices.Sort(p.people)
	// The credentials travel in every request: never follow a redirect.
	hc := publishers.NoRedirectClient(env.HTTP)
	if p.env.Now == nil {
		p.env.Now = time.Now
	}
	p.client = &publishers.Client{HTTP: hc, UserAgent: env.UserAgent, Now: p.env.Now,
		NotJSON: "the url does not point at the Twilio API; leave it out to use " + DefaultURL}
	return p, nil
}

// People returns the names in the `to` table, sorted.
func (p *Pager) People() []string { return slices.Clone(p.people) }

// Page texts or calls Page.Person, or everyone in `to` when it is empty.
//
// When some people were reached and others not, Page returns the receipt
// of those reached together with the error; the error is retryable when
// one of the failures is, and a retry reaches only the others.
func (p *Pager) Page(ctx context.Context, pg pagers.Page) (pagers.Receipt, error) {
	people := p.people
	if pg.Person != "" {
		if _, ok := p.cfg.To[pg.Person]; !ok {
			return pagers.Receipt{}, publishers.Permanent(fmt.Errorf("twilio: %q is not in the pager's `to` table (%s)", pg.Person, strings.Join(p.people, ", ")))
		}
		people = []string{pg.Person}
	}
	token, err := p.env.Secrets.Resolve(ctx, p.cfg.AuthToken)
	if err != nil {
		return pagers.Receipt{}, publishers.Permanent(fmt.Errorf("twilio: auth_token: %w", err))
	}
	form, resource := url.Values{"From": {p.cfg.From}}, "Messages.json"
	if p.cfg.Mode == ModeCall {
		resource = "Calls.json"
		form.Set("Twiml", Twiml(Speech(pg)))
		form.Set("Timeout", strconv.Itoa(RingTimeout))
	} else {
		body, err := smsBody(pg)
		if err != nil {
			return pagers.Receipt{}, err
		}
		form.Set("Body", body)
	}
	rec := pagers.Receipt{At: p.env.Now(), Meta: map[string]string{"mode": p.cfg.Mode}}
	var reached []sent
	rec.To, reached, err = pagers.Each(people, func(name string) (sent, error) {
		return p.deliver(ctx, token, name, pg.Key, resource, form)
	})
	if len(reached) == 0 {
		return pagers.Receipt{}, fmt.Errorf("twilio: %w", err)
	}
	var sids, statuses []string
	for _, s := range reached {
		sids, statuses = append(sids, s.sid), append(statuses, s.status)
	}
	rec.ID = strings.Join(sids, ",")
	rec.Meta["status"] = strings.Join(statuses, ",")
	if err != nil {
		return rec, fmt.Errorf("twilio: %w", err)
	}
	return rec, nil
}

// smsBody is the subject and the text, cut to MaxBody.
func smsBody(pg pagers.Page) (string, error) {
	var parts []string
	for _, s := range []string{pg.Subject, pg.Text} {
		if s = strings.TrimSpace(pagers.Plain(s)); s != "" {
			parts = append(parts, s)
		}
	}
	if len(parts) == 0 {
		if s := strings.TrimSpace(pagers.Plain(pg.Summary)); s != "" {
			parts = append(parts, s)
		} else {
			return "", publishers.Permanent(errors.New("twilio: the page has no text"))
		}
	}
	return pagers.Cut(strings.Join(parts, "\n"), MaxBody, pagers.UTF16Len), nil
}

// deliver texts or calls one person, unless this key already reached them.
func (p *Pager) deliver(ctx context.Context, token, name, key, resource string, form url.Values) (sent, error) {
	if s, done := p.sent.Get(key, name, p.env.Now()); done {
		return s, nil
	}
	f := url.Values{}
	for k, v := range form {
		f[k] = v
	}
	f.Set("To", p.cfg.To[name])
	op := "text " + name
	if resource == "Calls.json" {
		op = "call " + name
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.base+"/2010-04-01/Accounts/"+p.cfg.AccountSID+"/"+resource, strings.NewReader(f.Encode()))
	if err != nil {
		return sent{}, publishers.Permanent(fmt.Errorf("%s: %w", op, err))
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	var out struct {
		SID    string `json:"sid"`
		Status string `json:"status"`
	}
	if err := p.send(op, req, token, name, &out); err != nil {
		return sent{}, err
	}
	if !validSID(out.SID) {
		return sent{}, fmt.Errorf("%s: Twilio's answer holds no SID", op)
	}
	s := sent{sid: out.SID, status: pagers.Cut(pagers.Plain(out.Status), 20, nil)}
	p.sent.Put(key, name, s, p.env.Now())
	return s, nil
}

// validSID: two letters and 32 hex digits.
func validSID(s string) bool {
	return len(s) == 34 && strings.IndexFunc(s[2:], func(r rune) bool {
		return !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F')
	}) < 0
}

// send sends one request with Basic auth through the shared client;
// Twilio's error body gives the message and, by its code, the hint.
func (p *Pager) send(op string, req *http.Request, token, person string, out any) error {
	var code int
	c := *p.client
	c.Authorize = func(r *http.Request) error {
		r.SetBasicAuth(p.cfg.AccountSID, token)
		return nil
	}
	c.Message = func(b []byte) string {
		var msg string
		msg, code = parseError(b)
		return p.env.Secrets.Redact(msg)
	}
	_, err := c.Send(op, req, out)
	var he *publishers.HTTPError
	if errors.As(err, &he) {
		he.Message = p.env.Secrets.Redact(he.Message)
		he.Hint = p.hint(he.Status, code, person)
	}
	return err
}

// parseError reads {"code":21211,"message":"…","more_info":"…","status":400}.
func parseError(b []byte) (string, int) {
	var e struct {
		Code     int    `json:"code"`
		Message  string `json:"message"`
		MoreInfo string `json:"more_info"`
	}
	if json.Unmarshal(b, &e) != nil || e.Message == "" {
		return "", 0
	}
	msg := pagers.Cut(strings.ReplaceAll(pagers.Plain(e.Message), "\n", " "), 170, nil) // the client keeps 200 characters in all
	if e.Code != 0 {
		msg += fmt.Sprintf(" (Twilio error %d)", e.Code)
	}
	return msg, e.Code
}

// hint says what to do about a refusal, by Twilio's error code.
func (p *Pager) hint(status, code int, person string) string {
	number := ""
	if person != "" {
		number = p.cfg.To[person]
	}
	switch {
	case code == 20003 || status == http.StatusUnauthorized:
		return "check `account_sid` and the auth token in " + p.cfg.AuthToken.Where() + " (Twilio console, Account info)"
	case code == 20404 || status == http.StatusNotFound:
		return "check `account_sid` and the pager's url"
	case code == 21608 && person != "":
		return "a trial account reaches only verified numbers: verify " + number + " in the Twilio console, or upgrade the account"
	case (code == 21211 || code == 21614) && person != "":
		return "check " + person + "'s number in the pager's `to` table"
	case code == 21212 || code == 21606 || code == 21210:
		return "`from` must be a phone number of this Twilio account that can send " + map[bool]string{true: "calls", false: "SMS"}[p.cfg.Mode == ModeCall]
	case status >= 300 && status < 400:
		return "the url redirects; use " + DefaultURL
	}
	return ""
}

// Verify reads the account (GET /2010-04-01/Accounts/{sid}.json): the
// credentials work and the account is active. It sends nothing.
func (p *Pager) Verify(ctx context.Context) (string, error) {
	token, err := p.env.Secrets.Resolve(ctx, p.cfg.AuthToken)
	if err != nil {
		return "", publishers.Permanent(fmt.Errorf("twilio: auth_token: %w", err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.base+"/2010-04-01/Accounts/"+p.cfg.AccountSID+".json", nil)
	if err != nil {
		return "", publishers.Permanent(fmt.Errorf("twilio: %w", err))
	}
	var acct struct {
		FriendlyName string `json:"friendly_name"`
		Status       string `json:"status"`
		Type         string `json:"type"`
	}
	if err := p.send("read account", req, token, "", &acct); err != nil {
		return "", fmt.Errorf("twilio: %w", err)
	}
	name := pagers.Cut(strings.ReplaceAll(pagers.Plain(acct.FriendlyName), "\n", " "), 64, nil)
	typ := strings.ToLower(pagers.Cut(pagers.Plain(acct.Type), 16, nil))
	if acct.Status != "active" {
		return "", publishers.Permanent(fmt.Errorf("twilio: the account %q is %s, not active; see the Twilio console", name, pagers.Cut(pagers.Plain(acct.Status), 16, nil)))
	}
	return fmt.Sprintf("account %q (%s, %s)", name, p.cfg.AccountSID, typ), nil
}
