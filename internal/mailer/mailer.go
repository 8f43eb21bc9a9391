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
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/textproto"
	"net/url"
	"regexp"
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

// Message is one mail to send. Text is required; every header value is
// cleaned of control characters before it is written.
type Message struct {
	To      []string // recipient addresses
	Subject string
	Text    string // the text/plain body
	HTML    string // an optional text/html alternative (a whole document)
	// ID is the Message-ID, with angle brackets (see MessageID).
	ID string
	// InReplyTo and References thread the message: the parent's
	// Message-ID, and the thread's ids from the first to the parent.
	InReplyTo  string
	References []string
	// ListUnsubscribe is the List-Unsubscribe value ("<mailto:…>, <https://…>")
	// and ListID the List-Id ("Status <status.example.com>"), when set.
	ListUnsubscribe string
	ListID          string
	// Bulk marks mail to a list: Precedence: bulk.
	Bulk bool
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

// build turns m into a go-mail message.
func (s *Sender) build(m Message) (*gomail.Msg, error) {
	if len(m.To) == 0 {
		return nil, errors.New("no recipient")
	}
	msg := gomail.NewMsg()
	msg.SetCharset(gomail.CharsetUTF8)
	msg.SetEncoding(gomail.EncodingQP)
	if err := msg.From(s.from.String()); err != nil {
		return nil, fmt.Errorf("from: %w", err)
	}
	if err := msg.To(m.To...); err != nil {
		return nil, fmt.Errorf("to: %w", err)
	}
	msg.Subject(CleanLine(m.Subject))
	msg.SetDateWithValue(s.now())
	if id := validID(m.ID); id != "" {
		msg.SetMessageIDWithValue(strings.Trim(id, "<>"))
	} else {
		msg.SetMessageID()
	}
	if id := validID(m.InReplyTo); id != "" {
		msg.SetGenHeader(gomail.HeaderInReplyTo, id)
	}
	var refs []string
	for _, r := range m.References {
		if id := validID(r); id != "" {
			refs = append(refs, id)
		}
	}
	if len(refs) > 0 {
		msg.SetGenHeader(gomail.HeaderReferences, strings.Join(refs, " "))
	}
	if v := CleanLine(m.ListUnsubscribe); v != "" {
		msg.SetGenHeader(gomail.HeaderListUnsubscribe, v)
	}
	if v := CleanLine(m.ListID); v != "" {
		msg.SetGenHeader(gomail.Header("List-Id"), v)
	}
	// RFC 3834: automatic mail; vacation responders must not answer it.
	msg.SetGenHeader(gomail.Header("Auto-Submitted"), "auto-generated")
	if m.Bulk {
		msg.SetBulk()
	}
	msg.SetUserAgent("incident")
	msg.SetBodyString(gomail.TypeTextPlain, CleanText(m.Text))
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, CleanText(m.HTML))
	}
	return msg, nil
}

// validID returns id if it looks like a Message-ID (<left@right>, no spaces
// or control characters), else "": ids come from records, which a person
// can edit, and go into headers.
func validID(id string) string {
	id = strings.TrimSpace(id)
	if len(id) < 5 || len(id) > 250 || id[0] != '<' || id[len(id)-1] != '>' {
		return ""
	}
	inner := id[1 : len(id)-1]
	at := strings.IndexByte(inner, '@')
	if at <= 0 || at == len(inner)-1 || strings.ContainsFunc(inner, func(r rune) bool {
		return r <= ' ' || r >= 0x7f || r == '<' || r == '>' || r == '"' || r == '\\'
	}) {
		return ""
	}
	return id
}

// CleanLine makes s safe for one header line: control characters (CR and LF
// included, so nothing can start a header of its own) become spaces, runs of
// spaces collapse, and the ends are trimmed.
func CleanLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if isControl(r) {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// CleanText makes s safe for a body: line endings become \n (go-mail writes
// CRLF), and control characters other than tab and newline are dropped (an
// alert summary may hold terminal escapes).
func CleanText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if isControl(r) {
			return -1
		}
		return r
	}, s)
}

func isControl(r rune) bool {
	return r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 || r == '\u2028' || r == '\u2029'
}

// classify turns a go-mail failure into an error the retry stage can judge:
// a 4xx reply, a timeout or a broken connection is retryable; a 5xx reply,
// a refused certificate or a server without STARTTLS is permanent.
func (s *Sender) classify(ctx context.Context, op string, err error, password string) error {
	code, msg := smtpReply(err)
	msg = shorten(CleanLine(s.redact(msg, password)), 300)
	if strings.Contains(err.Error(), "SMTP AUTH failed") {
		op = "login as " + s.username
	}
	where := "smtp " + s.Server() + ": " + op + ": "
	var certErr *tls.CertificateVerificationError
	var hostErr x509.HostnameError
	var authErr x509.UnknownAuthorityError
	var sendErr *gomail.SendError
	var netErr net.Error
	switch {
	case code >= 500:
		return publishers.Permanent(fmt.Errorf("%s%s%s", where, msg, s.hint(code, msg)))
	case code >= 400:
		return fmt.Errorf("%s%s (a temporary refusal: try again later)", where, msg)
	case errors.As(err, &certErr) || errors.As(err, &hostErr) || errors.As(err, &authErr):
		return publishers.Permanent(fmt.Errorf("%sthe server's TLS certificate is not valid for %s: %s", where, s.host, msg))
	case strings.Contains(err.Error(), "does not support STARTTLS"):
		return publishers.Permanent(fmt.Errorf("%sthe server does not offer STARTTLS, and incident sends no password or mail in the clear; use smtps://%s:465 if it takes TLS there", where, s.host))
	case errors.Is(err, gomail.ErrNoSupportedAuthDiscovered) || strings.Contains(err.Error(), "does not support SMTP AUTH"):
		return publishers.Permanent(fmt.Errorf("%sthe server offers no login method incident can use (%s); check the url's port (587 and 465 take logins)", where, msg))
	case ctx.Err() != nil || errors.As(err, &netErr) && netErr.Timeout():
		return fmt.Errorf("%sno answer in time (%s)", where, msg)
	case errors.As(err, &sendErr) && isLocalFailure(sendErr.Reason):
		return publishers.Permanent(fmt.Errorf("%s%s", where, msg))
	}
	return fmt.Errorf("%s%s", where, msg) // the network: another attempt may work
}

// isLocalFailure reports go-mail reasons that no retry can change (the
// message itself cannot be built or encoded).
func isLocalFailure(r gomail.SendErrReason) bool {
	return r == gomail.ErrGetSender || r == gomail.ErrGetRcpts || r == gomail.ErrNoUnencoded
}

// smtpReply finds the server's reply in err: its code, and the error's text
// with the reply as the server wrote it.
func smtpReply(err error) (int, string) {
	code := 0
	var te *textproto.Error
	var se *gomail.SendError
	switch {
	case errors.As(err, &te):
		code = te.Code
	case errors.As(err, &se):
		code = se.ErrorCode()
	}
	return code, steps.Replace(unquoteReplies(err.Error()))
}

// steps shortens go-mail's words for the SMTP steps.
var steps = strings.NewReplacer("dial failed: ", "", "send failed: ", "", "SMTP AUTH failed: ", "",
	"sending SMTP MAIL FROM command: ", "MAIL FROM: ", "sending SMTP RCPT TO command: ", "RCPT TO: ",
	"sending SMTP DATA command: ", "DATA: ", "closing SMTP DATA writer: ", "DATA: ", "sending message content: ", "DATA: ")

// quotedReply is a reply as Go's textproto quotes it in errors: 535 "5.7.8 …".
var quotedReply = regexp.MustCompile(`\b([245]\d\d) ("(?:[^"\\]|\\.)*")`)

// unquoteReplies shows quoted replies as the server wrote them.
func unquoteReplies(s string) string {
	return quotedReply.ReplaceAllStringFunc(s, func(m string) string {
		code, q, _ := strings.Cut(m, " ")
		if v, err := strconv.Unquote(q); err == nil {
			return code + " " + v
		}
		return m
	})
}

// hint says what the user can do about a permanent refusal.
func (s *Sender) hint(code int, msg string) string {
	switch {
	case code == 530 || code == 534 || code == 535 || code == 538 || authStatus.MatchString(msg):
		if s.username == "" {
			return " (the server wants a login: set `username` and `password`)"
		}
		return " (check `username` " + strconv.Quote(s.username) + " and the password in " + s.password.Where() + ")"
	case code == 550 || code == 551 || code == 553:
		return " (check `from` and the recipient addresses; the account may not be allowed to send as " + s.from.Address + ")"
	case code == 552:
		return " (the message is too large for the server)"
	}
	return ""
}

// authStatus matches the enhanced status codes of RFC 4954's login refusals.
var authStatus = regexp.MustCompile(`\b5\.7\.(0|8|9|11)\b`)

// redact removes the password from a server's reply in every form we sent
// it: as is, base64 (LOGIN), and inside the base64 PLAIN response.
func (s *Sender) redact(msg, password string) string {
	if password == "" {
		return msg
	}
	for _, v := range []string{
		base64.StdEncoding.EncodeToString([]byte("\x00" + s.username + "\x00" + password)),
		base64.StdEncoding.EncodeToString([]byte(password)),
		password,
	} {
		msg = strings.ReplaceAll(msg, v, "[redacted]")
	}
	return msg
}

func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
