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
	if p.when == nil {
		p.when = func(t time.Time) string { return t.UTC().Format("Mon 2 Jan 15:04 MST") }
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
	m := mailer.Message{To: to, Subject: Subject(pg), Text: p.text(pg), ID: id}
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

// Subject is the page's subject: the runbook's, else "[SEVERITY] Services:
// Title", with what the page announces when it is not an alert.
func Subject(pg pagers.Page) string {
	if s := mailer.CleanLine(pg.Subject); s != "" {
		return s
	}
	sev := strings.ToUpper(pg.Severity)
	if sev == "" {
		sev = "ALERT"
	}
	s := "[" + sev + "] "
	if pg.Kind == pagers.KindTest {
		s = "[TEST] "
	}
	if len(pg.Services) > 0 {
		s += strings.Join(pg.Services, ", ") + ": "
	}
	title := pg.Title
	if title == "" {
		title = pg.Incident
	}
	if title == "" && pg.Kind == pagers.KindTest {
		title = "a test page from incident"
	}
	s += title
	if pg.Kind == pagers.KindAck && pg.AckedBy != "" {
		s += " (acknowledged by " + pg.AckedBy + ")"
	}
	return mailer.CleanLine(s)
}

// text is the page's body: the runbook's, else composed from its fields.
func (p *Pager) text(pg pagers.Page) string {
	if strings.TrimSpace(pg.Text) != "" {
		return pg.Text
	}
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	now := pg.Now
	if now.IsZero() {
		now = p.now()
	}
	switch pg.Kind {
	case pagers.KindAck:
		at := pg.AckedAt
		if at.IsZero() {
			at = now
		}
		line("Acknowledged by %s at %s: someone is on it, you need not act.", orSomeone(pg.AckedBy), p.when(at))
		line("")
	case pagers.KindTest:
		line("A test page from incident (pager %q): nothing is wrong, there is nothing to do.", p.name)
		if pg.Summary != "" {
			line("")
			line("%s", pg.Summary)
		}
		return b.String()
	case pagers.KindManual:
		if pg.Summary != "" {
			line("%s", pg.Summary)
			line("")
		}
	}
	if pg.Title != "" {
		line("%s", pg.Title)
	}
	var facts []string
	if pg.Severity != "" {
		facts = append(facts, "severity "+pg.Severity)
	}
	if len(pg.Services) > 0 {
		facts = append(facts, strings.Join(pg.Services, ", "))
	}
	if pg.Level > 0 {
		facts = append(facts, fmt.Sprintf("escalation level %d", pg.Level))
	}
	if len(facts) > 0 {
		line("%s", strings.Join(facts, " · "))
	}
	if !pg.Since.IsZero() {
		line("Firing since %s (%s).", p.when(pg.Since), duration(now.Sub(pg.Since)))
	}
	if pg.Summary != "" && pg.Kind != pagers.KindManual {
		line("")
		line("%s", pg.Summary)
	}
	if pg.AckCommand != "" && pg.Kind != pagers.KindAck {
		line("")
		line("Acknowledge: %s", pg.AckCommand)
	}
	if pg.Incident != "" {
		line("Incident: %s", pg.Incident)
	}
	return b.String()
}

func orSomeone(s string) string {
	if s == "" {
		return "someone"
	}
	return s
}

// duration says how long, to the minute: "under a minute", "12 min", "2 h 5 min", "1 d 3 h".
func duration(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	m := int(d / time.Minute)
	switch {
	case m < 1:
		return "under a minute"
	case m < 60:
		return fmt.Sprintf("%d min", m)
	case m < 24*60:
		if m%60 == 0 {
			return fmt.Sprintf("%d h", m/60)
		}
		return fmt.Sprintf("%d h %d min", m/60, m%60)
	}
	parts := []string{fmt.Sprintf("%d d", m/(24*60))}
	if h := m % (24 * 60) / 60; h > 0 {
		parts = append(parts, fmt.Sprintf("%d h", h))
	}
	return strings.Join(parts, " ")
}
