package irc

// The irc pager against a real IRC server: Debian's ngircd, started on a
// free loopback port for the test, with a server password (ngircdtest). A
// second client (this package's own, reading) sits in #ops and reads the
// page back. The test runs whenever /usr/sbin/ngircd (or
// $INCIDENT_IT_NGIRCD) exists and skips otherwise; with INCIDENT_IT_REQUIRE
// set (CI) a missing ngircd fails it instead.

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/incident-cli/incident/pagers"
	"github.com/incident-cli/incident/pagers/irc/ngircdtest"
	"github.com/incident-cli/incident/publishers"
	"github.com/incident-cli/incident/publishers/publisherstest"
)

const ngircdPassword = "ngircd-pass-0123"

func TestNgircd(t *testing.T) {
	addr := startNgircd(t)
	env := map[string]string{"IRC_PASSWORD": ngircdPassword}
	// ngircd paces every client (registration takes it a second, each
	// command after that more), so the checks run side by side.
	t.Run("page read back", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		reader := ngircdPager(t, addr, "reader", env, "")
		rs, err := reader.connect(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer rs.close()
		if _, err := rs.register("reader", rs.password, "", time.Second); err != nil {
			t.Fatalf("reader: register: %v", err)
		}
		if err := rs.join(ctx, "#ops"); err != nil {
			t.Fatalf("reader: join: %v", err)
		}

		p := ngircdPager(t, addr, "incident-pager", env, "[channel.to]\nalice = \"reader\"\n")
		clock := &fakeClock{now: publisherstest.Now}
		p.now, p.sleep = clock.Now, clock.Sleep
		pg := alertPage()
		pg.Person = "alice"
		pg.Summary = "imap01: login failures above 50%\r\nQUIT :injected"
		start := time.Now()
		rec, err := p.Page(ctx, pg)
		if err != nil {
			t.Fatalf("Page: %v", err)
		}
		t.Logf("a page of %s lines to ngircd took %s (connect to QUIT; ngircd's own pacing)", rec.Meta["lines"], time.Since(start).Round(time.Millisecond))
		want := []string{
			"reader: [CRITICAL] IMAP/POP: IMAP/POP login failures",
			"severity critical · IMAP/POP · escalation level 1",
			"Firing since Fri 27 Nov 10:03 UTC (12 min).",
			"imap01: login failures above 50%",
			"QUIT :injected", // text in a NOTICE of its own, not a command
			"Acknowledge: incident ack 2026-11-27-imap-pop-login-failures",
		}
		got := readNotices(t, rs, "incident-pager", len(want))
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("the reader saw:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if rec.ID != "irc://irc.test.local/#ops" || rec.Meta["lines"] != "6" {
			t.Errorf("receipt = %+v", rec)
		}

		// The reader's nick is taken: the pager becomes reader_ and still pages.
		taken := ngircdPager(t, addr, "reader", env, "")
		rec, err = taken.Page(ctx, pagers.Page{Key: "k2", Kind: pagers.KindTest, Now: publisherstest.Now})
		if err != nil || rec.Meta["nick"] != "reader_" {
			t.Fatalf("nick in use: %+v, %v", rec, err)
		}
		if got := readNotices(t, rs, "reader_", 2); got[0] != "[TEST] a test page from incident" {
			t.Errorf("test page: %q", got)
		}
	})
	t.Run("verify", func(t *testing.T) {
		t.Parallel()
		p := ngircdPager(t, addr, "verifier", env, "")
		if who, err := p.Verify(context.Background()); err != nil || who != "irc.test.local accepted verifier (server password)" {
			t.Errorf("Verify = %q, %v", who, err)
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		t.Parallel()
		bad := ngircdPager(t, addr, "bad-pager", map[string]string{"IRC_PASSWORD": "wrong-password-42"}, "")
		_, err := bad.Page(context.Background(), alertPage())
		if err == nil || publishers.Retryable(err) || !strings.Contains(err.Error(), "Bad password") || !strings.Contains(err.Error(), "IRC_PASSWORD") {
			t.Errorf("wrong password: %v", err)
		}
		publisherstest.AssertNoSecret(t, fmt.Sprint(err), "wrong-password-42", ngircdPassword)
	})
}

func ngircdPager(t *testing.T, addr, nick string, secrets map[string]string, extra string) *Pager {
	t.Helper()
	prim, md := publisherstest.Decode(t, fmt.Sprintf("url = \"irc://%s/#ops\"\nnick = %q\npassword = \"env:IRC_PASSWORD\"\n%s", addr, nick, extra))
	pg, err := New(prim, md, publisherstest.Env(t, "irc", secrets))
	if err != nil {
		t.Fatal(err)
	}
	return pg.(*Pager)
}

// readNotices reads NOTICEs to #ops from nick until it has n of them.
func readNotices(t *testing.T, s *conn, nick string, n int) []string {
	t.Helper()
	var got []string
	until := time.Now().Add(10 * time.Second)
	for len(got) < n {
		m, err := s.next(until)
		if err != nil {
			t.Fatalf("reading back (have %d of %d: %q): %v", len(got), n, got, err)
		}
		if m.command == "NOTICE" && m.nick() == nick && m.param(0) == "#ops" {
			got = append(got, m.param(1))
		}
	}
	return got
}

// startNgircd runs ngircd with a server password (see ngircdtest.Start).
func startNgircd(t *testing.T) string { return ngircdtest.Start(t, ngircdPassword) }
