// Package email is the email link channel (type "email"): every update goes
// to an announcement list's address over SMTP, through the one SMTP sender
// (internal/mailer); a list manager (Mailman, listmonk, Sympa, …) holds the
// subscribers and sends it on.
//
// Each update is one message: the rendered template (email.md.tmpl, Markdown
// that reads as plain text) as text/plain, and the same Markdown rendered to
// HTML (Post.HTML, filled by the engine because the channel implements
// publishers.HTMLWanted) as a text/html alternative. One incident is one
// thread: the Message-ID comes from the delivery's key (the same on every
// retry), In-Reply-To is the latest message of the incident (Post.Parent),
// and References runs from the first message to the latest (kept in each
// receipt). Every message says Precedence: bulk and Auto-Submitted:
// auto-generated, and carries List-Unsubscribe and List-Id when configured.
//
// SMTP has no idempotency: a retry after an attempt whose outcome is unknown
// may deliver the update twice, with the same Message-ID, which list
// managers and mail clients use to drop the second.
package email

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/incident-cli/incident/internal/mailer"
	"github.com/incident-cli/incident/publishers"
)

// Config is an email channel's table in incident.toml.
type Config struct {
	Name     string            `toml:"name"`
	Template string            `toml:"template"`
	URL      string            `toml:"url"` // smtp://host:587 (STARTTLS) or smtps://host:465
	Username string            `toml:"username"`
	Password publishers.Secret `toml:"password"`
	From     string            `toml:"from"`
	To       string            `toml:"to"` // the list's posting address
	// ListUnsubscribe is where a reader leaves the list: mailto: or https:
	// URLs (or a bare address), separated by commas.
	ListUnsubscribe string `toml:"list_unsubscribe"`
	// ListID is the list's RFC 2919 id: "status.lists.example.com", or
	// "Example Mail status <status.lists.example.com>".
	ListID string `toml:"list_id"`
	// Subscribe is the address or https URL the status page shows under
	// "Subscribe: Atom · email".
	Subscribe string `toml:"subscribe"`
}

// Keys lists the config keys, for "did you mean" hints.
var Keys = publishers.KeysOf(Config{})

// maxReferences bounds the References header: the first message and the
// latest ones, as RFC 5322 allows when a thread grows long.
const maxReferences = 10

// Publisher sends updates to one announcement list. It implements
// publishers.Publisher, publishers.Verifier, publishers.HTMLWanted and
// publishers.Subscriber.
type Publisher struct {
	sender      *mailer.Sender
	to          string
	unsubscribe string
	listID      string
	subscribe   string
	now         func() time.Time
}

// New builds an email channel from its config table. Secrets are resolved
// at the first delivery, not here.
func New(cfg toml.Primitive, md toml.MetaData, env publishers.Env) (publishers.Publisher, error) {
	var c Config
	if err := md.PrimitiveDecode(cfg, &c); err != nil {
		return nil, fmt.Errorf("email: %w", err)
	}
	s, err := mailer.New(mailer.Config{URL: c.URL, Username: c.Username, Password: c.Password, From: c.From}, env.Secrets, env.Now)
	if err != nil {
		return nil, fmt.Errorf("email: %w", err)
	}
	if c.To == "" {
		return nil, errors.New("email: `to` is required: the announcement list's posting address, like \"status-announce@lists.example.com\"")
	}
	to, err := mailer.ParseAddress(c.To)
	if err != nil {
		return nil, fmt.Errorf("email: to: %w", err)
	}
	p := &Publisher{sender: s, to: to.Address, now: env.Now}
	if p.now == nil {
		p.now = time.Now
	}
	if p.unsubscribe, err = listUnsubscribe(c.ListUnsubscribe); err != nil {
		return nil, fmt.Errorf("email: list_unsubscribe: %w", err)
	}
	if p.listID, err = listID(c.ListID); err != nil {
		return nil, fmt.Errorf("email: list_id: %w", err)
	}
	if p.subscribe, err = subscribeURL(c.Subscribe); err != nil {
		return nil, fmt.Errorf("email: subscribe: %w", err)
	}
	return p, nil
}

// WantsHTML says the engine must fill Post.HTML: the message carries an
// HTML alternative.
func (p *Publisher) WantsHTML() bool { return true }

// Subscribe returns where people subscribe ("mailto:…" or "https://…"),
// or "" when not configured.
func (p *Publisher) Subscribe() string { return p.subscribe }

// Verify connects and logs in without sending anything.
func (p *Publisher) Verify(ctx context.Context) (string, error) {
	return p.sender.Verify(ctx)
}

// Publish sends one update to the list: one attempt, classified (see
// internal/mailer).
func (p *Publisher) Publish(ctx context.Context, post publishers.Post) (publishers.Receipt, error) {
	id := p.sender.MessageID(post.Key)
	subject := post.Title
	if subject == "" {
		subject = post.Incident.Title
	}
	m := mailer.Message{
		To: []string{p.to}, Subject: subject, Text: plain(post.Text), ID: id,
		ListUnsubscribe: p.unsubscribe, ListID: p.listID, Bulk: true,
	}
	if post.HTML != "" {
		m.HTML = document(subject, post.HTML)
	}
	refs := references(post.Thread, post.Parent, id)
	if len(refs) > 0 {
		m.InReplyTo, m.References = refs[len(refs)-1], refs
	}
	if err := p.sender.Send(ctx, m); err != nil {
		return publishers.Receipt{}, err
	}
	// The URL says where it went: a mail has no page of its own.
	rec := publishers.Receipt{ID: id, URL: "mailto:" + p.to, At: p.now()}
	if len(refs) > 0 {
		rec.Meta = map[string]string{"references": strings.Join(refs, " ")}
	}
	return rec, nil
}

// references is the thread up to the parent: the parent's own References
// (kept in its receipt) and the parent's Message-ID; for a parent recorded
// without them, the first message and the parent. The first message and the
// latest ones are kept when the thread is long.
func references(first, parent *publishers.Receipt, self string) []string {
	var refs []string
	add := func(id string) {
		if id != "" && id != self && (len(refs) == 0 || refs[len(refs)-1] != id) {
			refs = append(refs, id)
		}
	}
	switch {
	case parent != nil && parent.Meta["references"] != "":
		for _, id := range strings.Fields(parent.Meta["references"]) {
			add(id)
		}
		add(parent.ID)
	default:
		if first != nil {
			add(first.ID)
		}
		if parent != nil {
			add(parent.ID)
		}
	}
	if len(refs) > maxReferences {
		refs = append(refs[:1], refs[len(refs)-maxReferences+1:]...)
	}
	return refs
}

// plain is the text part: the Markdown as written, with the "<" that
// Markdown templates write as "&lt;" (so no renderer takes typed text for a
// tag) shown as the reader typed it.
func plain(markdown string) string {
	return strings.ReplaceAll(markdown, "&lt;", "<")
}

// document wraps the rendered HTML (escaped by the engine) in a page.
func document(title, body string) string {
	return "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">" +
		"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">" +
		"<title>" + html.EscapeString(title) + "</title></head>\n" +
		"<body style=\"font-family: sans-serif; line-height: 1.5; max-width: 40em\">\n" + body + "\n</body></html>\n"
}

// listUnsubscribe builds the List-Unsubscribe value (RFC 2369) from
// comma-separated mailto: or https: URLs or bare addresses.
func listUnsubscribe(v string) (string, error) {
	if strings.TrimSpace(v) == "" {
		return "", nil
	}
	var out []string
	for _, item := range strings.Split(v, ",") {
		u, err := linkOrAddress(strings.Trim(strings.TrimSpace(item), "<>"))
		if err != nil {
			return "", err
		}
		out = append(out, "<"+u+">")
	}
	return strings.Join(out, ", "), nil
}

// subscribeURL checks the subscribe address or URL.
func subscribeURL(v string) (string, error) {
	if strings.TrimSpace(v) == "" {
		return "", nil
	}
	return linkOrAddress(strings.TrimSpace(v))
}

// linkOrAddress accepts an https: URL, a mailto: URL or a bare address
// (which becomes a mailto: URL).
func linkOrAddress(s string) (string, error) {
	if strings.ContainsFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f || r == '<' || r == '>' || r == ' ' }) {
		return "", fmt.Errorf("%q holds a space, a control character or an angle bracket", s)
	}
	switch {
	case strings.HasPrefix(s, "https://"):
		u, err := url.Parse(s)
		if err != nil || u.Host == "" {
			return "", fmt.Errorf("%q is not an https URL", s)
		}
		return s, nil
	case strings.HasPrefix(s, "mailto:"):
		addr, _, _ := strings.Cut(strings.TrimPrefix(s, "mailto:"), "?")
		if _, err := mailer.ParseAddress(addr); err != nil {
			return "", err
		}
		return s, nil
	case strings.Contains(s, "@") && !strings.Contains(s, ":"):
		if _, err := mailer.ParseAddress(s); err != nil {
			return "", err
		}
		return "mailto:" + s, nil
	}
	return "", fmt.Errorf("%q: want an address, a mailto: URL or an https:// URL", s)
}

// listIDRe is RFC 2919's list-id: a dot-atom with at least one dot.
var listIDRe = regexp.MustCompile(`^[A-Za-z0-9!#$%&'*+/=?^_` + "`" + `{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_` + "`" + `{|}~-]+)+$`)

// listID builds the List-Id value from "id.example.com" or "Phrase <id.example.com>".
func listID(v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", nil
	}
	phrase, id := "", v
	if i := strings.LastIndexByte(v, '<'); i >= 0 && strings.HasSuffix(v, ">") {
		phrase, id = strings.TrimSpace(v[:i]), v[i+1:len(v)-1]
	}
	if !listIDRe.MatchString(id) {
		return "", fmt.Errorf("%q is not a list id; want a dotted name like \"status.lists.example.com\", optionally with a phrase: \"Example Mail status <status.lists.example.com>\"", v)
	}
	if strings.ContainsAny(phrase, "<>\r\n\"") {
		return "", fmt.Errorf("%q: the phrase before <id> may not hold <, > or quotes", v)
	}
	if phrase == "" {
		return "<" + id + ">", nil
	}
	return phrase + " <" + id + ">", nil
}
