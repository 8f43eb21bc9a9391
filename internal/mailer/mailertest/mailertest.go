// Package mailertest is an SMTP server on loopback, in process, on
// github.com/emersion/go-smtp: it takes mail the way a submission server does
// (EHLO, optional STARTTLS or implicit TLS, AUTH PLAIN and LOGIN with one
// account, MAIL, RCPT, DATA) and keeps every message, parsed, so a test
// reads back its headers and both bodies. Faults are injected per SMTP step
// (Fail: a reply code and text for the next N commands; Hang: no reply until
// the client gives up). It also reports what a careful server would refuse
// or a list manager would mangle: a message without Date, Message-ID or
// From, a From that is not the envelope sender, header lines over 998
// characters, bare LF line ends. It uses nothing from package testing.
package mailertest

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Reporter receives protocol problems as they happen; a *testing.T is one.
type Reporter interface {
	Errorf(format string, args ...any)
}

// Options configure a Server; the zero value takes mail without a login.
type Options struct {
	Username, Password string      // the one account; "" offers no AUTH at all
	TLS                *tls.Config // offered with STARTTLS, or from the first byte with Implicit
	Implicit           bool        // smtps: TLS from the first byte
	Domain             string      // the name in the greeting (default "mail.test")
	Reporter           Reporter    // gets protocol problems; when it has Cleanup(func()) (a *testing.T), Close is registered there
}

// Step is an SMTP step a fault applies to.
type Step string

// The steps.
const (
	StepAuth Step = "AUTH"
	StepMail Step = "MAIL"
	StepRcpt Step = "RCPT"
	StepData Step = "DATA" // after the whole message was read: the reply to the final dot
)

// Message is one mail the server took.
type Message struct {
	From    string      // MAIL FROM
	To      []string    // RCPT TO
	Header  mail.Header // parsed headers, decoded as written (RFC 2047 words stay encoded; see Subject)
	Subject string      // the Subject, decoded
	Text    string      // the text/plain body, decoded
	HTML    string      // the text/html alternative, decoded ("" if none)
	Raw     []byte      // the message as received
	TLS     bool        // it came over TLS
	User    string      // the login it came with ("" without)
}

// Server is the fake SMTP server.
type Server struct {
	Addr string // 127.0.0.1:PORT
	URL  string // smtp://127.0.0.1:PORT (smtps:// with Implicit)

	opt  Options
	srv  *smtp.Server
	ln   net.Listener
	done chan struct{}

	mu       sync.Mutex
	messages []Message
	faults   map[Step]*fault
	logins   int
	failed   int // refused logins
	closed   bool
}

type fault struct {
	code  int
	text  string
	times int // -1: always
	hang  bool
}

// NewServer starts a server on 127.0.0.1:0.
func NewServer(opt Options) *Server {
	if opt.Domain == "" {
		opt.Domain = "mail.test"
	}
	s := &Server{opt: opt, done: make(chan struct{}), faults: map[Step]*fault{}}
	be := smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		_, tlsOn := c.TLSConnectionState()
		return &session{s: s, tls: tlsOn, conn: c}, nil
	})
	s.srv = smtp.NewServer(be)
	s.srv.Domain = opt.Domain
	s.srv.AllowInsecureAuth = true
	s.srv.ErrorLog = log.New(io.Discard, "", 0)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(fmt.Sprintf("mailertest: listen: %v", err))
	}
	scheme := "smtp"
	if opt.Implicit {
		ln = tls.NewListener(ln, opt.TLS)
		scheme = "smtps"
	} else {
		s.srv.TLSConfig = opt.TLS
	}
	s.ln = ln
	s.Addr = ln.Addr().String()
	s.URL = scheme + "://" + s.Addr
	go s.srv.Serve(ln)
	if c, ok := opt.Reporter.(interface{ Cleanup(func()) }); ok {
		c.Cleanup(s.Close)
	}
	return s
}

// Close stops the server and releases every hung command.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	close(s.done)
	s.mu.Unlock()
	s.srv.Close()
}

// Fail makes the next times commands of step answer code and text
// (times -1: until Clear). A 4xx code is a temporary refusal, 5xx a final one.
func (s *Server) Fail(step Step, code int, text string, times int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[step] = &fault{code: code, text: text, times: times}
}

// Hang makes the next times commands of step get no answer until the
// client goes away or the server closes.
func (s *Server) Hang(step Step, times int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[step] = &fault{hang: true, times: times}
}

// Clear removes every fault.
func (s *Server) Clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = map[Step]*fault{}
}

// Messages returns every message taken, oldest first.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// Logins returns how many logins succeeded and how many were refused.
func (s *Server) Logins() (ok, refused int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logins, s.failed
}

// inject applies the fault for step, if any: an error to answer, after a
// hang when asked.
func (s *Server) inject(step Step, conn *smtp.Conn) error {
	s.mu.Lock()
	f := s.faults[step]
	if f == nil || f.times == 0 {
		s.mu.Unlock()
		return nil
	}
	if f.times > 0 {
		f.times--
	}
	s.mu.Unlock()
	if f.hang {
		// Wait until the server closes or the client hangs up (a read
		// on the connection returns then: the client sends nothing while
		// it waits for our answer).
		gone := make(chan struct{})
		go func() {
			var b [1]byte
			_, _ = conn.Conn().Read(b[:])
			close(gone)
		}()
		select {
		case <-s.done:
		case <-gone:
		}
		return &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 4, 2}, Message: "hung"}
	}
	return replyError(f.code, f.text)
}

// replyError is an SMTP reply; text may start with its enhanced status
// code ("5.7.8 Authentication failed").
func replyError(code int, text string) *smtp.SMTPError {
	enh := smtp.EnhancedCode{code / 100, 0, 0}
	if first, rest, ok := strings.Cut(text, " "); ok {
		var a, b, c int
		if n, _ := fmt.Sscanf(first, "%d.%d.%d", &a, &b, &c); n == 3 {
			enh, text = smtp.EnhancedCode{a, b, c}, rest
		}
	}
	return &smtp.SMTPError{Code: code, EnhancedCode: enh, Message: text}
}

func (s *Server) report(format string, args ...any) {
	if s.opt.Reporter != nil {
		s.opt.Reporter.Errorf("mailertest: "+format, args...)
	}
}

type session struct {
	s    *Server
	conn *smtp.Conn
	tls  bool
	user string
	from string
	to   []string
}

func (se *session) AuthMechanisms() []string {
	if se.s.opt.Username == "" {
		return nil
	}
	return []string{sasl.Plain, sasl.Login}
}

func (se *session) Auth(mech string) (sasl.Server, error) {
	check := func(username, password string) error {
		if err := se.s.inject(StepAuth, se.conn); err != nil {
			return err
		}
		se.s.mu.Lock()
		defer se.s.mu.Unlock()
		if username != se.s.opt.Username || password != se.s.opt.Password {
			se.s.failed++
			return smtp.ErrAuthFailed
		}
		se.s.logins++
		se.user = username
		return nil
	}
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(identity, username, password string) error {
			if identity != "" && identity != username {
				return smtp.ErrAuthFailed
			}
			return check(username, password)
		}), nil
	case sasl.Login:
		return &loginServer{check: check}, nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

func (se *session) Mail(from string, _ *smtp.MailOptions) error {
	if se.s.opt.Username != "" && se.user == "" {
		return smtp.ErrAuthRequired
	}
	if err := se.s.inject(StepMail, se.conn); err != nil {
		return err
	}
	se.from = from
	return nil
}

func (se *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if err := se.s.inject(StepRcpt, se.conn); err != nil {
		return err
	}
	se.to = append(se.to, to)
	return nil
}

func (se *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(io.LimitReader(r, 10<<20))
	if err != nil {
		return err
	}
	if err := se.s.inject(StepData, se.conn); err != nil {
		return err
	}
	m, err := parse(raw)
	if err != nil {
		se.s.report("a message that does not parse: %v\n%s", err, raw)
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "malformed message: " + err.Error()}
	}
	m.From, m.To, m.TLS, m.User = se.from, se.to, se.tls, se.user
	se.s.check(m)
	se.s.mu.Lock()
	se.s.messages = append(se.s.messages, m)
	se.s.mu.Unlock()
	return nil
}

func (se *session) Reset()        { se.from, se.to = "", nil }
func (se *session) Logout() error { return nil }

// check reports what a careful receiver would refuse.
func (s *Server) check(m Message) {
	for _, h := range []string{"Date", "Message-Id", "From"} {
		if m.Header.Get(h) == "" {
			s.report("message without %s:\n%s", h, m.Raw)
		}
	}
	if a, err := mail.ParseAddress(m.Header.Get("From")); err == nil && !strings.EqualFold(a.Address, m.From) {
		s.report("From %q is not the envelope sender %q", a.Address, m.From)
	}
	lines := bytes.Split(m.Raw, []byte("\n"))
	for i, line := range lines[:len(lines)-1] { // the last is what follows the final line end
		if !bytes.HasSuffix(line, []byte("\r")) {
			s.report("line %d ends in a bare LF", i+1)
			break
		}
		if len(line) > 999 {
			s.report("line %d is %d characters, over SMTP's 998", i+1, len(line)-1)
		}
	}
}

// parse reads a message: headers, and the text and HTML bodies decoded.
func parse(raw []byte) (Message, error) {
	mm, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Message{}, err
	}
	m := Message{Header: mm.Header, Raw: raw}
	dec := new(mime.WordDecoder)
	if m.Subject, err = dec.DecodeHeader(mm.Header.Get("Subject")); err != nil {
		return m, fmt.Errorf("subject: %w", err)
	}
	err = walk(mm.Header.Get("Content-Type"), mm.Header.Get("Content-Transfer-Encoding"), mm.Body, &m)
	return m, err
}

func walk(ctype, cte string, body io.Reader, m *Message) error {
	mt, params, err := mime.ParseMediaType(ctype)
	if err != nil {
		return fmt.Errorf("content-type %q: %w", ctype, err)
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			if err := walk(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p, m); err != nil {
				return err
			}
		}
	}
	var r io.Reader = body
	switch strings.ToLower(cte) {
	case "quoted-printable":
		r = quotedprintable.NewReader(body)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, &newlineStripper{r: bufio.NewReader(body)})
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("%s body: %w", mt, err)
	}
	text := strings.ReplaceAll(string(b), "\r\n", "\n")
	switch mt {
	case "text/plain":
		m.Text = text
	case "text/html":
		m.HTML = text
	}
	return nil
}

// newlineStripper drops line ends from base64 text.
type newlineStripper struct{ r *bufio.Reader }

func (n *newlineStripper) Read(p []byte) (int, error) {
	i := 0
	for i < len(p) {
		c, err := n.r.ReadByte()
		if err != nil {
			return i, err
		}
		if c != '\r' && c != '\n' {
			p[i] = c
			i++
		}
	}
	return i, nil
}

// loginServer is the LOGIN mechanism (Username:, Password: challenges),
// which go-sasl offers only as a client.
type loginServer struct {
	check    func(username, password string) error
	step     int
	username string
}

func (l *loginServer) Next(response []byte) ([]byte, bool, error) {
	switch l.step {
	case 0:
		l.step++
		if len(response) > 0 { // an initial response holds the username
			l.username = string(response)
			l.step++
			return []byte("Password:"), false, nil
		}
		return []byte("Username:"), false, nil
	case 1:
		l.username = string(response)
		l.step++
		return []byte("Password:"), false, nil
	}
	return nil, true, l.check(l.username, string(response))
}
