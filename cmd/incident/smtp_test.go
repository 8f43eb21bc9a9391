package main

// The `smtp` script command: an in-process SMTP server (mailertest) that a
// script's runbook sends its email channel to, and checks of what it took.
//
//	smtp start                       start it (login SMTP_USER / SMTP_PASSWORD); set SMTP_URL,
//	                                 SMTP_USER and SMTP_PASSWORD
//	smtp count N                     it took N messages
//	smtp thread                      the messages are one thread: each one's In-Reply-To is the
//	                                 one before, its References every one before, in order
//	smtp show I                      print message I (from 1; -1 the last): its envelope, the
//	                                 headers a list reader sees, the text and the HTML
//	smtp fail STEP CODE N TEXT       answer the next N commands of STEP (AUTH MAIL RCPT DATA)
//	                                 with CODE and TEXT
//	smtp clear                       remove queued faults

import (
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/incident-cli/incident/internal/mailer/mailertest"
)

// scriptSMTP holds each script's SMTP server.
var scriptSMTP sync.Map // *testscript.TestScript -> *mailertest.Server

// problems collects what the server reports, for the checks to fail on.
type problems struct {
	mu   sync.Mutex
	list []string
}

func (p *problems) Errorf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.list = append(p.list, fmt.Sprintf(format, args...))
}

func cmdSMTP(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) == 0 {
		ts.Fatalf("usage: smtp start|count|thread|show|fail|clear ...")
	}
	if args[0] == "start" {
		const user, password = "status@example.com", "smtp-S3CR3T-0123"
		probs := &problems{}
		s := mailertest.NewServer(mailertest.Options{Username: user, Password: password, Reporter: probs})
		scriptSMTP.Store(ts, s)
		scriptProblems.Store(ts, probs)
		ts.Defer(func() { s.Close(); scriptSMTP.Delete(ts); scriptProblems.Delete(ts) })
		ts.Setenv("SMTP_URL", s.URL)
		ts.Setenv("SMTP_USER", user)
		ts.Setenv("SMTP_PASSWORD", password)
		return
	}
	v, ok := scriptSMTP.Load(ts)
	if !ok {
		ts.Fatalf("smtp: run `smtp start` first")
	}
	s := v.(*mailertest.Server)
	pv, _ := scriptProblems.Load(ts)
	probs := pv.(*problems)
	msgs := s.Messages()
	var err error
	switch {
	case args[0] == "count" && len(args) == 2:
		n, _ := strconv.Atoi(args[1])
		if len(msgs) != n {
			err = fmt.Errorf("the server took %d messages, want %d", len(msgs), n)
		}
	case args[0] == "thread" && len(args) == 1:
		var ids []string
		for i, m := range msgs {
			h := m.Header
			if i > 0 && h.Get("In-Reply-To") != ids[i-1] {
				err = fmt.Errorf("message %d: In-Reply-To %q, want %q", i+1, h.Get("In-Reply-To"), ids[i-1])
				break
			}
			if refs := strings.Join(strings.Fields(h.Get("References")), " "); refs != strings.Join(ids, " ") {
				err = fmt.Errorf("message %d: References %q, want %q", i+1, refs, strings.Join(ids, " "))
				break
			}
			ids = append(ids, h.Get("Message-Id"))
		}
	case args[0] == "show" && len(args) == 2:
		i, _ := strconv.Atoi(args[1])
		if i < 0 {
			i += len(msgs) + 1
		}
		if i < 1 || i > len(msgs) {
			ts.Fatalf("smtp show: no message %s (the server took %d)", args[1], len(msgs))
		}
		m := msgs[i-1]
		w := ts.Stdout()
		fmt.Fprintf(w, "envelope: %s -> %s (login %s)\n", m.From, strings.Join(m.To, ", "), m.User)
		for _, h := range []string{"From", "To", "Subject", "Message-Id", "In-Reply-To", "References", "Precedence", "Auto-Submitted", "List-Id", "List-Unsubscribe"} {
			v := m.Header.Get(h)
			if h == "Subject" {
				v = m.Subject
			}
			if v != "" {
				fmt.Fprintf(w, "%s: %s\n", h, v)
			}
		}
		fmt.Fprintf(w, "\n%s\n-- html --\n%s\n", m.Text, m.HTML)
		return
	case args[0] == "fail" && len(args) >= 5:
		code, _ := strconv.Atoi(args[2])
		n, _ := strconv.Atoi(args[3])
		s.Fail(mailertest.Step(args[1]), code, strings.Join(args[4:], " "), n)
		return
	case args[0] == "clear" && len(args) == 1:
		s.Clear()
		return
	default:
		ts.Fatalf("smtp: bad arguments %q", args)
	}
	probs.mu.Lock()
	if err == nil && len(probs.list) > 0 {
		err = fmt.Errorf("protocol problems: %s", strings.Join(probs.list, "; "))
	}
	probs.mu.Unlock()
	if (err == nil) == neg {
		if neg {
			ts.Fatalf("smtp %s: passed, want a failure", strings.Join(args, " "))
		}
		ts.Fatalf("smtp %s: %v", strings.Join(args, " "), err)
	}
}

var scriptProblems sync.Map // *testscript.TestScript -> *problems
