// Package irc pages staff on IRC (pager type "irc"): it connects, logs in,
// joins the channel, posts the page as NOTICE (or PRIVMSG) lines, and quits.
// No Go IRC module is served to this project, so the client is here, and
// small: RFC 2812 registration, IRCv3 CAP and SASL PLAIN, PING/PONG, JOIN,
// and pacing.
//
// Config ([[pager]] with type = "irc"):
//
//	[[pager]]
//	type = "irc"
//	name = "irc"                                 # default: the type
//	url = "ircs://irc.example.org:6697/#ops"     # a nick instead of #ops for a private message
//	nick = "incident-pager"
//	password = "env:IRC_PASSWORD"                # SASL PLAIN when offered, else the server password (PASS)
//	notice = true                                # default; false sends PRIVMSG
//	[pager.to]                                   # optional: person -> nick, for targets like "irc:alice"
//	alice = "alice"
//	bob = "bob_oncall"
//
// ircs:// is TLS (port 6697 by default); plain irc:// (6667) is accepted
// only to a loopback address. A page is its subject ("[CRITICAL] IMAP/POP:
// …") and the non-empty lines of its body, at most MaxLines lines, each
// split to fit IRC's 512 bytes with the server's prefix; when the page names
// a person of `to` (or names no one and `to` is set), the first line starts
// with their nicks ("alice: …"), so their clients highlight it. Every
// character that could end a line or format text (CR, LF, NUL, colour codes,
// every control character) is removed from what is sent, so an alert's
// summary cannot inject an IRC command. Lines after registration are paced
// by a token bucket: a burst of 5, then one every 2 s.
//
// One attempt (Page) is one connection, from connect to QUIT, within one
// deadline: the context's, else DefaultTimeout. Refusals no retry can fix
// (a wrong password, a banned or invite-only channel, a nick the server
// will not take) are permanent; a network failure or a server that closes
// the connection is retryable. IRC has no idempotency: a retry after a
// connection lost mid-page may post the page twice.
package irc

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/incident-cli/incident/pagers"
	"github.com/incident-cli/incident/publishers"
)

// DefaultTimeout bounds one attempt when the context has no deadline.
const DefaultTimeout = 60 * time.Second

// MaxLines is the most lines a page takes in the channel.
const MaxLines = 6

// Config is an IRC pager's table in incident.toml.
type Config struct {
	Name     string            `toml:"name"`
	URL      string            `toml:"url"`
	Nick     string            `toml:"nick"`
	Password publishers.Secret `toml:"password"`
	Notice   *bool             `toml:"notice"`
	To       map[string]string `toml:"to"`
}

// Keys lists the config keys, for "did you mean" hints.
var Keys = publishers.KeysOf(Config{})

// Pager posts pages to one IRC channel or nick. It implements pagers.Pager,
// pagers.People and pagers.Verifier.
type Pager struct {
	name     string
	host     string
	port     int
	tls      bool
	target   string // "#ops", or a nick
	nick     string
	password publishers.Secret
	command  string // NOTICE or PRIVMSG
	to       map[string]string
	secrets  *publishers.Resolver
	now      func() time.Time
	when     func(time.Time) string

	// Test seams: the pacing clock, trusted roots, how long to wait for
	// an answer to CAP LS and for the server to close after QUIT.
	sleep    func(ctx context.Context, d time.Duration) error
	rootCAs  *x509.CertPool
	capWait  time.Duration
	quitWait time.Duration
}

// New builds an IRC pager from its [[pager]] table (a pagers.Factory).
// The password is resolved at the first page, not here.
func New(cfg toml.Primitive, md toml.MetaData, env publishers.Env) (pagers.Pager, error) {
	var c Config
	if err := md.PrimitiveDecode(cfg, &c); err != nil {
		return nil, fmt.Errorf("irc: %w", err)
	}
	p := &Pager{name: env.Name, nick: c.Nick, password: c.Password, command: "NOTICE", to: c.To,
		secrets: env.Secrets, now: env.Now, when: env.When,
		sleep: sleepCtx, capWait: 5 * time.Second, quitWait: 5 * time.Second}
	if p.name == "" {
		p.name = "irc"
	}
	if p.now == nil {
		p.now = time.Now
	}
	if c.Notice != nil && !*c.Notice {
		p.command = "PRIVMSG"
	}
	if err := p.parseURL(c.URL); err != nil {
		return nil, fmt.Errorf("irc: %w", err)
	}
	if c.Nick == "" {
		return nil, errors.New("irc: `nick` is required: the nick the pager connects with, like \"incident-pager\"")
	}
	if !validNick(c.Nick) {
		return nil, fmt.Errorf("irc: nick %q is not an IRC nick (no spaces, no ,:!@*?, and not starting with # & $ : or a digit)", c.Nick)
	}
	for person, nick := range c.To {
		if person == "" || strings.ContainsAny(person, ": \t") {
			return nil, fmt.Errorf("irc: to: the person %q: names are single words (they appear in targets like \"irc:alice\")", person)
		}
		if !validNick(nick) {
			return nil, fmt.Errorf("irc: to.%s: %q is not an IRC nick", person, nick)
		}
	}
	return p, nil
}

// parseURL reads ircs://host[:port]/#channel or /nick.
func (p *Pager) parseURL(raw string) error {
	if raw == "" {
		return errors.New("`url` is required: ircs://irc.example.org:6697/#channel (or /nick for a private message)")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" {
		return fmt.Errorf("url %q is not an IRC URL like ircs://irc.example.org:6697/#ops", raw)
	}
	if u.User != nil {
		return fmt.Errorf("url %q: put the password in `password`, not in the url", u.Redacted())
	}
	p.host = u.Hostname()
	switch u.Scheme {
	case "ircs":
		p.port, p.tls = 6697, true
	case "irc":
		if !publishers.IsLoopback(p.host) {
			return fmt.Errorf("url %q: plain irc:// is allowed only to loopback addresses; use ircs:// (TLS, port 6697)", raw)
		}
		p.port = 6667
	default:
		return fmt.Errorf("url %q: the scheme must be ircs (TLS) or irc (loopback only)", raw)
	}
	if port := u.Port(); port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("url %q: the port must be a number from 1 to 65535", raw)
		}
		p.port = n
	}
	// "/#ops" parses as an empty path and the fragment "ops"; "/%23ops"
	// as the path "/#ops".
	target := strings.TrimPrefix(u.Path, "/")
	if target == "" && u.Fragment != "" {
		target = "#" + u.Fragment
	}
	switch {
	case target == "":
		return fmt.Errorf("url %q names no channel or nick: add /#channel or /nick", raw)
	case strings.HasPrefix(target, "#") || strings.HasPrefix(target, "&"):
		if len(target) < 2 || strings.ContainsFunc(target, func(r rune) bool { return r <= ' ' || r == ',' || r == 0x7f }) {
			return fmt.Errorf("url %q: %q is not a channel name", raw, target)
		}
	case !validNick(target):
		return fmt.Errorf("url %q: %q is neither a #channel nor a nick", raw, target)
	}
	p.target = target
	return nil
}

// validNick accepts what servers take as a nick (RFC 2812 §2.3.1, loosely:
// networks allow more than the RFC's letters).
func validNick(n string) bool {
	if n == "" || len(n) > 64 || strings.ContainsAny(n[:1], "#&$:+~0123456789-") {
		return false
	}
	return !strings.ContainsFunc(n, func(r rune) bool { return r <= ' ' || r == 0x7f || strings.ContainsRune(",:!@*?.", r) })
}

func (p *Pager) channel() bool {
	return strings.HasPrefix(p.target, "#") || strings.HasPrefix(p.target, "&")
}

// People returns the names in the `to` table.
func (p *Pager) People() []string {
	names := make([]string, 0, len(p.to))
	for n := range p.to {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Page posts one page: one connection, from connect to QUIT.
func (p *Pager) Page(ctx context.Context, pg pagers.Page) (pagers.Receipt, error) {
	nicks, names, err := p.recipients(pg.Person)
	if err != nil {
		return pagers.Receipt{}, publishers.Permanent(fmt.Errorf("irc: %w", err))
	}
	s, err := p.connect(ctx)
	if err != nil {
		return pagers.Receipt{}, fmt.Errorf("irc: %w", err)
	}
	defer s.close()
	n, err := p.deliver(ctx, s, p.lines(pg, nicks))
	if err != nil {
		return pagers.Receipt{}, p.fail(err, s.password)
	}
	return pagers.Receipt{ID: "irc://" + s.server + "/" + p.target, At: p.now(), To: names,
		Meta: map[string]string{"nick": s.nick, "lines": strconv.Itoa(n)}}, nil
}

// deliver registers, joins, sends the lines and quits. It returns how many
// lines went out.
func (p *Pager) deliver(ctx context.Context, s *conn, lines []string) (int, error) {
	if _, err := s.register(p.nick, s.password, p.password.Where(), p.capWait); err != nil {
		return 0, err
	}
	s.bucket = newBucket(5, 2*time.Second, p.now, p.sleep)
	if p.channel() {
		if err := s.join(ctx, p.target); err != nil {
			return 0, err
		}
	}
	// The server has shown our prefix now (or we assume the longest).
	lines = refit(lines, s.prefixLen(), p.command, p.target)
	for _, l := range lines {
		if err := s.paced(ctx, p.command+" "+p.target+" :"+l); err != nil {
			return 0, err
		}
	}
	return len(lines), s.quit(p.target, p.quitWait)
}

// Verify connects, registers and quits, paging no one.
func (p *Pager) Verify(ctx context.Context) (string, error) {
	s, err := p.connect(ctx)
	if err != nil {
		return "", fmt.Errorf("irc: %w", err)
	}
	defer s.close()
	how, err := s.register(p.nick, s.password, p.password.Where(), p.capWait)
	if err != nil {
		return "", p.fail(err, s.password)
	}
	_ = s.quit("", p.quitWait)
	return fmt.Sprintf("%s accepted %s (%s)", s.server, s.nick, how), nil
}

// fail names the server in an error, keeps its class (permanent or not),
// and removes the password in every form we sent it, in case a server
// echoed it.
func (p *Pager) fail(err error, password string) error {
	msg := err.Error()
	if password != "" {
		for _, v := range []string{base64.StdEncoding.EncodeToString([]byte(p.nick + "\x00" + p.nick + "\x00" + password)), password} {
			msg = strings.ReplaceAll(msg, v, "[redacted]")
		}
	}
	out := fmt.Errorf("irc %s: %s", net.JoinHostPort(p.host, strconv.Itoa(p.port)), msg)
	if !publishers.Retryable(err) {
		return publishers.Permanent(out)
	}
	return out
}

// recipients returns the nicks to highlight and the names they belong to.
func (p *Pager) recipients(person string) (nicks, names []string, err error) {
	if person == "" {
		names = p.People()
		for _, n := range names {
			nicks = append(nicks, p.to[n])
		}
		return nicks, names, nil
	}
	nick, ok := p.to[person]
	if !ok {
		if len(p.to) == 0 {
			return nil, nil, fmt.Errorf("cannot page %q by name: pager %q has no `to` table (person = \"nick\")", person, p.name)
		}
		return nil, nil, fmt.Errorf("no person %q in `to` of pager %q (people: %s)", person, p.name, strings.Join(p.People(), ", "))
	}
	return []string{nick}, []string{person}, nil
}

// lines is the page as IRC lines, before they are fitted to 512 bytes: the
// subject, then the body's lines, cleaned, with the nicks to highlight in
// front in a channel.
func (p *Pager) lines(pg pagers.Page, nicks []string) []string {
	var out []string
	if s := Clean(pagers.Subject(pg)); s != "" {
		out = append(out, s)
	}
	title := Clean(pg.Title)
	for _, l := range strings.Split(pagers.Body(pg, p.name, p.when), "\n") {
		if l = Clean(l); l != "" && l != title {
			out = append(out, l)
		}
	}
	if len(out) == 0 {
		out = []string{"(empty page)"}
	}
	if len(nicks) > 0 && p.channel() {
		out[0] = strings.Join(nicks, ", ") + ": " + out[0]
	}
	return out
}

// refit splits lines to fit 512 bytes once the server has relayed them
// with our prefix (":nick!user@host NOTICE #ops :…\r\n"), and keeps at most
// MaxLines, marking a cut with "…".
func refit(lines []string, prefixLen int, command, target string) []string {
	room := maxLine - 2 - (1 + prefixLen + 1) - len(command+" "+target+" :")
	var out []string
	for _, l := range lines {
		out = append(out, split(l, room)...)
	}
	if len(out) > MaxLines {
		out = out[:MaxLines]
		last := out[MaxLines-1]
		if len(last)+len(" …") > room {
			last = split(last, room-len(" …"))[0]
		}
		out[MaxLines-1] = last + " …"
	}
	return out
}

// conn is a session with what the pager gave it.
type conn struct {
	*session
	password string
	stop     func() bool
}

// connect dials the server (TLS for ircs://) and resolves the password.
// The connection closes when ctx ends or the attempt's deadline passes.
func (p *Pager) connect(ctx context.Context) (*conn, error) {
	pw := ""
	if !p.password.IsZero() {
		v, err := p.secrets.Resolve(ctx, p.password)
		if err != nil {
			return nil, publishers.Permanent(fmt.Errorf("password: %w", err))
		}
		if strings.ContainsAny(v, "\r\n\x00") {
			return nil, publishers.Permanent(fmt.Errorf("password: the value of %s holds a line break", p.password))
		}
		pw = v
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(DefaultTimeout)
	}
	ctx, cancel := context.WithDeadline(ctx, deadline)
	addr := net.JoinHostPort(p.host, strconv.Itoa(p.port))
	var c net.Conn
	var err error
	d := &net.Dialer{}
	if p.tls {
		c, err = (&tls.Dialer{NetDialer: d, Config: &tls.Config{ServerName: p.host, MinVersion: tls.VersionTLS12, RootCAs: p.rootCAs}}).DialContext(ctx, "tcp", addr)
	} else {
		c, err = d.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		cancel()
		var certErr *tls.CertificateVerificationError
		if errors.As(err, &certErr) {
			return nil, publishers.Permanent(fmt.Errorf("%s: the server's TLS certificate is not valid for %s: %v", addr, p.host, certErr.Err))
		}
		return nil, fmt.Errorf("%s: %w", addr, err)
	}
	c.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { c.Close() })
	return &conn{session: &session{conn: c, deadline: deadline}, password: pw, stop: func() bool { stop(); cancel(); return true }}, nil
}

// close ends the connection.
func (c *conn) close() {
	c.stop()
	c.conn.Close()
}

// prefixLen is the length of the prefix the server puts before our lines:
// known once it showed it (JOIN), else the longest it can be (USERLEN 10,
// a 63-byte host).
func (s *session) prefixLen() int {
	if s.self != "" {
		return len(s.self)
	}
	nick := s.nick
	if nick == "" {
		nick = strings.Repeat("x", 30)
	}
	return len(nick) + 1 + 10 + 1 + 63
}
