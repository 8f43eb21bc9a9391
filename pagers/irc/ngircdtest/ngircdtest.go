// Package ngircdtest runs the real IRC server of Debian's ngircd package
// on loopback for tests, and a plain client that sits in a channel and
// reads what is posted there: the irc pager's test and the end-to-end
// tests of the binary page a real server and read the page back.
//
// Start runs /usr/sbin/ngircd (or $INCIDENT_IT_NGIRCD) and skips the test
// when it is not installed; with INCIDENT_IT_REQUIRE set (CI) a missing
// ngircd fails it instead.
package ngircdtest

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Start runs ngircd in the foreground on a free loopback port, with the
// configuration of ALERTS-AND-PAGING.md §9 (server name irc.test.local,
// channel #ops) and the server password given ("" for none), and stops it
// when the test ends. It returns the address.
func Start(t testing.TB, password string) string {
	t.Helper()
	bin := os.Getenv("INCIDENT_IT_NGIRCD")
	if bin == "" {
		bin = "/usr/sbin/ngircd"
	}
	if _, err := os.Stat(bin); err != nil {
		why := bin + " is not installed (Debian package ngircd)"
		if os.Getenv("INCIDENT_IT_REQUIRE") != "" {
			t.Fatal("INCIDENT_IT_REQUIRE is set but " + why)
		}
		t.Skip(why)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	dir := t.TempDir()
	conf := filepath.Join(dir, "ngircd.conf")
	pass := ""
	if password != "" {
		pass = "  Password = " + password + "\n"
	}
	err = os.WriteFile(conf, []byte(fmt.Sprintf(`[Global]
  Name = irc.test.local
  Listen = 127.0.0.1
  Ports = %d
  PidFile = %s
%s[Limits]
  MaxNickLength = 30
[Options]
  PAM = no
  Ident = no
  DNS = no
[Channel]
  Name = #ops
  Topic = incident tests
`, port, filepath.Join(dir, "ngircd.pid"), pass)), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	var out lockedBuffer
	cmd := exec.Command(bin, "-n", "-f", conf)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("ngircd's log:\n%s", out.String())
		}
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return addr
		}
		select {
		case err := <-exited:
			t.Fatalf("ngircd exited (%v):\n%s", err, out.String())
		case <-time.After(50 * time.Millisecond): // polling for readiness, not timing the test
		}
		if time.Now().After(deadline) {
			t.Fatalf("ngircd does not listen on %s after 10 s:\n%s", addr, out.String())
		}
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Notice is a NOTICE or PRIVMSG the reader saw.
type Notice struct {
	From, Target, Text string
	At                 time.Time // when it arrived
}

// Reader is a client sitting in a channel, collecting what is posted.
type Reader struct {
	conn net.Conn
	mu   sync.Mutex
	seen []Notice
	more chan struct{}
}

// Join connects as nick (with the server password, if any), joins
// channel and collects its messages until the test ends.
func Join(t testing.TB, addr, password, nick, channel string) *Reader {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	r := &Reader{conn: c, more: make(chan struct{}, 1)}
	t.Cleanup(func() { _ = c.Close() })
	send := func(line string) { fmt.Fprintf(c, "%s\r\n", line) }
	if password != "" {
		send("PASS " + password)
	}
	send("NICK " + nick)
	send("USER " + nick + " 0 * :incident test reader")
	joined := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(c)
		state := "registering"
		for sc.Scan() {
			line := sc.Text()
			prefix, rest := "", line
			if strings.HasPrefix(line, ":") {
				prefix, rest, _ = strings.Cut(line[1:], " ")
			}
			cmd, args, _ := strings.Cut(rest, " ")
			switch {
			case cmd == "PING":
				send("PONG " + args)
			case cmd == "001" && state == "registering":
				state = "joining"
				send("JOIN " + channel)
			case (cmd == "366" || cmd == "JOIN") && state == "joining":
				state = "in"
				joined <- nil
			case (cmd == "NOTICE" || cmd == "PRIVMSG") && state == "in":
				target, text, _ := strings.Cut(args, " :")
				from, _, _ := strings.Cut(prefix, "!")
				r.mu.Lock()
				r.seen = append(r.seen, Notice{From: from, Target: target, Text: text, At: time.Now()})
				r.mu.Unlock()
				select {
				case r.more <- struct{}{}:
				default:
				}
			case len(cmd) == 3 && cmd[0] >= '4' && state != "in":
				joined <- fmt.Errorf("the server refused: %s", line)
				return
			}
		}
		if state != "in" {
			joined <- fmt.Errorf("the connection closed while %s", state)
		}
	}()
	select {
	case err := <-joined:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("%s did not join %s within 20 s", nick, channel)
	}
	return r
}

// Wait returns the messages seen so far once one from `from` matches
// contains, or fails the test after timeout.
func (r *Reader) Wait(t testing.TB, from, contains string, timeout time.Duration) Notice {
	t.Helper()
	deadline := time.After(timeout)
	for {
		r.mu.Lock()
		for _, n := range r.seen {
			if n.From == from && strings.Contains(n.Text, contains) {
				r.mu.Unlock()
				return n
			}
		}
		r.mu.Unlock()
		select {
		case <-r.more:
		case <-deadline:
			t.Fatalf("no message from %s containing %q within %s; seen: %+v", from, contains, timeout, r.Seen())
		}
	}
}

// Seen returns every message seen, in order.
func (r *Reader) Seen() []Notice {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Notice(nil), r.seen...)
}
