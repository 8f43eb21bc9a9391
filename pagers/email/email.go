// Package email pages staff by email (pager type "email"), through the one
// SMTP sender, internal/mailer.
//
// Config ([[pager]] with type = "email"):
//
//	[[pager]]
//	type = "email"
//	name = "email"                       # default: the type
//	url = "smtps://smtp.example.com:465" # or smtp://…:587 (STARTTLS)
//	username = "pager@example.com"
//	password = "env:SMTP_PASSWORD"
//	from = "incident pager <pager@example.com>"
//	to = ["oncall@example.com"]          # a list of addresses, or a table of people:
//	# [pager.to]
//	# alice = "alice@example.com"
//	# bob = "bob@example.net"
//
// A page is one plain-text message to the person paged (or to everyone in
// `to` when the page names no one). Its subject starts with the severity and
// the services ("[CRITICAL] IMAP/POP: IMAP/POP login failures"); the
// runbook's rendered Subject and Text are used as given, and composed from
// the page's fields when empty. The Message-ID is derived from Page.Key, so
// a retried page carries the same one, and In-Reply-To/References point at
// the incident's first page (Page.Thread), so one incident's pages thread
// in a mail client. Pages never hold a link to the status page.
//
// SMTP has no idempotency: a retry after an attempt whose outcome is
// unknown may deliver a page twice, with the same Message-ID.
package email

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/incident-cli/incident/internal/mailer"
	"github.com/incident-cli/incident/pagers"
	"github.com/incident-cli/incident/publishers"
)

// Config is an email pager's table in incident.toml.
type Config struct {
	Name     string            `toml:"name"`
	URL      string            `toml:"url"`
	Username string            `toml:"username"`
	Password publishers.Secret `toml:"password"`
	From     string            `toml:"from"`
	To       Recipients        `toml:"to"`
}

// Keys lists the config keys, for "did you mean" hints.
var Keys = publishers.KeysOf(Config{})

// Recipients is the `to` key: a list of addresses (everyone gets every
// page) or a table from person to address (a page for "email:alice" goes to
// alice alone).
type Recipients struct {
	List   []string          // addresses, when `to` is a list
	People map[string]string // person -> address, when `to` is a table
}

// UnmarshalTOML reads a list of strings or a table of strings.
func (r *Recipients) UnmarshalTOML(v any) error {
	switch x := v.(type) {
	case []any:
		for i, a := range x {
			s, ok := a.(string)
			if !ok {
				return fmt.Errorf("to: entry %d is not a string; `to` is a list of addresses or a table person = \"address\"", i+1)
			}
			r.List = append(r.List, s)
		}
	case map[string]any:
		r.People = map[string]string{}
		for name, a := range x {
			s, ok := a.(string)
			if !ok {
				return fmt.Errorf("to.%s is not a string; `to` is a list of addresses or a table person = \"address\"", name)
			}
			r.People[name] = s
		}
	default:
		return errors.New("to: want a list of addresses or a table person = \"address\"")
	}
	return nil
}

// Pager sends pages by email. It implements pagers.Pager, pagers.People and
// pagers.Verifier.
type Pager struct {
	name   string
	sender *mailer.Sender
	to     Recipients
	now    func() time.Time
	when   func(time.Time) string
}

// New builds an email pager from its [[pager]] table (a pagers.Factory).
// Secrets are resolved at the first page, not here.
func New(cfg toml.Primitive, md toml.MetaData, env publishers.Env) (pagers.Pager, error) {
	var c Config
	if err := md.PrimitiveDecode(cfg, &c); err != nil {
		return nil, fmt.Errorf("email: %w", err)
	}
	s, err := mailer.New(mailer.Config{URL: c.URL, Username: c.Username, Password: c.Password, From: c.From}, env.Secrets, env.Now)
	if err != nil {
		return nil, fmt.Errorf("email: %w", err)
	}
	if len(c.To.List) == 0 && len(c.To.People) == 0 {
		return nil, errors.New("email: `to` is required: a list of addresses, or a table person = \"address\"")
	}
	for _, a := range c.To.List {
		if _, err := mailer.ParseAddress(a); err != nil {
			return nil, fmt.Errorf("email: to: %w", err)
		}
	}
	for name, a := range c.To.People {
		if name == "" || strings.ContainsAny(name, ": \t") {
			return nil, fmt.Errorf("email: to: the person %q: names are single words (they appear in targets like \"email:alice\")", name)
		}
		if _, err := mailer.ParseAddress(a); err != nil {
			return nil, fmt.Errorf("email: to.%s: %w", name, err)
		}
	}
	p := &Pager{name: env.Name, sender: s, to: c.To, now: env.Now, when: env.When}
	if p.name == "" {
		p.name = "email"
	}
	if p.now == nil {
		p.now = time.Now
	}
	return p, nil
}

// People returns the names in the `to` table (none when `to` is a list).
func (p *Pager) People() []string {
	names := make([]string, 0, len(p.to.People))
	for n := range p.to.People {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Verify connects and logs in without sending anything.
func (p *Pager) Verify(ctx context.Context) (string, error) {
	who, err := p.sender.Verify(ctx)
	if err != nil {
		return "", fmt.Errorf("email: %w", err)
	}
	return who, nil
}

// Page sends one page: one attempt, classified (see internal/mailer).
func (p *Pager) Page(ctx context.Context, pg pagers.Page) (pagers.Receipt, error) {
	to, names, err := p.recipients(pg.Person)
	if err != nil {
		return pagers.Receipt{}, publishers.Permanent(fmt.Errorf("email: %w", err))
	}
	if pg.Key == "" {
		return pagers.Receipt{}, publishers.Permanent(errors.New("email: the page has no key"))
	}
	id := p.sender.MessageID(pg.Key)
	m := mailer.Message{To: to, Subject: mailer.CleanLine(pagers.Subject(pg)), Text: pagers.Body(pg, p.name, p.when), ID: id}
	if pg.Thread != nil && pg.Thread.ID != "" && pg.Thread.ID != id {
		m.InReplyTo, m.References = pg.Thread.ID, []string{pg.Thread.ID}
	}
	if err := p.sender.Send(ctx, m); err != nil {
		return pagers.Receipt{}, fmt.Errorf("email: %w", err)
	}
	return pagers.Receipt{ID: id, At: p.now(), To: names}, nil
}

// recipients returns the addresses to page and the names they belong to.
func (p *Pager) recipients(person string) (addrs, names []string, err error) {
	if person == "" {
		if p.to.List != nil {
			return p.to.List, nil, nil
		}
		names = p.People()
		for _, n := range names {
			addrs = append(addrs, p.to.People[n])
		}
		return addrs, names, nil
	}
	if p.to.People == nil {
		return nil, nil, fmt.Errorf("cannot page %q by name: `to` of pager %q is a list of addresses; make it a table person = \"address\"", person, p.name)
	}
	a, ok := p.to.People[person]
	if !ok {
		return nil, nil, fmt.Errorf("no person %q in `to` of pager %q (people: %s)", person, p.name, strings.Join(p.People(), ", "))
	}
	return []string{a}, []string{person}, nil
}
