package main

// The `pagers` script command: the fakes of the Pushover, Twilio and
// webhook pagers' services and an IRC server (irctest), started in the
// test process for a script's runbook to page, and checks of what they
// took. Email pages go to the `smtp` command's server. The Pushover fake
// reads the script's clock ($INCIDENT_TEST_CLOCK), so its 5-second poll
// limit and its emergencies' expiry follow `clock`.
//
//	pagers start                     start them; set PUSHOVER_URL PUSHOVER_TOKEN PUSHOVER_ALICE
//	                                 PUSHOVER_BOB TWILIO_URL TWILIO_SID TWILIO_TOKEN TWILIO_FROM
//	                                 TWILIO_ALICE TWILIO_BOB PAGER_HOOK_URL PAGER_HOOK_TOKEN IRC_URL,
//	                                 and add every credential (and $SMTP_PASSWORD) to
//	                                 $FAKE_SECRETS for nosecret
//	pagers count NAME N              NAME (pushover, twilio, webhook, irc) took N pages
//	pagers last NAME REGEXP          NAME's latest page matches REGEXP
//	pagers contains NAME I REGEXP    NAME's page I (from 1; -1 the last) matches REGEXP
//	pagers ack PERSON                PERSON (alice, bob) taps Acknowledge on their latest emergency
//	pagers receipts STATE N          N Pushover receipts are repeating|acknowledged|cancelled
//	pagers fail NAME STATUS N BODY   NAME answers the next N requests with STATUS and BODY
//	pagers clear NAME...             remove queued faults
//	pagers dump NAME                 print NAME's pages to stdout
//
// A page as the checks see it: Pushover "priority=P user=NAME\nTITLE\nMESSAGE",
// Twilio "sms to NAME\nBODY" or "call to NAME\nSAID", a webhook page
// "KIND person=NAME level=N urgent=B key=KEY\nSUBJECT\nTEXT", an IRC page
// the lines of one connection.

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/incident-cli/incident/pagers/irc/irctest"
	"github.com/incident-cli/incident/pagers/pushover/pushovertest"
	"github.com/incident-cli/incident/pagers/twilio/twiliotest"
	"github.com/incident-cli/incident/pagers/webhook/webhooktest"
	"github.com/incident-cli/incident/publishers/fakeservice"
)

// pagerFakes is one of each pager fake.
type pagerFakes struct {
	po   *pushovertest.Server
	tw   *twiliotest.Server
	wh   *webhooktest.Server
	irc  *irctest.Server
	prob *problems
	env  map[string]string
}

func startPagerFakes(now func() time.Time) *pagerFakes {
	p := &problems{}
	f := &pagerFakes{prob: p,
		po:  pushovertest.NewServer(pushovertest.Options{Now: now, Reporter: p}),
		tw:  twiliotest.NewServer(twiliotest.Options{Now: now, Reporter: p}),
		wh:  webhooktest.NewServer(webhooktest.Options{Reporter: p}),
		irc: irctest.NewServer(irctest.Options{Reporter: p}),
	}
	f.env = map[string]string{
		"PUSHOVER_URL": f.po.URL, "PUSHOVER_TOKEN": pushovertest.DefaultToken,
		"PUSHOVER_ALICE": pushovertest.AliceKey, "PUSHOVER_BOB": pushovertest.BobKey,
		"TWILIO_URL": f.tw.URL, "TWILIO_SID": twiliotest.DefaultAccountSID, "TWILIO_TOKEN": twiliotest.DefaultAuthToken,
		"TWILIO_FROM": twiliotest.DefaultFrom, "TWILIO_ALICE": twiliotest.AliceNumber, "TWILIO_BOB": twiliotest.BobNumber,
		"PAGER_HOOK_URL": f.wh.HookURL, "PAGER_HOOK_TOKEN": webhooktest.DefaultToken,
		"IRC_URL": f.irc.URL + "/#ops",
	}
	return f
}

func (f *pagerFakes) close() {
	f.po.Close()
	f.tw.Close()
	f.wh.Close()
	f.irc.Close()
}

// person names a user key or number of the fakes.
func person(v string) string {
	switch v {
	case pushovertest.AliceKey, twiliotest.AliceNumber:
		return "alice"
	case pushovertest.BobKey, twiliotest.BobNumber:
		return "bob"
	}
	return v
}

// pages returns what a fake took, as the checks see it, oldest first.
func (f *pagerFakes) pages(name string) ([]string, error) {
	var out []string
	switch name {
	case "pushover":
		for _, m := range f.po.Messages() {
			out = append(out, fmt.Sprintf("priority=%d user=%s\n%s\n%s", m.Priority, person(m.User), m.Title, m.Message))
		}
	case "twilio":
		for _, m := range f.tw.Messages() {
			out = append(out, "sms to "+person(m.To)+"\n"+m.Body)
		}
		for _, c := range f.tw.Calls() {
			out = append(out, "call to "+person(c.To)+"\n"+strings.Join(c.Say, "\n"))
		}
	case "webhook":
		for _, d := range f.wh.Deliveries() {
			out = append(out, fmt.Sprintf("%s person=%s level=%d urgent=%v key=%s\n%s\n%s", d.Kind, d.Person, d.Level, d.Urgent, d.Key, d.Subject, d.Text))
		}
	case "irc":
		byConn := map[int][]string{}
		var conns []int
		for _, l := range f.irc.Lines() {
			cmd, _, _ := strings.Cut(l.Text, " ")
			if cmd != "NOTICE" && cmd != "PRIVMSG" {
				continue
			}
			if _, ok := byConn[l.Conn]; !ok {
				conns = append(conns, l.Conn)
			}
			byConn[l.Conn] = append(byConn[l.Conn], l.Text)
		}
		for _, c := range conns {
			out = append(out, strings.Join(byConn[c], "\n"))
		}
	default:
		return nil, fmt.Errorf("no pager fake %q (pushover, twilio, webhook, irc)", name)
	}
	return out, nil
}

func (f *pagerFakes) faults(name string) (*fakeservice.Faults, error) {
	switch name {
	case "pushover":
		return f.po.Faults, nil
	case "twilio":
		return f.tw.Faults, nil
	case "webhook":
		return f.wh.Faults, nil
	}
	return nil, fmt.Errorf("no faults for %q (pushover, twilio, webhook)", name)
}

var scriptPagers sync.Map // *testscript.TestScript -> *pagerFakes

// scriptClock reads the script's clock file, else the real time.
func scriptClock(path string) func() time.Time {
	return func() time.Time {
		if path == "" {
			return time.Now()
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return time.Now()
		}
		t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(string(b)))
		if err != nil {
			return time.Now()
		}
		return t
	}
}

func cmdPagers(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) == 0 {
		ts.Fatalf("usage: pagers start|count|last|contains|ack|receipts|fail|clear|dump ...")
	}
	if args[0] == "start" {
		f := startPagerFakes(scriptClock(ts.Getenv("INCIDENT_TEST_CLOCK")))
		scriptPagers.Store(ts, f)
		ts.Defer(func() { f.close(); scriptPagers.Delete(ts) })
		for k, v := range f.env {
			ts.Setenv(k, v)
		}
		// Every credential, for nosecret (with the SMTP password when
		// `smtp start` ran first).
		secrets := []string{pushovertest.DefaultToken, pushovertest.AliceKey, pushovertest.BobKey, twiliotest.DefaultAuthToken, webhooktest.DefaultToken}
		for _, k := range []string{"FAKE_SECRETS", "SMTP_PASSWORD"} {
			if v := ts.Getenv(k); v != "" {
				secrets = append(secrets, v)
			}
		}
		ts.Setenv("FAKE_SECRETS", strings.Join(secrets, "\n"))
		return
	}
	v, ok := scriptPagers.Load(ts)
	if !ok {
		ts.Fatalf("pagers: run `pagers start` first")
	}
	f := v.(*pagerFakes)
	check := func(err error) {
		if err == nil {
			f.prob.mu.Lock()
			if len(f.prob.list) > 0 {
				err = fmt.Errorf("protocol problems: %s", strings.Join(f.prob.list, "; "))
			}
			f.prob.mu.Unlock()
		}
		if (err == nil) == neg {
			if neg {
				ts.Fatalf("pagers %s: passed, want a failure", strings.Join(args, " "))
			}
			ts.Fatalf("pagers %s: %v", strings.Join(args, " "), err)
		}
	}
	atoi := func(s string) int {
		n, err := strconv.Atoi(s)
		if err != nil {
			ts.Fatalf("pagers: %q is not a number", s)
		}
		return n
	}
	switch {
	case args[0] == "count" && len(args) == 3:
		ps, err := f.pages(args[1])
		if err == nil && len(ps) != atoi(args[2]) {
			err = fmt.Errorf("%s took %d pages, want %s:\n%s", args[1], len(ps), args[2], strings.Join(ps, "\n---\n"))
		}
		check(err)
	case (args[0] == "last" && len(args) == 3) || (args[0] == "contains" && len(args) == 4):
		idx, pat := -1, args[len(args)-1]
		if args[0] == "contains" {
			idx = atoi(args[2])
		}
		re, err := regexp.Compile(pat)
		ts.Check(err)
		ps, err := f.pages(args[1])
		if err == nil {
			i := idx - 1
			if idx < 0 {
				i = len(ps) + idx
			}
			switch {
			case i < 0 || i >= len(ps):
				err = fmt.Errorf("%s took %d pages, no page %d", args[1], len(ps), idx)
			case !re.MatchString(ps[i]):
				err = fmt.Errorf("%s page %d does not match %s:\n%s", args[1], i+1, pat, ps[i])
			}
		}
		check(err)
	case args[0] == "ack" && len(args) == 2:
		key := map[string]string{"alice": pushovertest.AliceKey, "bob": pushovertest.BobKey}[args[1]]
		var last string
		for _, r := range f.po.Receipts() {
			if r.User == key {
				last = r.ID
			}
		}
		if last == "" {
			ts.Fatalf("pagers ack: no emergency went to %s", args[1])
		}
		ts.Check(f.po.Acknowledge(last, key, "phone"))
	case args[0] == "receipts" && len(args) == 3:
		n := 0
		for _, r := range f.po.Receipts() {
			switch args[1] {
			case "repeating":
				if r.Repeating(scriptClock(ts.Getenv("INCIDENT_TEST_CLOCK"))()) {
					n++
				}
			case "acknowledged":
				if r.Acknowledged {
					n++
				}
			case "cancelled":
				if r.Cancelled {
					n++
				}
			default:
				ts.Fatalf("pagers receipts: repeating, acknowledged or cancelled")
			}
		}
		var err error
		if n != atoi(args[2]) {
			err = fmt.Errorf("%d receipts %s, want %s", n, args[1], args[2])
		}
		check(err)
	case args[0] == "fail" && len(args) == 5:
		fs, err := f.faults(args[1])
		ts.Check(err)
		fs.Inject(fakeservice.Fault{Mode: fakeservice.Answer, Status: atoi(args[2]), Times: atoi(args[3]), Body: args[4]})
	case args[0] == "clear":
		for _, n := range args[1:] {
			fs, err := f.faults(n)
			ts.Check(err)
			fs.Clear()
		}
	case args[0] == "dump" && len(args) == 2:
		ps, err := f.pages(args[1])
		ts.Check(err)
		for i, p := range ps {
			fmt.Fprintf(ts.Stdout(), "--- %s %d\n%s\n", args[1], i+1, p)
		}
	default:
		ts.Fatalf("pagers: bad arguments %q", args)
	}
}
