// Package mailer is the one SMTP sender of incident: the email pager (staff)
// and the email link channel (subscribers) both send through it, on
// github.com/wneessen/go-mail.
//
// A Sender is built once from its config (url, username, password, from)
// and sends one Message per call. Send is one attempt within one deadline
// (the context's, else DefaultTimeout): it connects, secures the connection,
// logs in, sends, quits, and classifies a failure the way the publishers'
// retry stage expects: a 4xx reply or a network failure may succeed later
// (publishers.Retryable), a 5xx reply or a TLS failure is final
// (publishers.Permanent). Errors carry the server's own reply, stripped of
// control characters and with the password, in any encoding we sent it,
// redacted.
//
// Transport security follows the url: smtp://host:587 must upgrade with
// STARTTLS (a server that does not offer it is refused); smtps://host:465 is
// TLS from the first byte; plain smtp:// without TLS is accepted only to a
// loopback address (a local relay or a test server), where STARTTLS is used
// when offered.
//
// SMTP has no idempotency key: a retry after an attempt whose outcome is
// unknown (the connection dropped after the message's final dot) can deliver
// twice. The Message-ID is derived from the caller's key (MessageID), so a
// retried message carries the same Message-ID, and receivers and list
// managers that deduplicate on it show it once.
package mailer

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/incident-cli/incident/publishers"
)

// DefaultTimeout bounds one attempt when the context has no deadline.
const DefaultTimeout = 30 * time.Second

// Config is what every SMTP user configures; the pager and the channel
// decode their own tables and fill it.
type Config struct {
	URL      string            // smtp://host[:587] (STARTTLS) or smtps://host[:465] (implicit TLS)
	Username string            // the login; "" to send without logging in
	Password publishers.Secret // a reference (env:, file:, cmd:), resolved at the first send
	From     string            // the sender: "Example Mail status <status@example.com>"
}

// Sender sends mail through one SMTP server. It is safe for concurrent use:
// every Send makes its own connection.
type Sender struct {
	host     string
	port     int
	implicit bool // smtps: TLS from the first byte
	loopback bool // plain smtp:// to loopback: STARTTLS only when offered
	username string
	password publishers.Secret
	from     *mail.Address
	domain   string // the from address's domain, for Message-IDs
	secrets  *publishers.Resolver
	now      func() time.Time

	// Test seams: how to connect, and which roots to trust.
	dial    func(ctx context.Context, network, addr string) (net.Conn, error)
	rootCAs *x509.CertPool
}

// New checks the config and returns a Sender. Nothing is resolved or
// contacted yet. now (time.Now when nil) stamps each message's Date.
func New(c Config, secrets *publishers.Resolver, now func() time.Time) (*Sender, error) {
	s := &Sender{username: c.Username, password: c.Password, secrets: secrets, now: now}
	if s.now == nil {
		s.now = time.Now
	}
	if c.URL == "" {
		return nil, errors.New("`url` is required: smtp://mail.example.com:587 (STARTTLS) or smtps://mail.example.com:465 (TLS)")
	}
	u, err := url.Parse(c.URL)
	if err != nil || u.Hostname() == "" {
		return nil, fmt.Errorf("url %q is not an SMTP URL like smtp://mail.example.com:587 or smtps://mail.example.com:465", c.URL)
	}
	if u.User != nil {
		return nil, fmt.Errorf("url %q: put the login in `username` and `password`, not in the url", u.Redacted())
	}
	if u.Path != "" && u.Path != "/" || u.RawQuery != "" {
		return nil, fmt.Errorf("url %q: an SMTP url is only scheme://host:port", c.URL)
	}
	s.host = u.Hostname()
	switch u.Scheme {
	case "smtp":
		s.port = 587
		s.loopback = publishers.IsLoopback(s.host)
	case "smtps":
		s.port, s.implicit = 465, true
	default:
		return nil, fmt.Errorf("url %q: the scheme must be smtp (STARTTLS, port 587) or smtps (TLS, port 465)", c.URL)
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("url %q: the port must be a number from 1 to 65535", c.URL)
		}
		s.port = n
	}
	switch {
	case c.Username == "" && !c.Password.IsZero():
		return nil, errors.New("`password` is set but `username` is not: set both, or neither for a server that takes mail without a login")
	case c.Username != "" && c.Password.IsZero():
		return nil, fmt.Errorf("`username` %q is set but `password` is not: set it to a reference like \"env:SMTP_PASSWORD\"", c.Username)
	case strings.ContainsAny(c.Username, "\x00\r\n"):
		return nil, errors.New("`username` holds a control character")
	}
	if c.From == "" {
		return nil, errors.New("`from` is required: the sender address, like \"Example Mail status <status@example.com>\"")
	}
	from, err := ParseAddress(c.From)
	if err != nil {
		return nil, fmt.Errorf("from: %w", err)
	}
	s.from = from
	s.domain = from.Address[strings.LastIndexByte(from.Address, '@')+1:]
	s.dial = (&net.Dialer{}).DialContext
	return s, nil
}

// ParseAddress parses one address ("a@example.com" or "Name <a@example.com>")
// and checks it has a domain, so that an address in a config fails when the
// config is loaded, not during an outage.
func ParseAddress(s string) (*mail.Address, error) {
	a, err := mail.ParseAddress(s)
	if err != nil {
		return nil, fmt.Errorf("%q is not an email address (%v)", s, err)
	}
	at := strings.LastIndexByte(a.Address, '@')
	if at <= 0 || at == len(a.Address)-1 || strings.ContainsAny(a.Address, " \t\r\n<>") {
		return nil, fmt.Errorf("%q is not an email address (want name@example.com)", s)
	}
	return a, nil
}

// Server names the server for messages: "mail.example.com:587".
func (s *Sender) Server() string { return net.JoinHostPort(s.host, strconv.Itoa(s.port)) }

// From returns the configured sender address.
func (s *Sender) From() string { return s.from.Address }

// MessageID derives a Message-ID from an idempotency key: the same key gives
// the same id, on every machine and retry ("<hex@from-domain>").
func (s *Sender) MessageID(key string) string {
	h := sha256.Sum256([]byte(key))
	return "<" + hex.EncodeToString(h[:16]) + "@" + s.domain + ">"
}

// Send makes one attempt to deliver m (see the package comment for how
// failures are classified).
func (s *Sender) Send(ctx context.Context, m Message) error {
	msg, err := s.build(m)
	if err != nil {
		return publishers.Permanent(fmt.Errorf("smtp: %w", err))
	}
	ctx, cancel, timeout := withDeadline(ctx)
	defer cancel()
	if timeout <= 0 {
		return fmt.Errorf("smtp %s: no time left for an attempt", s.Server())
	}
	c, pw, err := s.client(ctx, timeout)
	if err != nil {
		return err
	}
	err = c.DialAndSendWithContext(ctx, msg)
	if err != nil && msg.IsDelivered() {
		return nil // the server took it; only the QUIT after it failed
	}
	if err != nil {
		return s.classify(ctx, "send to "+strings.Join(m.To, ", "), err, pw)
	}
	return nil
}

// Verify connects, secures the connection and logs in, then quits without
// sending anything. It says what was checked.
func (s *Sender) Verify(ctx context.Context) (string, error) {
	ctx, cancel, timeout := withDeadline(ctx)
	defer cancel()
	c, pw, err := s.client(ctx, timeout)
	if err != nil {
		return "", err
	}
	sc, err := c.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return "", s.classify(ctx, "connect", err, pw)
	}
	_ = c.CloseWithSMTPClient(sc)
	how := "STARTTLS"
	switch {
	case s.implicit:
		how = "TLS"
	case s.loopback:
		how = "loopback, STARTTLS when offered"
	}
	if s.username == "" {
		return fmt.Sprintf("%s (%s) answers; no login configured", s.Server(), how), nil
	}
	return fmt.Sprintf("%s (%s) accepted the login of %s", s.Server(), how, s.username), nil
}

// withDeadline bounds an attempt: the context's deadline, else DefaultTimeout.
func withDeadline(ctx context.Context) (context.Context, context.CancelFunc, time.Duration) {
	if dl, ok := ctx.Deadline(); ok {
		ctx, cancel := context.WithCancel(ctx)
		return ctx, cancel, time.Until(dl)
	}
	ctx, cancel := context.WithTimeout(ctx, DefaultTimeout)
	return ctx, cancel, DefaultTimeout
}

// client builds a go-mail client for one attempt. Every connection it makes
// is closed when ctx ends, so the attempt's deadline holds for the whole
// conversation, not only for each command.
func (s *Sender) client(ctx context.Context, timeout time.Duration) (*gomail.Client, string, error) {
	pw := ""
	if s.username != "" {
		v, err := s.secrets.Resolve(ctx, s.password)
		if err != nil {
			return nil, "", publishers.Permanent(fmt.Errorf("smtp: password: %w", err))
		}
		pw = v
	}
	tc := &tls.Config{ServerName: s.host, MinVersion: tls.VersionTLS12, RootCAs: s.rootCAs}
	dial := func(_ context.Context, network, addr string) (net.Conn, error) {
		conn, err := s.dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		if s.implicit {
			t := tls.Client(conn, tc)
			if err := t.HandshakeContext(ctx); err != nil {
				conn.Close()
				return nil, err
			}
			conn = t
		}
		context.AfterFunc(ctx, func() { conn.Close() })
		return conn, nil
	}
	opts := []gomail.Option{
		gomail.WithPort(s.port),
		gomail.WithTimeout(timeout),
		gomail.WithTLSConfig(tc),
		gomail.WithDialContextFunc(dial),
	}
	switch {
	case s.implicit:
		opts = append(opts, gomail.WithSSL()) // TLS is done by dial; this only skips STARTTLS
	case s.loopback:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if s.username != "" {
		prefer := []gomail.SMTPAuthType{gomail.SMTPAuthPlain, gomail.SMTPAuthLogin}
		if s.loopback {
			// Plain text to loopback was allowed when the config was
			// read; go-mail's own check knows only 127.0.0.1 and ::1.
			prefer = []gomail.SMTPAuthType{gomail.SMTPAuthPlainNoEnc, gomail.SMTPAuthLoginNoEnc}
		}
		opts = append(opts, gomail.WithUsername(s.username), gomail.WithPassword(pw), gomail.WithOpportunisticSMTPAuth(prefer...))
	}
	c, err := gomail.NewClient(s.host, opts...)
	if err != nil {
		return nil, "", publishers.Permanent(fmt.Errorf("smtp: %w", err))
	}
	return c, pw, nil
}
