// Command fanout measures how many round trips a publish takes, through the
// real binary: WordPress as the status page and five link channels
// (Discourse, Mastodon, X, Bluesky, a webhook), each a local fake from
// publishers/*/*test that answers every request after the same fixed delay.
// A publish needs two round trips one after the other, the status page
// (its URL is the link) and then every link channel at once; whatever else
// the binary asks first or in between shows as more.
//
// It runs `incident doctor --online` once (it reads the Mastodon instance's
// limit, which then stays in the state directory, and logs in to Bluesky),
// then, round after round, opens an incident and publishes one update to
// it, and prints the median wall time of each in round trips, with the
// requests each service saw. The first open, before doctor, is shown too.
//
//	go run ./bench/fanout                 # 300 ms per call, 5 rounds
//	go run ./bench/fanout -delay 100ms -runs 9
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/incident-cli/incident/publishers/bluesky/blueskytest"
	"github.com/incident-cli/incident/publishers/discourse/discoursetest"
	"github.com/incident-cli/incident/publishers/fakeservice"
	"github.com/incident-cli/incident/publishers/mastodon/mastodontest"
	"github.com/incident-cli/incident/publishers/twitter/twittertest"
	"github.com/incident-cli/incident/publishers/webhook/webhooktest"
	"github.com/incident-cli/incident/publishers/wordpress/wordpresstest"
)

// fake is what the benchmark needs of each service.
type fake interface {
	SetLatency(lo, hi time.Duration)
	Requests() []string
	Problems() []string
	Close()
}

func main() {
	delay := flag.Duration("delay", 300*time.Millisecond, "how long every service takes to answer each request")
	runs := flag.Int("runs", 5, "rounds of open + update (the median is reported)")
	flag.Parse()

	dir, err := os.MkdirTemp("", "incident-fanout-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "incident")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/incident").CombinedOutput(); err != nil {
		log.Fatalf("build: %v\n%s", err, out)
	}

	wp := wordpresstest.NewServer(wordpresstest.Options{Password: wordpresstest.DefaultPassword})
	dc := discoursetest.NewServer(discoursetest.Options{APIKey: discoursetest.DefaultAPIKey})
	md := mastodontest.NewServer(mastodontest.Options{Token: mastodontest.DefaultToken})
	x := twittertest.NewServer(twittertest.Options{ConsumerKey: twittertest.DefaultConsumerKey, ConsumerSecret: twittertest.DefaultConsumerSecret,
		AccessToken: twittertest.DefaultAccessToken, AccessTokenSecret: twittertest.DefaultAccessTokenSecret})
	bs := blueskytest.NewServer(blueskytest.Options{Password: blueskytest.DefaultPassword})
	wh := webhooktest.NewServer(webhooktest.Options{Token: webhooktest.DefaultToken, Path: webhooktest.DefaultPath})
	fakes := []struct {
		name string
		f    fake
	}{{"wordpress", wp}, {"discourse", dc}, {"mastodon", md}, {"x", x}, {"bluesky", bs}, {"webhook", wh}}
	for _, f := range fakes {
		defer f.f.Close()
		f.f.SetLatency(*delay, *delay)
	}

	rb := filepath.Join(dir, "rb")
	must(os.MkdirAll(rb, 0o755))
	must(os.WriteFile(filepath.Join(rb, "incident.toml"), []byte(fmt.Sprintf(runbookTOML,
		wp.URL, wp.User, dc.URL, dc.Username, dc.Category, md.URL, x.URL, bs.URL, bs.Handle)), 0o600))
	env := append(os.Environ(), "INCIDENT_RUNBOOK="+rb, "XDG_STATE_HOME="+filepath.Join(dir, "state"),
		"WP_APP_PASSWORD="+wp.Password, "DISCOURSE_API_KEY="+dc.APIKey, "MASTODON_TOKEN="+md.Token,
		"X_CONSUMER_KEY="+x.ConsumerKey, "X_CONSUMER_SECRET="+x.ConsumerSecret, "X_ACCESS_TOKEN="+x.AccessToken,
		"X_ACCESS_TOKEN_SECRET="+x.AccessTokenSecret, "BLUESKY_APP_PASSWORD="+bs.Password,
		"WEBHOOK_URL="+wh.HookURL, "WEBHOOK_TOKEN="+wh.Token)
	run := func(args ...string) time.Duration {
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		start := time.Now()
		out, err := cmd.CombinedOutput()
		d := time.Since(start)
		if err != nil {
			log.Fatalf("incident %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return d
	}
	seen := func() map[string]int {
		m := map[string]int{}
		for _, f := range fakes {
			m[f.name] = len(f.f.Requests())
		}
		return m
	}
	calls := func(before map[string]int) string {
		var parts []string
		for _, f := range fakes {
			reqs := f.f.Requests()[before[f.name]:]
			parts = append(parts, fmt.Sprintf("%s %d (%s)", f.name, len(reqs), strings.Join(reqs, ", ")))
		}
		return strings.Join(parts, "; ")
	}
	rt := func(d time.Duration) string {
		return fmt.Sprintf("%.2f round trips (%s)", float64(d)/float64(*delay), d.Round(time.Millisecond))
	}

	before := seen()
	first := run("open", "--title", "First ever incident", "--service", "imap", "--message", "Investigating.", "--yes")
	fmt.Printf("first open, nothing in the state dir yet: %s\n  %s\n", rt(first), calls(before))
	run("doctor", "--online")

	var opens, updates []time.Duration
	var openCalls, updateCalls string
	for i := range *runs {
		before = seen()
		id := fmt.Sprintf("%s-imap-pop-login-failures-%d", time.Now().Format("2006-01-02"), i)
		opens = append(opens, run("open", "--title", fmt.Sprintf("IMAP/POP login failures %d", i), "--service", "imap",
			"--message", "We are investigating reports of IMAP and POP login failures.", "--yes"))
		openCalls = calls(before)
		before = seen()
		updates = append(updates, run("update", id, "--status", "identified",
			"--message", "A full disk on the directory server; we are freeing space.", "--yes"))
		updateCalls = calls(before)
	}
	fmt.Printf("open:   median %s, min %s, max %s\n  %s\n", rt(median(opens)), rt(lo(opens)), rt(hi(opens)), openCalls)
	fmt.Printf("update: median %s, min %s, max %s\n  %s\n", rt(median(updates)), rt(lo(updates)), rt(hi(updates)), updateCalls)
	fmt.Printf("(%d rounds, %s per request; the target is 2.2 round trips or less)\n", *runs, *delay)
	for _, f := range fakes {
		if p := f.f.Problems(); len(p) > 0 {
			log.Fatalf("%s saw protocol problems: %q", f.name, p)
		}
	}
}

func sorted(ds []time.Duration) []time.Duration {
	out := append([]time.Duration(nil), ds...)
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func median(ds []time.Duration) time.Duration { return sorted(ds)[len(ds)/2] }
func lo(ds []time.Duration) time.Duration     { return sorted(ds)[0] }
func hi(ds []time.Duration) time.Duration     { return sorted(ds)[len(ds)-1] }

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

var _ fake = (*fakeservice.Faults)(nil)

const runbookTOML = `organization = "Example Mail"
zones = ["Europe/Oslo", "UTC"]

[[service]]
id = "imap"
name = "IMAP/POP"

[status_page]
name = "blog"
type = "wordpress"
url = %q
username = %q
password = "env:WP_APP_PASSWORD"

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

[[channel]]
name = "chat"
type = "webhook"
url = "env:WEBHOOK_URL"
headers = { Authorization = "Bearer env:WEBHOOK_TOKEN", X-Source = "incident" }
`
