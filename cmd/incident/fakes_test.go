package main

// The fake services of every HTTP channel, started in the test process for
// the scripts (`fakes`) and for the Go tests of this package (fault matrix,
// crash test, secrets test). The binary the scripts run reaches them on
// loopback.

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/incident-cli/incident/publishers/bluesky/blueskytest"
	"github.com/incident-cli/incident/publishers/discourse/discoursetest"
	"github.com/incident-cli/incident/publishers/fakeservice"
	"github.com/incident-cli/incident/publishers/mastodon/mastodontest"
	"github.com/incident-cli/incident/publishers/statuspage/statuspagetest"
	"github.com/incident-cli/incident/publishers/twitter/twittertest"
	"github.com/incident-cli/incident/publishers/webhook/webhooktest"
	"github.com/incident-cli/incident/publishers/wordpress/wordpresstest"
)

// fakeNames are the fakes, in the order they are reported.
var fakeNames = []string{"wordpress", "statuspage", "discourse", "mastodon", "webhook", "twitter", "bluesky"}

// fakeSet is one of each fake service.
type fakeSet struct {
	wp *wordpresstest.Server
	sp *statuspagetest.Server
	dc *discoursetest.Server
	md *mastodontest.Server
	wh *webhooktest.Server
	x  *twittertest.Server
	bs *blueskytest.Server

	env map[string]string // what the runbooks' env: references name
}

// faultable is what every fake offers to inject faults.
type faultable interface {
	Inject(f fakeservice.Fault)
	Fail(status int, body string, headers map[string]string, times int)
	Hang(times int)
	Malformed(times int)
	DropAnswer(times int)
	Clear()
	SetLatency(lo, hi time.Duration)
	Problems() []string
	Requests() []string
	Close()
}

// fakeOptions configure startFakes.
type fakeOptions struct {
	// Marker, when set, makes every credential a distinctive value starting
	// with it ("S3CR3T-wp-6f1d..."), and the webhook's path one too, for
	// leak tests.
	Marker   string
	Reporter fakeservice.Reporter // nil in scripts
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// startFakes starts one of each fake. The caller closes them (close).
func startFakes(o fakeOptions) *fakeSet {
	cred := func(kind, def string) string {
		if o.Marker == "" {
			return def
		}
		return o.Marker + "-" + kind + "-" + randomHex(6)
	}
	hookPath := webhooktest.DefaultPath
	if o.Marker != "" {
		hookPath = "/hooks/" + cred("hookpath", "") + "/"
	}
	s := &fakeSet{
		wp: wordpresstest.NewServer(wordpresstest.Options{Password: cred("wp", wordpresstest.DefaultPassword), Reporter: o.Reporter}),
		sp: statuspagetest.NewServer(statuspagetest.Options{APIKey: cred("statuspage", statuspagetest.DefaultAPIKey), Reporter: o.Reporter}),
		dc: discoursetest.NewServer(discoursetest.Options{APIKey: cred("discourse", discoursetest.DefaultAPIKey), Reporter: o.Reporter}),
		md: mastodontest.NewServer(mastodontest.Options{Token: cred("mastodon", mastodontest.DefaultToken), Reporter: o.Reporter}),
		wh: webhooktest.NewServer(webhooktest.Options{Token: cred("webhook", webhooktest.DefaultToken), Path: hookPath, Reporter: o.Reporter}),
		x: twittertest.NewServer(twittertest.Options{ConsumerKey: cred("xck", twittertest.DefaultConsumerKey),
			ConsumerSecret: cred("xcs", twittertest.DefaultConsumerSecret), AccessToken: cred("xat", twittertest.DefaultAccessToken),
			AccessTokenSecret: cred("xats", twittertest.DefaultAccessTokenSecret), Reporter: o.Reporter}),
		bs: blueskytest.NewServer(blueskytest.Options{Password: cred("bluesky", blueskytest.DefaultPassword), Reporter: o.Reporter}),
	}
	s.env = map[string]string{
		"WP_URL":                s.wp.URL,
		"WP_USER":               s.wp.User,
		"WP_APP_PASSWORD":       s.wp.Password,
		"STATUSPAGE_URL":        s.sp.URL,
		"STATUSPAGE_PAGE_ID":    s.sp.PageID,
		"STATUSPAGE_API_KEY":    s.sp.APIKey,
		"DISCOURSE_URL":         s.dc.URL,
		"DISCOURSE_USER":        s.dc.Username,
		"DISCOURSE_API_KEY":     s.dc.APIKey,
		"DISCOURSE_CATEGORY":    strconv.Itoa(s.dc.Category),
		"MASTODON_URL":          s.md.URL,
		"MASTODON_TOKEN":        s.md.Token,
		"WEBHOOK_URL":           s.wh.HookURL,
		"WEBHOOK_TOKEN":         s.wh.Token,
		"X_URL":                 s.x.URL,
		"X_CONSUMER_KEY":        s.x.ConsumerKey,
		"X_CONSUMER_SECRET":     s.x.ConsumerSecret,
		"X_ACCESS_TOKEN":        s.x.AccessToken,
		"X_ACCESS_TOKEN_SECRET": s.x.AccessTokenSecret,
		"BLUESKY_URL":           s.bs.URL,
		"BLUESKY_IDENTIFIER":    s.bs.Handle,
		"BLUESKY_APP_PASSWORD":  s.bs.Password,
	}
	return s
}

// secrets are the credential values (for leak checks), with the forms they
// travel in (HTTP Basic's base64).
func (s *fakeSet) secrets() []string {
	out := []string{s.wp.Password, s.sp.APIKey, s.dc.APIKey, s.md.Token, s.wh.Token, strings.TrimPrefix(s.wh.HookURL, s.wh.URL),
		s.x.ConsumerKey, s.x.ConsumerSecret, s.x.AccessToken, s.x.AccessTokenSecret, s.bs.Password}
	out = append(out, base64.StdEncoding.EncodeToString([]byte(s.wp.User+":"+s.wp.Password)))
	return out
}

func (s *fakeSet) get(name string) (faultable, error) {
	switch name {
	case "wordpress":
		return s.wp, nil
	case "statuspage":
		return s.sp, nil
	case "discourse":
		return s.dc, nil
	case "mastodon":
		return s.md, nil
	case "webhook":
		return s.wh, nil
	case "twitter":
		return s.x, nil
	case "bluesky":
		return s.bs, nil
	}
	return nil, fmt.Errorf("no fake %q (one of %s)", name, strings.Join(fakeNames, ", "))
}

func (s *fakeSet) close() {
	for _, n := range fakeNames {
		f, _ := s.get(n)
		f.Close()
	}
}

// problems lists every protocol problem any fake saw.
func (s *fakeSet) problems() []string {
	var out []string
	for _, n := range fakeNames {
		f, _ := s.get(n)
		for _, p := range f.Problems() {
			out = append(out, n+": "+p)
		}
	}
	return out
}

// fakePost is one thing a fake holds, as the checks see it.
type fakePost struct {
	ID       string
	Text     string
	Thread   string // discourse topic, webhook/bluesky thread root ("" for a root)
	Parent   string // what it replies to ("" for none)
	Key      string // idempotency key or marker
	Incident string // webhook: the incident id
	Kind     string // webhook: update or rfo
}

// posts returns what a fake holds, oldest first: WordPress posts,
// Statuspage incident updates (oldest first, every incident), Discourse
// posts, Mastodon statuses, webhook deliveries, X posts (which carry no
// key: X has none), Bluesky records (keyed by their record key).
func (s *fakeSet) posts(name string) ([]fakePost, error) {
	var out []fakePost
	switch name {
	case "wordpress":
		for _, p := range s.wp.Posts() {
			out = append(out, fakePost{ID: fmt.Sprint(p.ID), Text: p.Title + "\n" + p.Content + "\n" + p.Link, Key: p.Slug})
		}
	case "statuspage":
		for _, inc := range s.sp.Incidents() {
			for i := len(inc.Updates) - 1; i >= 0; i-- {
				u := inc.Updates[i]
				out = append(out, fakePost{ID: u.ID, Text: u.Status + ": " + u.Body, Thread: inc.ID, Key: inc.ID + "/" + u.Status + "/" + u.Body})
			}
			if pm, ok := s.sp.Postmortem(inc.ID); ok && pm.PublishedAt != "" {
				out = append(out, fakePost{ID: inc.ID + "/postmortem", Text: "postmortem: " + pm.Body, Thread: inc.ID, Key: inc.ID + "/postmortem"})
			}
		}
	case "discourse":
		for _, p := range s.dc.Posts() {
			out = append(out, fakePost{ID: fmt.Sprint(p.ID), Text: p.Raw, Thread: fmt.Sprint(p.TopicID), Parent: strconv.Itoa(p.PostNumber), Key: p.Marker})
		}
	case "mastodon":
		for _, st := range s.md.Statuses() {
			out = append(out, fakePost{ID: st.ID, Text: st.Text, Parent: st.InReplyTo, Key: st.IdempotencyKey})
		}
	case "webhook":
		for _, d := range s.wh.Deliveries() {
			out = append(out, fakePost{ID: d.ID, Text: d.Text, Thread: d.ThreadID, Parent: d.ParentID, Key: d.IdempotencyKey, Incident: d.Incident.ID, Kind: d.Kind})
		}
	case "twitter":
		for _, p := range s.x.Posts() {
			out = append(out, fakePost{ID: p.ID, Text: p.Text, Parent: p.ReplyTo})
		}
	case "bluesky":
		for _, rec := range s.bs.Records() {
			root, parent := rec.Reply()
			out = append(out, fakePost{ID: rec.URI, Text: rec.Text(), Thread: root, Parent: parent, Key: rec.Rkey})
		}
	default:
		return nil, fmt.Errorf("no fake %q (one of %s)", name, strings.Join(fakeNames, ", "))
	}
	return out, nil
}

// count is `fakes count NAME [WHAT]`.
func (s *fakeSet) count(name, what string) (int, error) {
	switch name + " " + what {
	case "discourse topics":
		t, _ := s.dc.Counts()
		return t, nil
	case "statuspage incidents":
		return len(s.sp.Incidents()), nil
	case "statuspage postmortems":
		n := 0
		for _, inc := range s.sp.Incidents() {
			if pm, ok := s.sp.Postmortem(inc.ID); ok && pm.PublishedAt != "" {
				n++
			}
		}
		return n, nil
	case "statuspage updates":
		n := 0
		for _, inc := range s.sp.Incidents() {
			n += len(inc.Updates)
		}
		return n, nil
	}
	if what != "" && what != "posts" {
		return 0, fmt.Errorf("cannot count %s on %s", what, name)
	}
	ps, err := s.posts(name)
	return len(ps), err
}

// threaded checks that a fake's posts thread: Discourse posts are numbered
// 1, 2, ... in their topic; every Mastodon status and X post after a
// thread's first replies to the one before it (in_reply_to_id,
// reply.in_reply_to_tweet_id); every Bluesky post after a thread's first
// names the first as its reply root and the one before as its parent; every
// webhook delivery after an incident's first names the first as thread_id
// and the one before as parent_id.
func (s *fakeSet) threaded(name string) error {
	ps, err := s.posts(name)
	if err != nil {
		return err
	}
	if len(ps) == 0 {
		return fmt.Errorf("%s holds nothing", name)
	}
	switch name {
	case "discourse":
		next := map[string]int{}
		for _, p := range ps {
			next[p.Thread]++
			if p.Parent != strconv.Itoa(next[p.Thread]) {
				return fmt.Errorf("discourse post %s is number %s in topic %s, want %d", p.ID, p.Parent, p.Thread, next[p.Thread])
			}
		}
	case "mastodon", "twitter":
		for i, p := range ps {
			if p.Parent == "" {
				continue // a new thread (a new incident)
			}
			if i == 0 || p.Parent != ps[i-1].ID {
				return fmt.Errorf("%s post %s (%q) replies to %q, want the post before it", name, p.ID, p.Text, p.Parent)
			}
		}
		if ps[0].Parent != "" {
			return fmt.Errorf("the first %s post replies to %s", name, ps[0].Parent)
		}
	case "bluesky":
		root := ""
		for i, p := range ps {
			switch {
			case p.Thread == "" && p.Parent == "":
				root = p.ID // a new thread (a new incident)
			case i == 0 || p.Thread != root || p.Parent != ps[i-1].ID:
				return fmt.Errorf("bluesky post %s (%q) has reply root %q parent %q, want %q and the post before it", p.ID, p.Text, p.Thread, p.Parent, root)
			}
		}
	case "webhook":
		// A delivery is known to incident by the id the receiver answered,
		// or by its key when the answer held none it could read.
		first, last := map[string]fakePost{}, map[string]fakePost{}
		is := func(id string, p fakePost) bool { return id == p.ID || id == p.Key }
		for _, p := range ps {
			if f, ok := first[p.Incident]; !ok {
				if p.Thread != "" || p.Parent != "" {
					return fmt.Errorf("webhook delivery %s, the first of %s, has thread_id %q parent_id %q", p.ID, p.Incident, p.Thread, p.Parent)
				}
				first[p.Incident] = p
			} else if !is(p.Thread, f) || !is(p.Parent, last[p.Incident]) {
				return fmt.Errorf("webhook delivery %s has thread_id %q parent_id %q, want %q and %q", p.ID, p.Thread, p.Parent, f.ID, last[p.Incident].ID)
			}
			last[p.Incident] = p
		}
	default:
		return fmt.Errorf("%s does not thread", name)
	}
	return nil
}

var (
	wpHeading = regexp.MustCompile(`<h3[^>]*>[^<]*</h3>`)
	wpSuffix  = regexp.MustCompile(`^(.*)-\d+$`)
)

// once checks that no fake holds the same update twice: idempotency keys
// and markers are unique (and present), texts are unique, a WordPress slug
// was never taken twice (WordPress would have made it slug-2) and no status
// post lists an update twice, and no Statuspage incident shows the same
// update twice.
func (s *fakeSet) once(name string) error {
	ps, err := s.posts(name)
	if err != nil {
		return err
	}
	keys, texts := map[string]string{}, map[string]string{}
	for _, p := range ps {
		if name == "twitter" { // X has no key: the texts must differ (and X refuses a repeated text)
			if o, ok := texts[p.Text]; ok {
				return fmt.Errorf("%s holds the same text twice (posts %s and %s): %q", name, o, p.ID, p.Text)
			}
			texts[p.Text] = p.ID
			continue
		}
		if p.Key == "" && name != "webhook" {
			return fmt.Errorf("%s: post %s carries no idempotency key or marker: %q", name, p.ID, p.Text)
		}
		if o, ok := keys[p.Key]; ok {
			return fmt.Errorf("%s holds %s twice (posts %s and %s): %q", name, p.Key, o, p.ID, p.Text)
		}
		keys[p.Key] = p.ID
		if name == "wordpress" || name == "statuspage" {
			continue
		}
		if o, ok := texts[p.Text]; ok {
			return fmt.Errorf("%s holds the same text twice (posts %s and %s): %q", name, o, p.ID, p.Text)
		}
		texts[p.Text] = p.ID
	}
	switch name {
	case "wordpress":
		for _, p := range s.wp.Posts() {
			if m := wpSuffix.FindStringSubmatch(p.Slug); m != nil && keys[m[1]] != "" {
				return fmt.Errorf("wordpress holds post %d with slug %s: the post with slug %s was created twice", p.ID, p.Slug, m[1])
			}
			seen := map[string]bool{}
			for _, h := range wpHeading.FindAllString(p.Content, -1) {
				if seen[h] {
					return fmt.Errorf("wordpress post %d lists %s twice", p.ID, h)
				}
				seen[h] = true
			}
		}
	case "webhook":
		seen := map[string]string{}
		for _, d := range s.wh.Deliveries() {
			k := fmt.Sprintf("%s/%s/%d", d.Incident.ID, d.Kind, d.Update.Number)
			if o, ok := seen[k]; ok && d.Kind != "rfo" {
				return fmt.Errorf("webhook took update %s twice (%s and %s)", k, o, d.ID)
			}
			seen[k] = d.ID
		}
	}
	return nil
}

// scriptFakes holds each script's fakes.
var scriptFakes sync.Map // *testscript.TestScript -> *fakeSet

// cmdEnvsubst FILE... replaces $NAME and ${NAME} in each FILE with the
// script's environment (a runbook's incident.toml names the fakes' URLs).
func cmdEnvsubst(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: envsubst FILE...")
	}
	re := regexp.MustCompile(`\$\{(\w+)\}|\$(\w+)`)
	for _, f := range args {
		text := re.ReplaceAllStringFunc(ts.ReadFile(f), func(m string) string {
			sub := re.FindStringSubmatch(m)
			name := sub[1] + sub[2]
			v := ts.Getenv(name)
			if v == "" {
				ts.Fatalf("envsubst: %s: $%s is not set", f, name)
			}
			return v
		})
		ts.Check(os.WriteFile(ts.MkAbs(f), []byte(text), 0o644))
	}
}

// cmdFakes drives the fake services; see script_test.go's header.
func cmdFakes(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) == 0 {
		ts.Fatalf("usage: fakes start|count|links|last|contains|thread|once|fail|echo|hang|clear|dump ...")
	}
	if args[0] == "start" {
		if neg {
			ts.Fatalf("fakes start cannot be negated")
		}
		o := fakeOptions{}
		if len(args) == 3 && args[1] == "-marker" {
			o.Marker = args[2]
		} else if len(args) != 1 {
			ts.Fatalf("usage: fakes start [-marker PREFIX]")
		}
		s := startFakes(o)
		scriptFakes.Store(ts, s)
		ts.Defer(func() { s.close(); scriptFakes.Delete(ts) })
		for k, v := range s.env {
			ts.Setenv(k, v)
		}
		if o.Marker != "" {
			ts.Setenv("FAKE_SECRETS", strings.Join(s.secrets(), "\n"))
		}
		return
	}
	v, ok := scriptFakes.Load(ts)
	if !ok {
		ts.Fatalf("fakes: run `fakes start` first")
	}
	s := v.(*fakeSet)
	// Every check also requires that no fake saw a protocol problem.
	check := func(err error) {
		if err == nil {
			if p := s.problems(); len(p) > 0 {
				err = fmt.Errorf("protocol problems: %s", strings.Join(p, "; "))
			}
		}
		if (err == nil) == neg {
			if neg {
				ts.Fatalf("fakes %s: passed, want a failure", strings.Join(args, " "))
			}
			ts.Fatalf("fakes %s: %v", strings.Join(args, " "), err)
		}
	}
	argn := func(n int, usage string) {
		if len(args) != n {
			ts.Fatalf("usage: fakes %s", usage)
		}
	}
	atoi := func(x string) int {
		n, err := strconv.Atoi(x)
		if err != nil {
			ts.Fatalf("fakes: %q is not a number", x)
		}
		return n
	}
	switch args[0] {
	case "count": // count NAME [WHAT] N
		if len(args) != 3 && len(args) != 4 {
			ts.Fatalf("usage: fakes count NAME [posts|topics|incidents|updates|postmortems] N")
		}
		what := ""
		if len(args) == 4 {
			what = args[2]
		}
		want := atoi(args[len(args)-1])
		got, err := s.count(args[1], what)
		if err == nil && got != want {
			err = fmt.Errorf("%s holds %d %s, want %d", args[1], got, orDefault(what, "posts"), want)
		}
		check(err)
	case "links": // links NAME URL: every post holds URL
		argn(3, "links NAME URL")
		ps, err := s.posts(args[1])
		if err == nil && len(ps) == 0 {
			err = fmt.Errorf("%s holds nothing", args[1])
		}
		for _, p := range ps {
			if err == nil && !strings.Contains(p.Text, args[2]) {
				err = fmt.Errorf("%s post %s does not link to %s: %q", args[1], p.ID, args[2], p.Text)
			}
		}
		check(err)
	case "last", "contains": // last NAME REGEXP | contains NAME N REGEXP (N from 1; -1 the last)
		name, idx, pat := args[1], -1, ""
		if args[0] == "last" {
			argn(3, "last NAME REGEXP")
			pat = args[2]
		} else {
			argn(4, "contains NAME N REGEXP")
			idx, pat = atoi(args[2]), args[3]
		}
		re, err := regexp.Compile(pat)
		ts.Check(err)
		ps, err := s.posts(name)
		if err == nil {
			i := idx - 1
			if idx < 0 {
				i = len(ps) + idx
			}
			if i < 0 || i >= len(ps) {
				err = fmt.Errorf("%s holds %d posts, no post %d", name, len(ps), idx)
			} else if !re.MatchString(ps[i].Text) {
				err = fmt.Errorf("%s post %s does not match %s: %q", name, ps[i].ID, pat, ps[i].Text)
			}
		}
		check(err)
	case "thread": // thread NAME...
		var err error
		for _, n := range args[1:] {
			if err == nil {
				err = s.threaded(n)
			}
		}
		check(err)
	case "once": // once [NAME...]: every fake when none is named
		names := args[1:]
		if len(names) == 0 {
			names = fakeNames
		}
		var err error
		for _, n := range names {
			if err == nil {
				err = s.once(n)
			}
		}
		check(err)
	case "fail", "echo": // fail NAME [METHOD] STATUS TIMES BODY; echo: the body also echoes the credentials sent
		if neg {
			ts.Fatalf("fakes %s cannot be negated", args[0])
		}
		method := ""
		if len(args) == 6 {
			method, args = args[2], append(args[:2:2], args[3:]...)
		}
		argn(5, args[0]+" NAME [METHOD] STATUS TIMES BODY")
		f, err := s.get(args[1])
		ts.Check(err)
		f.Inject(fakeservice.Fault{Mode: fakeservice.Answer, Method: method, Status: atoi(args[2]), Times: atoi(args[3]), Body: args[4], EchoAuth: args[0] == "echo"})
	case "hang", "malformed", "drop": // hang|malformed|drop NAME TIMES
		if neg {
			ts.Fatalf("fakes %s cannot be negated", args[0])
		}
		argn(3, args[0]+" NAME TIMES")
		f, err := s.get(args[1])
		ts.Check(err)
		map[string]func(int){"hang": f.Hang, "malformed": f.Malformed, "drop": f.DropAnswer}[args[0]](atoi(args[2]))
	case "clear": // clear NAME...
		for _, n := range args[1:] {
			f, err := s.get(n)
			ts.Check(err)
			f.Clear()
		}
	case "components": // components statuspage CMP=STATUS...: the latest incident's component statuses
		if len(args) < 3 || args[1] != "statuspage" {
			ts.Fatalf("usage: fakes components statuspage CMP=STATUS...")
		}
		incs := s.sp.Incidents()
		var err error
		if len(incs) == 0 {
			err = errors.New("statuspage holds no incident")
		}
		for _, kv := range args[2:] {
			cmp, want, _ := strings.Cut(kv, "=")
			if err == nil && incs[len(incs)-1].Components[cmp] != want {
				err = fmt.Errorf("statuspage component %s is %q, want %q (components %v)", cmp, incs[len(incs)-1].Components[cmp], want, incs[len(incs)-1].Components)
			}
		}
		check(err)
	case "scheduled": // scheduled statuspage FOR UNTIL: the latest incident is a scheduled maintenance of that window, Statuspage's own reminder and transitions off
		if len(args) != 4 || args[1] != "statuspage" {
			ts.Fatalf("usage: fakes scheduled statuspage FOR UNTIL")
		}
		incs := s.sp.Incidents()
		var err error
		switch {
		case len(incs) == 0:
			err = errors.New("statuspage holds no incident")
		case incs[len(incs)-1].Scheduled == nil:
			err = fmt.Errorf("statuspage incident %s is not a scheduled maintenance", incs[len(incs)-1].ID)
		}
		if err == nil {
			sc := incs[len(incs)-1].Scheduled
			off := func(b *bool) bool { return b != nil && !*b }
			if got := sc.For.UTC().Format(time.RFC3339) + " " + sc.Until.UTC().Format(time.RFC3339); got != args[2]+" "+args[3] {
				err = fmt.Errorf("statuspage maintenance window %s, want %s %s", got, args[2], args[3])
			} else if !off(sc.RemindPrior) || !off(sc.AutoInProgress) || !off(sc.AutoCompleted) || !off(sc.AutoToMaintenance) || !off(sc.AutoToOperational) {
				err = fmt.Errorf("statuspage maintenance %+v: its own reminder and transitions must be sent off", sc)
			}
		}
		check(err)
	case "dump": // dump NAME: what it holds, to stdout
		argn(2, "dump NAME")
		ps, err := s.posts(args[1])
		ts.Check(err)
		for _, p := range ps {
			fmt.Fprintf(ts.Stdout(), "--- %s id=%s thread=%s parent=%s key=%s\n%s\n", args[1], p.ID, p.Thread, p.Parent, p.Key, p.Text)
		}
	default:
		ts.Fatalf("fakes: unknown subcommand %q", args[0])
	}
}

func orDefault(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// cmdNosecret DIR... requires that no value in $FAKE_SECRETS (set by `fakes
// start -marker`) appears in the last command's stdout or stderr, nor in any
// file under the DIRs.
func cmdNosecret(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("usage: nosecret [DIR...]")
	}
	var secrets []string
	for _, s := range strings.Split(ts.Getenv("FAKE_SECRETS"), "\n") {
		if s != "" {
			secrets = append(secrets, s)
		}
	}
	if len(secrets) == 0 {
		ts.Fatalf("nosecret: $FAKE_SECRETS is empty: run `fakes start -marker PREFIX` first")
	}
	found := func(where, text string) {
		for _, s := range secrets {
			if strings.Contains(text, s) {
				ts.Fatalf("nosecret: %s holds the secret %s", where, s)
			}
		}
	}
	found("stdout", ts.ReadFile("stdout"))
	found("stderr", ts.ReadFile("stderr"))
	n := 0
	for _, d := range args {
		root := ts.MkAbs(d)
		err := filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
			if errors.Is(err, fs.ErrNotExist) && p == root {
				return fs.SkipAll
			}
			if err != nil || e.IsDir() {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			n++
			found(p, string(b))
			return nil
		})
		ts.Check(err)
	}
	if len(args) > 0 {
		fmt.Fprintf(ts.Stdout(), "%d files checked\n", n)
	}
}

// runbookTOML is a runbook's incident.toml for the fakes: statusPage
// ("wordpress" or "statuspage") and the discourse, mastodon and webhook link
// channels, every secret an env: reference to a variable of s.env.
func (s *fakeSet) runbookTOML(statusPage string) string {
	var b strings.Builder
	b.WriteString(`organization = "Example Mail"
zones = ["Europe/Oslo", "UTC"]

[[service]]
id = "imap"
name = "IMAP/POP"

[[service]]
id = "smtp"
name = "Outgoing mail (SMTP)"
`)
	switch statusPage {
	case "wordpress":
		fmt.Fprintf(&b, `
[status_page]
name = "blog"
type = "wordpress"
url = %q
username = %q
password = "env:WP_APP_PASSWORD"
`, s.wp.URL, s.wp.User)
	case "statuspage":
		fmt.Fprintf(&b, `
[status_page]
name = "status"
type = "statuspage"
url = %q
page_id = %q
api_key = "env:STATUSPAGE_API_KEY"

[status_page.components]
imap = "cmp_imap"
smtp = "cmp_smtp"
`, s.sp.URL, s.sp.PageID)
	default:
		panic("status page " + statusPage)
	}
	fmt.Fprintf(&b, `
[[channel]]
name = "community"
type = "discourse"
url = %q
username = %q
api_key = "env:DISCOURSE_API_KEY"
category = %d

[[channel]]
name = "mastodon"
type = "mastodon"
url = %q
access_token = "env:MASTODON_TOKEN"

[[channel]]
name = "chat"
type = "webhook"
url = "env:WEBHOOK_URL"
headers = { Authorization = "Bearer env:WEBHOOK_TOKEN", X-Source = "incident" }
`, s.dc.URL, s.dc.Username, s.dc.Category, s.md.URL)
	return b.String()
}

// linkFakes maps the link channels' names in runbookTOML to their fakes.
var linkFakes = map[string]string{"community": "discourse", "mastodon": "mastodon", "chat": "webhook"}

// socialTOML is the x (type twitter) and bluesky channels' tables for the
// fakes, to append to runbookTOML's; socialFakes maps them to their fakes.
func (s *fakeSet) socialTOML() string {
	return fmt.Sprintf(`
[[channel]]
name = "x"
type = "twitter"
url = %q
consumer_key = "env:X_CONSUMER_KEY"
consumer_secret = "env:X_CONSUMER_SECRET"
access_token = "env:X_ACCESS_TOKEN"
access_token_secret = "env:X_ACCESS_TOKEN_SECRET"

[[channel]]
name = "bluesky"
type = "bluesky"
url = %q
identifier = %q
app_password = "env:BLUESKY_APP_PASSWORD"
`, s.x.URL, s.bs.URL, s.bs.Handle)
}

var socialFakes = map[string]string{"x": "twitter", "bluesky": "bluesky"}
