package irc

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/incident-cli/incident/publishers"
)

// maxRead bounds one line from the server: 512 bytes plus IRCv3 tags (8191).
const maxRead = 8704

// message is one line from the server, parsed (RFC 1459 §2.3.1, with IRCv3
// tags skipped).
type message struct {
	prefix  string // "irc.example.org" or "nick!user@host"
	command string // upper case: "PRIVMSG", "001"
	params  []string
}

func parse(line string) message {
	var m message
	if strings.HasPrefix(line, "@") { // IRCv3 tags: not needed here
		_, line, _ = strings.Cut(line, " ")
	}
	line = strings.TrimLeft(line, " ")
	if strings.HasPrefix(line, ":") {
		m.prefix, line, _ = strings.Cut(line[1:], " ")
	}
	for line != "" {
		line = strings.TrimLeft(line, " ")
		if strings.HasPrefix(line, ":") {
			m.params = append(m.params, line[1:])
			break
		}
		var p string
		p, line, _ = strings.Cut(line, " ")
		if p == "" {
			break
		}
		if m.command == "" {
			m.command = strings.ToUpper(p)
		} else {
			m.params = append(m.params, p)
		}
	}
	return m
}

// param returns parameter i, or "".
func (m message) param(i int) string {
	if i < len(m.params) {
		return m.params[i]
	}
	return ""
}

// nick returns the nick of a nick!user@host prefix.
func (m message) nick() string {
	n, _, _ := strings.Cut(m.prefix, "!")
	return n
}

// text is the message's last parameter, cleaned for an error message (a
// server's words are untrusted input).
func (m message) text() string {
	if len(m.params) == 0 {
		return ""
	}
	t := Clean(m.params[len(m.params)-1])
	if len(t) > 200 {
		t = t[:200] + "…"
	}
	return t
}

// session is one connection to a server, from registration to QUIT. It is
// also the second client of the tests: it reads what others send.
type session struct {
	conn      net.Conn
	deadline  time.Time // the attempt's: no read or write goes past it
	buf       []byte    // read, not yet returned
	nick      string    // ours: the one we asked for until 001, then the server's
	nickTries int       // nicks refused as taken during registration
	firstNick string    // the configured nick
	server    string    // the server's name, from 001
	self      string    // our nick!user@host once the server showed it (JOIN echo)
	bucket    *bucket   // paces lines after registration (nil: unpaced)
	pongs     int       // PINGs answered
}

// errPermanent marks what no retry can fix (a refused login, a ban, a
// channel we may not join).
func errPermanent(format string, args ...any) error {
	return publishers.Permanent(fmt.Errorf(format, args...))
}

// send writes one line. The line must already be clean: send refuses CR,
// LF and NUL rather than pass a second command to the server.
func (s *session) send(line string) error {
	if strings.ContainsAny(line, "\r\n\x00") {
		return errPermanent("internal error: a line with a line break: %q", line)
	}
	if len(line)+2 > maxLine {
		return errPermanent("a line of %d bytes is over IRC's 512", len(line)+2)
	}
	if _, err := s.conn.Write([]byte(line + "\r\n")); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	return nil
}

// paced sends a line once the token bucket allows it.
func (s *session) paced(ctx context.Context, line string) error {
	if s.bucket != nil {
		if err := s.bucket.take(ctx); err != nil {
			return err
		}
	}
	return s.send(line)
}

// next returns the next message from the server, answering PING on the way.
// until bounds this read (zero: the connection's own deadline).
func (s *session) next(until time.Time) (message, error) {
	for {
		line, err := s.readLine(until)
		if err != nil {
			return message{}, err
		}
		m := parse(line)
		if m.command == "PING" {
			if err := s.send("PONG :" + Clean(m.param(len(m.params)-1))); err != nil {
				return message{}, err
			}
			s.pongs++
			continue
		}
		if m.command != "" {
			return m, nil
		}
	}
}

// readLine reads one line, keeping a partial line across a read timeout.
func (s *session) readLine(until time.Time) (string, error) {
	if !until.IsZero() && (s.deadline.IsZero() || until.Before(s.deadline)) {
		s.conn.SetReadDeadline(until)
		defer s.conn.SetReadDeadline(s.deadline)
	}
	for {
		if i := bytes.IndexByte(s.buf, '\n'); i >= 0 {
			line := strings.TrimRight(string(s.buf[:i]), "\r")
			s.buf = s.buf[i+1:]
			return line, nil
		}
		if len(s.buf) > maxRead {
			return "", fmt.Errorf("the server sent a line over %d bytes", maxRead)
		}
		var chunk [4096]byte
		n, err := s.conn.Read(chunk[:])
		s.buf = append(s.buf, chunk[:n]...)
		if err != nil && n == 0 {
			return "", err
		}
	}
}

// register logs in (RFC 2812 §3.1, IRCv3 CAP and SASL PLAIN): CAP LS first;
// then PASS when there is a password and the server offers no SASL PLAIN;
// NICK and USER; SASL PLAIN when offered; CAP END; and 001. While the nick
// is taken, "_" is appended to it. capWait bounds the wait for an answer to
// CAP LS from a server that ignores it. where names the password's source
// for hints. It returns how the login went ("SASL", "server password").
func (s *session) register(nick, password, where string, capWait time.Duration) (string, error) {
	if err := s.send("CAP LS 302"); err != nil {
		return "", err
	}
	caps, capOK, err := s.capLS(capWait)
	if err != nil {
		return "", err
	}
	how, sasl := "no password", password != "" && offersPlain(caps)
	if password != "" && !sasl {
		how = "server password"
		p := password
		if strings.ContainsAny(p, " :") {
			p = ":" + p
		}
		if err := s.send("PASS " + p); err != nil {
			return "", err
		}
	}
	s.nick, s.firstNick = nick, nick
	if err := s.send("NICK " + nick); err != nil {
		return "", err
	}
	if err := s.send("USER incident 0 * :incident pager"); err != nil {
		return "", err
	}
	if sasl {
		ok, err := s.authenticate(nick, password, where)
		if err != nil {
			return "", err
		}
		if ok {
			how = "SASL"
		}
	}
	if capOK {
		if err := s.send("CAP END"); err != nil {
			return "", err
		}
	}
	sawRefusal := ""
	for {
		m, err := s.next(time.Time{})
		if err != nil {
			if sawRefusal != "" {
				return "", errPermanent("%s", sawRefusal)
			}
			return "", fmt.Errorf("registration: %w", err)
		}
		if err := s.nickRefused(m); err != nil {
			return "", err
		}
		switch m.command {
		case "001":
			s.nick, s.server = m.param(0), m.prefix
			return how, nil
		case "464":
			sawRefusal = "the server refuses the password: " + m.text() + " (check the password in " + where + ")"
		case "465", "466":
			return "", errPermanent("the server bans this client: %s", m.text())
		case "ERROR":
			text := m.text()
			if sawRefusal != "" {
				return "", errPermanent("%s", sawRefusal)
			}
			if strings.Contains(strings.ToLower(text), "password") {
				return "", errPermanent("the server refuses the login: %s (check the password in %s)", text, where)
			}
			return "", fmt.Errorf("the server closed the connection: %s", text)
		}
	}
}

// nickRefused handles a refusal of our nick during registration: taken
// (433, 436, 437) means trying it with "_" appended, five times at most;
// invalid (432) is final.
func (s *session) nickRefused(m message) error {
	switch m.command {
	case "433", "436", "437":
		s.nickTries++
		if s.nickTries > 5 {
			return fmt.Errorf("the nicks %s to %s are all in use (%s); set another `nick`", s.firstNick, s.nick, m.text())
		}
		s.nick += "_"
		return s.send("NICK " + s.nick)
	case "432":
		return errPermanent("the server refuses the nick %q: %s; set another `nick`", s.nick, m.text())
	}
	return nil
}

// capLS reads the answer to CAP LS 302 (it may span lines): the
// capabilities offered, and whether the server knows CAP at all.
func (s *session) capLS(wait time.Duration) (map[string]string, bool, error) {
	caps := map[string]string{}
	until := time.Now().Add(wait)
	for {
		m, err := s.next(until)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() && time.Now().After(until) {
			return nil, false, nil // no answer: a server without CAP
		}
		if err != nil {
			return nil, false, fmt.Errorf("CAP LS: %w", err)
		}
		switch {
		case m.command == "CAP" && strings.EqualFold(m.param(1), "LS"):
			for _, c := range strings.Fields(m.param(len(m.params) - 1)) {
				k, v, _ := strings.Cut(c, "=")
				caps[strings.ToLower(k)] = v
			}
			if m.param(2) != "*" { // "CAP * LS * :…" says more lines follow
				return caps, true, nil
			}
		case m.command == "421" || m.command == "451": // unknown command, not registered
			return nil, false, nil
		case m.command == "ERROR":
			return nil, false, fmt.Errorf("the server closed the connection: %s", m.text())
		}
	}
}

// offersPlain reports whether the server offers SASL PLAIN ("sasl", or
// "sasl=PLAIN,EXTERNAL" in CAP 302).
func offersPlain(caps map[string]string) bool {
	v, ok := caps["sasl"]
	if !ok {
		return false
	}
	if v == "" {
		return true
	}
	for _, mech := range strings.Split(v, ",") {
		if strings.EqualFold(mech, "PLAIN") {
			return true
		}
	}
	return false
}

// authenticate runs SASL PLAIN (IRCv3 sasl-3.1): CAP REQ, AUTHENTICATE
// PLAIN, the credentials in base64 in 400-byte chunks, 903 or a refusal.
// It reports false when the server declines the capability after all (the
// login then goes on without a password, and the server decides).
func (s *session) authenticate(account, password, where string) (bool, error) {
	if err := s.send("CAP REQ :sasl"); err != nil {
		return false, err
	}
	for {
		m, err := s.next(time.Time{})
		if err != nil {
			return false, fmt.Errorf("CAP REQ: %w", err)
		}
		if err := s.nickRefused(m); err != nil {
			return false, err
		}
		if m.command == "CAP" && strings.EqualFold(m.param(1), "NAK") {
			return false, nil
		}
		if m.command == "CAP" && strings.EqualFold(m.param(1), "ACK") {
			break
		}
	}
	if err := s.send("AUTHENTICATE PLAIN"); err != nil {
		return false, err
	}
	for {
		m, err := s.next(time.Time{})
		if err != nil {
			return false, fmt.Errorf("SASL: %w", err)
		}
		if err := s.nickRefused(m); err != nil {
			return false, err
		}
		if m.command == "AUTHENTICATE" && m.param(0) == "+" {
			break
		}
		if saslFailure(m.command) {
			return false, errPermanent("SASL PLAIN: %s %s", m.command, m.text())
		}
	}
	enc := base64.StdEncoding.EncodeToString([]byte(account + "\x00" + account + "\x00" + password))
	for len(enc) >= 400 {
		if err := s.send("AUTHENTICATE " + enc[:400]); err != nil {
			return false, err
		}
		enc = enc[400:]
	}
	if enc == "" {
		enc = "+" // the last chunk was exactly 400 bytes
	}
	if err := s.send("AUTHENTICATE " + enc); err != nil {
		return false, err
	}
	for {
		m, err := s.next(time.Time{})
		if err != nil {
			return false, fmt.Errorf("SASL: %w", err)
		}
		if err := s.nickRefused(m); err != nil {
			return false, err
		}
		switch {
		case m.command == "903" || m.command == "907": // success, already logged in
			return true, nil
		case m.command == "904":
			return false, errPermanent("SASL login refused for %s: %s (check `nick` and the password in %s)", account, m.text(), where)
		case saslFailure(m.command):
			return false, errPermanent("SASL login failed: %s %s", m.command, m.text())
		}
	}
}

func saslFailure(cmd string) bool {
	switch cmd {
	case "902", "904", "905", "906", "908":
		return true
	}
	return false
}

// joinErrors are the refusals of JOIN, with what to do about each.
var joinErrors = map[string]string{
	"403": "no such channel",
	"405": "the nick is in too many channels",
	"471": "the channel is full (+l): raise its limit",
	"473": "the channel is invite-only (+i): invite the nick, or add an invite exception (+I)",
	"474": "the nick is banned from the channel (+b): lift the ban or add an exception (+e)",
	"475": "the channel has a key (+k), which incident does not send: remove it, or page a nick instead",
	"477": "the channel wants a registered nick: register the nick with the network's services",
	"489": "the channel wants TLS: use ircs://",
}

// join joins channel and waits for the server to confirm it.
func (s *session) join(ctx context.Context, channel string) error {
	if err := s.paced(ctx, "JOIN "+channel); err != nil {
		return err
	}
	for {
		m, err := s.next(time.Time{})
		if err != nil {
			return fmt.Errorf("JOIN %s: %w", channel, err)
		}
		switch {
		case m.command == "JOIN" && strings.EqualFold(m.nick(), s.nick) && strings.EqualFold(m.param(0), channel):
			s.self = m.prefix
			return nil
		case joinErrors[m.command] != "" && strings.EqualFold(m.param(1), channel):
			return errPermanent("cannot join %s: %s %s (%s)", channel, m.command, m.text(), joinErrors[m.command])
		case m.command == "ERROR":
			return fmt.Errorf("JOIN %s: the server closed the connection: %s", channel, m.text())
		}
	}
}

// quit says goodbye and reads until the server closes, returning the first
// refusal of a message we sent (the server answers in order, so a refusal
// arrives before its ERROR). A server that keeps the connection open past
// wait is taken to have nothing to refuse.
func (s *session) quit(target string, wait time.Duration) error {
	if err := s.send("QUIT :page sent"); err != nil {
		return err
	}
	until := time.Now().Add(wait)
	for {
		m, err := s.next(until)
		if err != nil {
			return nil // closed, or no word within wait: nothing refused
		}
		if m.command == "ERROR" {
			return nil
		}
		if len(m.command) == 3 && m.command[0] >= '4' && m.command[0] <= '5' && strings.EqualFold(m.param(1), target) {
			return errPermanent("the server refused the message to %s: %s %s", target, m.command, m.text())
		}
	}
}
