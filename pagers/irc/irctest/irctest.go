// Package irctest is an IRC server on loopback for the irc pager's tests. It
// speaks enough of RFC 2812 and IRCv3 to register a client the ways real
// networks do (CAP LS/REQ/END, SASL PLAIN in 400-byte chunks with 903 or
// 904, a server password checked like ngircd does, 433 for a nick in use, a
// PING that must be answered before 001), refuses JOIN with the numerics
// real servers send (471, 473, 474, 475), and answers NOTICE and PRIVMSG
// with 404 (a channel not joined or moderated) or 401 (no such nick). It
// keeps every line it received and every message delivered, and reports
// what a real server would choke on or relay differently: lines over 512
// bytes (as received, or as relayed with the sender's prefix), control
// characters inside a line, commands before registration that are not part
// of it, and messages to a channel the client did not join. It uses nothing
// from package testing.
package irctest

import (
	"bufio"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
)

// Reporter receives protocol problems as they happen; a *testing.T is one.
type Reporter interface {
	Errorf(format string, args ...any)
}

// Options configure a Server. The zero value is a server without CAP, with
// no password, whose channels all take anyone who joins.
type Options struct {
	Name          string            // the server's name (default "irc.test")
	Caps          []string          // offered in CAP LS ("sasl", "multi-prefix"); nil: CAP is an unknown command (421)
	Accounts      map[string]string // SASL PLAIN accounts: account -> password
	Password      string            // the server password (PASS); "" for none
	Taken         []string          // nicks already in use (433)
	Online        []string          // nicks that can be messaged privately (others: 401)
	ChannelErrors map[string]int    // JOIN refusals by channel: "#full": 471
	Moderated     []string          // channels that refuse messages (404) even after JOIN
	PingFirst     bool              // send PING before 001 and register only after the PONG
	SilentCap     bool              // ignore CAP LS (a server that neither knows nor refuses it)
	Hang          bool              // accept connections and never answer
	KeepOpen      bool              // do not close the connection after QUIT
	TLS           *tls.Config       // TLS from the first byte (ircs)
	Reporter      Reporter          // gets protocol problems; when it has Cleanup(func()) (a *testing.T), Close is registered there
}

// Line is one line the server received, on connection Conn (1-based).
type Line struct {
	Conn int
	Text string
}

// Message is one NOTICE or PRIVMSG the server delivered.
type Message struct {
	From    string // the sender's nick
	Command string // NOTICE or PRIVMSG
	Target  string // "#ops" or a nick
	Text    string
	Relayed string // the line as the server relays it, prefix included, without CR LF
}

// Server is the fake IRC server.
type Server struct {
	Addr string // 127.0.0.1:PORT
	URL  string // irc://127.0.0.1:PORT (ircs:// with TLS)

	opt Options
	ln  net.Listener

	mu       sync.Mutex
	lines    []Line
	messages []Message
	conns    int
	open     map[net.Conn]bool
	closed   bool
}

// NewServer starts a server on 127.0.0.1:0.
func NewServer(opt Options) *Server {
	if opt.Name == "" {
		opt.Name = "irc.test"
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(fmt.Sprintf("irctest: listen: %v", err))
	}
	scheme := "irc"
	if opt.TLS != nil {
		ln, scheme = tls.NewListener(ln, opt.TLS), "ircs"
	}
	s := &Server{Addr: ln.Addr().String(), opt: opt, ln: ln, open: map[net.Conn]bool{}}
	s.URL = scheme + "://" + s.Addr
	go s.serve()
	if c, ok := opt.Reporter.(interface{ Cleanup(func()) }); ok {
		c.Cleanup(s.Close)
	}
	return s
}

// Close stops the server and every connection.
func (s *Server) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	s.ln.Close()
	for c := range s.open {
		c.Close()
	}
}

// Lines returns every line received, in order.
func (s *Server) Lines() []Line {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.lines)
}

// Messages returns every message delivered, in order.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.messages)
}

// Connections returns how many connections were accepted.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns
}

func (s *Server) serve() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns++
		n := s.conns
		s.open[c] = true
		s.mu.Unlock()
		go func() {
			defer func() {
				c.Close()
				s.mu.Lock()
				delete(s.open, c)
				s.mu.Unlock()
			}()
			if s.opt.Hang {
				_, _ = bufio.NewReader(c).ReadString(0) // until the client gives up
				return
			}
			(&client{s: s, c: c, n: n, w: bufio.NewWriter(c)}).run()
		}()
	}
}

func (s *Server) report(format string, args ...any) {
	if s.opt.Reporter != nil {
		s.opt.Reporter.Errorf("irctest: "+format, args...)
	}
}

// client is one connection's state.
type client struct {
	s          *Server
	c          net.Conn
	n          int
	w          *bufio.Writer
	nick, user string
	pass       string
	capping    bool // CAP negotiation open: registration waits for CAP END
	sasl       string
	saslOK     bool
	pinged     string // the PING token sent before 001
	registered bool
	joined     map[string]bool
}

func (c *client) reply(format string, args ...any) {
	fmt.Fprintf(c.w, format+"\r\n", args...)
	c.w.Flush()
}

// num sends a numeric reply.
func (c *client) num(code, rest string) {
	nick := c.nick
	if nick == "" {
		nick = "*"
	}
	c.reply(":%s %s %s %s", c.s.opt.Name, code, nick, rest)
}

func (c *client) prefix() string { return c.nick + "!~" + c.user + "@127.0.0.1" }

func (c *client) run() {
	r := bufio.NewReaderSize(c.c, 16384)
	c.joined = map[string]bool{}
	for {
		raw, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line := strings.TrimSuffix(strings.TrimSuffix(raw, "\n"), "\r")
		c.s.mu.Lock()
		c.s.lines = append(c.s.lines, Line{Conn: c.n, Text: line})
		c.s.mu.Unlock()
		if len(raw) > 512 {
			c.s.report("a line of %d bytes, over 512: %q", len(raw), line)
		}
		if strings.ContainsFunc(line, func(r rune) bool { return r < ' ' || r == 0x7f }) {
			c.s.report("a control character inside a line: %q", line)
		}
		if !c.handle(line) {
			return
		}
	}
}

// handle acts on one line; false closes the connection.
func (c *client) handle(line string) bool {
	cmd, args, trailing := split(line)
	pre := map[string]bool{"CAP": true, "PASS": true, "NICK": true, "USER": true, "AUTHENTICATE": true, "PONG": true, "QUIT": true, "PING": true}
	if !c.registered && !pre[cmd] {
		c.s.report("%s before registration: %q", cmd, line)
		c.num("451", ":You have not registered")
		return true
	}
	switch cmd {
	case "CAP":
		return c.capCommand(args, trailing)
	case "AUTHENTICATE":
		c.authenticate(arg(args, 0))
	case "PASS":
		c.pass = arg(args, 0)
		if trailing != "" {
			c.pass = trailing
		}
	case "NICK":
		nick := arg(args, 0)
		if nick == "" {
			nick = trailing
		}
		if slices.Contains(c.s.opt.Taken, nick) {
			c.num("433", nick+" :Nickname is already in use")
			return true
		}
		c.nick = nick
		return c.register()
	case "USER":
		c.user = arg(args, 0)
		return c.register()
	case "PONG":
		if c.pinged != "" && (trailing == c.pinged || arg(args, 0) == c.pinged) {
			c.pinged = "ok"
			return c.register()
		}
	case "PING":
		c.reply(":%s PONG %s :%s", c.s.opt.Name, c.s.opt.Name, trailing)
	case "JOIN":
		ch := arg(args, 0)
		if code, ok := c.s.opt.ChannelErrors[ch]; ok {
			c.num(fmt.Sprint(code), ch+" :Cannot join channel")
			return true
		}
		c.joined[strings.ToLower(ch)] = true
		c.reply(":%s JOIN :%s", c.prefix(), ch)
		c.num("353", "= "+ch+" :"+c.nick)
		c.num("366", ch+" :End of NAMES list")
	case "NOTICE", "PRIVMSG":
		c.message(cmd, arg(args, 0), trailing)
	case "QUIT":
		c.reply("ERROR :Closing connection")
		return c.s.opt.KeepOpen
	default:
		c.s.report("unexpected command %q", line)
		c.num("421", cmd+" :Unknown command")
	}
	return true
}

func (c *client) capCommand(args []string, trailing string) bool {
	if c.s.opt.Caps == nil {
		c.num("421", "CAP :Unknown command")
		return true
	}
	switch strings.ToUpper(arg(args, 0)) {
	case "LS":
		if c.s.opt.SilentCap {
			return true
		}
		c.capping = true
		c.reply(":%s CAP * LS :%s", c.s.opt.Name, strings.Join(c.s.opt.Caps, " "))
	case "REQ":
		c.capping = true
		if slices.Contains(c.s.opt.Caps, trailing) {
			c.reply(":%s CAP * ACK :%s", c.s.opt.Name, trailing)
		} else {
			c.reply(":%s CAP * NAK :%s", c.s.opt.Name, trailing)
		}
	case "END":
		c.capping = false
		return c.register()
	}
	return true
}

// authenticate runs SASL PLAIN: the mechanism, then base64 in 400-byte chunks.
func (c *client) authenticate(a string) {
	if c.sasl == "" {
		if a != "PLAIN" {
			c.num("908", "PLAIN :are available SASL mechanisms")
			c.num("904", ":SASL authentication failed")
			return
		}
		c.sasl = "started"
		c.reply("AUTHENTICATE +")
		return
	}
	if a != "+" {
		if len(a) > 400 {
			c.s.report("an AUTHENTICATE chunk of %d bytes, over 400", len(a))
		}
		c.sasl += "|" + a
		if len(a) == 400 {
			return // more follows
		}
	}
	enc := strings.ReplaceAll(strings.TrimPrefix(c.sasl, "started"), "|", "")
	c.sasl = ""
	b, err := base64.StdEncoding.DecodeString(enc)
	parts := strings.Split(string(b), "\x00")
	if err != nil || len(parts) != 3 {
		c.num("904", ":SASL authentication failed: malformed")
		return
	}
	if pw, ok := c.s.opt.Accounts[parts[1]]; !ok || pw != parts[2] {
		c.num("904", ":SASL authentication failed")
		return
	}
	c.saslOK = true
	c.num("900", c.nick+"!*@* "+parts[1]+" :You are now logged in as "+parts[1])
	c.num("903", ":SASL authentication successful")
}

// register sends the welcome once NICK, USER and CAP END are in.
func (c *client) register() bool {
	if c.registered || c.nick == "" || c.user == "" || c.capping {
		return true
	}
	if c.s.opt.Password != "" && c.pass != c.s.opt.Password {
		c.reply("ERROR :Access denied: Bad password?")
		return false
	}
	if c.s.opt.PingFirst && c.pinged != "ok" {
		if c.pinged == "" {
			c.pinged = "T0k3n"
			c.reply("PING :%s", c.pinged)
		}
		return true
	}
	c.registered = true
	c.num("001", ":Welcome to the test network "+c.prefix())
	c.num("376", ":End of MOTD command")
	return true
}

func (c *client) message(cmd, target, text string) {
	relayed := ":" + c.prefix() + " " + cmd + " " + target + " :" + text
	if len(relayed)+2 > 512 {
		c.s.report("%s relayed as %d bytes, over 512: %q", cmd, len(relayed)+2, relayed)
	}
	if strings.HasPrefix(target, "#") || strings.HasPrefix(target, "&") {
		if !c.joined[strings.ToLower(target)] {
			c.s.report("%s to %s without joining it", cmd, target)
			c.num("404", target+" :Cannot send to channel")
			return
		}
		if slices.Contains(c.s.opt.Moderated, target) {
			c.num("404", target+" :Cannot send to channel (+m)")
			return
		}
	} else if !slices.Contains(c.s.opt.Online, target) {
		c.num("401", target+" :No such nick or channel name")
		return
	}
	c.s.mu.Lock()
	c.s.messages = append(c.s.messages, Message{From: c.nick, Command: cmd, Target: target, Text: text, Relayed: relayed})
	c.s.mu.Unlock()
}

// split parses a client line: the command, its middle parameters, and the
// trailing one (after " :").
func split(line string) (cmd string, args []string, trailing string) {
	if i := strings.Index(line, " :"); i >= 0 {
		line, trailing = line[:i], line[i+2:]
	}
	f := strings.Fields(line)
	if len(f) == 0 {
		return "", nil, trailing
	}
	return strings.ToUpper(f[0]), f[1:], trailing
}

func arg(args []string, i int) string {
	if i < len(args) {
		return args[i]
	}
	return ""
}
