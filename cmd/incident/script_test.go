package main

// End-to-end tests of the real binary: testscript runs the scripts under
// testdata/script, each one a scenario a responder could type, against
// `incident` built from this package (TestMain re-executes the test binary
// as the command).
//
//	go test ./cmd/incident/ -run TestScripts
//	go test ./cmd/incident/ -run TestScripts/escaping -v
//	go test ./cmd/incident/ -run TestScripts -update   # rewrite cmp golden files
//
// Custom script commands (beyond testscript's builtins):
//
//	exitcode N PROG [ARGS...]        run PROG like exec and require exit status N
//	capture VAR FILE REGEXP          set $VAR to REGEXP's first group in FILE (or stdout/stderr)
//	countfiles DIR GLOB N            DIR holds exactly N entries matching GLOB
//	atomvalid FILE                   FILE is an Atom feed with feed/entry id and updated
//	jsonpath FILE PATH [VALUE]       FILE's JSON has PATH (a.0.b), equal to VALUE if given
//	snapshot NAME DIR...             remember every file (name and content) under the DIRs
//	unchanged NAME DIR...            the DIRs hold exactly what snapshot NAME saw
//	envsubst FILE...                 replace $NAME and ${NAME} in each FILE with the environment
//
// The fake services of every HTTP channel (fakes_test.go), started in the
// test process for the binary to reach on loopback and stopped with the
// script. Each check also fails when a fake saw a request the real service
// would refuse as malformed (a protocol problem).
//
//	fakes start [-marker PREFIX]     start the wordpress, statuspage, discourse, mastodon,
//	                                 webhook, twitter (X) and bluesky fakes; set WP_URL WP_USER
//	                                 WP_APP_PASSWORD STATUSPAGE_URL STATUSPAGE_PAGE_ID STATUSPAGE_API_KEY
//	                                 DISCOURSE_URL DISCOURSE_USER DISCOURSE_API_KEY DISCOURSE_CATEGORY
//	                                 MASTODON_URL MASTODON_TOKEN WEBHOOK_URL WEBHOOK_TOKEN
//	                                 X_URL X_CONSUMER_KEY X_CONSUMER_SECRET X_ACCESS_TOKEN
//	                                 X_ACCESS_TOKEN_SECRET BLUESKY_URL BLUESKY_IDENTIFIER
//	                                 BLUESKY_APP_PASSWORD;
//	                                 with -marker every credential (and the webhook's path) is a
//	                                 distinctive value starting with PREFIX, all listed in
//	                                 $FAKE_SECRETS (one a line, with WordPress's Basic form)
//	fakes count NAME [WHAT] N        NAME holds N posts (discourse topics, statuspage incidents,
//	                                 updates or postmortems)
//	fakes links NAME URL             every post NAME holds contains URL
//	fakes last NAME REGEXP           NAME's latest post matches REGEXP
//	fakes contains NAME I REGEXP     NAME's post I (from 1; -1 the last) matches REGEXP
//	fakes thread NAME...             the posts thread (topic, replies, thread_id/parent_id,
//	                                 X's in_reply_to_tweet_id, Bluesky's reply root/parent)
//	fakes once [NAME...]             no fake holds an update twice (keys, markers, slugs, texts)
//	fakes fail|echo NAME [METHOD] STATUS N BODY   answer the next N requests (with METHOD) with
//	                                 STATUS and BODY (echo: followed by the credential headers
//	                                 the request carried)
//	fakes hang|malformed|drop NAME N the next N requests hang / get a cut JSON answer / are
//	                                 stored but their answer is lost (drop: writes only)
//	fakes clear NAME...              remove queued faults
//	fakes components statuspage CMP=STATUS...   the latest Statuspage incident's component statuses
//	fakes scheduled statuspage FOR UNTIL         the latest Statuspage incident is a scheduled maintenance
//	                                 of that window (RFC 3339), its own reminder and transitions off
//	fakes dump NAME                  print what NAME holds to stdout
//	nosecret DIR...                  no file under the DIRs, nor stdout or stderr of the last
//	                                 command, holds any value of $FAKE_SECRETS
//
// Time, and a background `incident serve`:
//
//	clock TIME|+DURATION             set the time `incident` sees (the file $INCIDENT_TEST_CLOCK)
//	waitfor FILE REGEXP              wait (at most 20 s) until FILE matches REGEXP
//	http METHOD URL [-token T] [-basic U:P] [-body FILE] [-bytes N]
//	                                 make a request; stdout gets "STATUS BODY"
//
// An SMTP server for the email channel and pager: `smtp start|count|thread|show|fail|clear`
// (smtp_test.go). The pagers' services (Pushover, Twilio, a webhook receiver, an
// IRC server): `pagers start|count|last|contains|ack|receipts|fail|clear|dump`
// (pagers_test.go).

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/incident-cli/incident/internal/termquiet"
)

var updateScripts = flag.Bool("update", false, "rewrite the cmp golden files inside testdata/script/*.txtar")

func TestMain(m *testing.M) {
	// As main does: TERM back as it was (see internal/termquiet).
	termquiet.Restore()
	if os.Getenv("INCIDENT_TEST_MAIN") != "" { // the binary itself, for the terminal and crash tests
		os.Exit(run(os.Args[1:], testSystem()))
	}
	testscript.Main(m, map[string]func(){
		"incident": func() { os.Exit(run(os.Args[1:], testSystem())) },
	})
}

func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join("testdata", "script"),
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		UpdateScripts:       *updateScripts,
		Setup: func(env *testscript.Env) error {
			w := env.WorkDir
			env.Setenv("HOME", filepath.Join(w, "home"))
			env.Setenv("XDG_CONFIG_HOME", filepath.Join(w, "config"))
			env.Setenv("XDG_DATA_HOME", filepath.Join(w, "data"))
			env.Setenv("XDG_STATE_HOME", filepath.Join(w, "state"))
			env.Setenv("XDG_CACHE_HOME", filepath.Join(w, "cache"))
			env.Setenv("TERM", "dumb")
			env.Setenv("NO_COLOR", "1")
			env.Setenv("USER", "alice")
			// Times in output and incident ids (dated in the first zone,
			// Local for the embedded default) do not depend on the machine.
			env.Setenv("TZ", "UTC")
			// testscript starts from an empty environment; an empty value
			// is what the command sees as unset.
			env.Setenv("INCIDENT_RUNBOOK", "")
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exitcode":   cmdExitcode,
			"capture":    cmdCapture,
			"countfiles": cmdCountfiles,
			"atomvalid":  cmdAtomvalid,
			"jsonpath":   cmdJSONPath,
			"snapshot":   cmdSnapshot,
			"unchanged":  cmdUnchanged,
			"envsubst":   cmdEnvsubst,
			"fakes":      cmdFakes,
			"nosecret":   cmdNosecret,
			"clock":      cmdClock,
			"waitfor":    cmdWaitfor,
			"http":       cmdHTTP,
			"smtp":       cmdSMTP,
			"pagers":     cmdPagers,
		},
	})
}

// exitcode N PROG [ARGS...] runs PROG like exec (stdout and stderr are kept
// for the next stdout/stderr commands) and requires it to exit with N.
func cmdExitcode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exitcode N PROG [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exitcode: %q is not a number", args[0])
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("exitcode: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited with %d, want %d", args[1], got, want)
	}
}

// capture VAR FILE REGEXP sets VAR to the first group of REGEXP's first
// match in FILE (stdout and stderr name the last command's output).
func cmdCapture(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: capture VAR FILE REGEXP")
	}
	re, err := regexp.Compile(`(?m)` + args[2])
	ts.Check(err)
	m := re.FindStringSubmatch(ts.ReadFile(args[1]))
	if len(m) < 2 {
		ts.Fatalf("capture: no match for %q (with a group) in %s", args[2], args[1])
	}
	ts.Setenv(args[0], m[1])
}

// countfiles DIR GLOB N requires DIR to hold exactly N entries matching GLOB
// (a missing DIR holds none).
func cmdCountfiles(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 3 {
		ts.Fatalf("usage: countfiles DIR GLOB N")
	}
	want, err := strconv.Atoi(args[2])
	if err != nil {
		ts.Fatalf("countfiles: %q is not a number", args[2])
	}
	matches, err := filepath.Glob(filepath.Join(ts.MkAbs(args[0]), args[1]))
	ts.Check(err)
	if got := len(matches); (got == want) == neg {
		names := make([]string, len(matches))
		for i, m := range matches {
			names[i] = filepath.Base(m)
		}
		if neg {
			ts.Fatalf("%s holds %d entries matching %s, want any other number", args[0], got, args[1])
		}
		ts.Fatalf("%s holds %d entries matching %s, want %d: %s", args[0], got, args[1], want, strings.Join(names, " "))
	}
}

// atomvalid FILE parses FILE as an Atom feed and requires the feed's id,
// title and updated, and every entry's id, title, updated (RFC 3339) and
// link; entry ids must be unique.
func cmdAtomvalid(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: atomvalid FILE")
	}
	type entry struct {
		ID      string `xml:"id"`
		Title   string `xml:"title"`
		Updated string `xml:"updated"`
		Link    []struct {
			Href string `xml:"href,attr"`
		} `xml:"link"`
		Content struct {
			Type string `xml:"type,attr"`
			Body string `xml:",chardata"`
		} `xml:"content"`
	}
	var feed struct {
		XMLName xml.Name
		ID      string  `xml:"id"`
		Title   string  `xml:"title"`
		Updated string  `xml:"updated"`
		Entries []entry `xml:"entry"`
	}
	if err := xml.Unmarshal([]byte(ts.ReadFile(args[0])), &feed); err != nil {
		ts.Fatalf("atomvalid: %s: %v", args[0], err)
	}
	var problems []string
	bad := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }
	if feed.XMLName.Space != "http://www.w3.org/2005/Atom" || feed.XMLName.Local != "feed" {
		bad("root is %s %s, want the Atom feed element", feed.XMLName.Space, feed.XMLName.Local)
	}
	checkTime := func(what, v string) {
		if _, err := time.Parse(time.RFC3339, v); err != nil {
			bad("%s updated %q is not RFC 3339", what, v)
		}
	}
	if feed.ID == "" {
		bad("feed has no id")
	}
	if feed.Title == "" {
		bad("feed has no title")
	}
	checkTime("feed", feed.Updated)
	if len(feed.Entries) == 0 {
		bad("feed has no entries")
	}
	seen := map[string]bool{}
	for i, e := range feed.Entries {
		what := fmt.Sprintf("entry %d", i+1)
		switch {
		case e.ID == "":
			bad("%s has no id", what)
		case seen[e.ID]:
			bad("%s repeats id %s", what, e.ID)
		}
		seen[e.ID] = true
		if e.Title == "" {
			bad("%s has no title", what)
		}
		checkTime(what, e.Updated)
		if len(e.Link) == 0 || e.Link[0].Href == "" {
			bad("%s has no link", what)
		}
	}
	if len(problems) > 0 {
		ts.Fatalf("atomvalid: %s: %s", args[0], strings.Join(problems, "; "))
	}
	fmt.Fprintf(ts.Stdout(), "%d entries\n", len(feed.Entries))
}

// jsonpath FILE PATH [VALUE] decodes FILE (or stdout/stderr) as JSON and
// requires PATH (keys and array indexes joined by dots, "." for the root) to
// exist, and to equal VALUE when given: strings compare raw (decoded), other
// values as their JSON text. "length(PATH)" compares an array's length.
func cmdJSONPath(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 && len(args) != 3 {
		ts.Fatalf("usage: jsonpath FILE PATH [VALUE]")
	}
	var v any
	if err := json.Unmarshal([]byte(ts.ReadFile(args[0])), &v); err != nil {
		ts.Fatalf("jsonpath: %s is not JSON: %v", args[0], err)
	}
	path, length := args[1], false
	if strings.HasPrefix(path, "length(") && strings.HasSuffix(path, ")") {
		path, length = strings.TrimSuffix(strings.TrimPrefix(path, "length("), ")"), true
	}
	got, err := walkJSON(v, path)
	if err == nil && length {
		a, ok := got.([]any)
		if !ok {
			err = fmt.Errorf("%s is not an array", path)
		}
		got = float64(len(a))
	}
	if len(args) == 2 {
		if (err == nil) == neg {
			if neg {
				ts.Fatalf("jsonpath: %s has %s, want it absent", args[0], args[1])
			}
			ts.Fatalf("jsonpath: %s: %v", args[0], err)
		}
		return
	}
	if err != nil {
		ts.Fatalf("jsonpath: %s: %v", args[0], err)
	}
	text, ok := got.(string)
	if !ok {
		b, _ := json.Marshal(got)
		text = string(b)
	}
	if (text == args[2]) == neg {
		if neg {
			ts.Fatalf("jsonpath: %s %s is %q, want anything else", args[0], args[1], text)
		}
		ts.Fatalf("jsonpath: %s %s is %q, want %q", args[0], args[1], text, args[2])
	}
}

func walkJSON(v any, path string) (any, error) {
	if path == "." || path == "" {
		return v, nil
	}
	for _, k := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			next, ok := x[k]
			if !ok {
				return nil, fmt.Errorf("no key %q (in %s)", k, path)
			}
			v = next
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i < 0 || i >= len(x) {
				return nil, fmt.Errorf("no index %q in an array of %d (in %s)", k, len(x), path)
			}
			v = x[i]
		default:
			return nil, fmt.Errorf("%q: not an object or array (in %s)", k, path)
		}
	}
	return v, nil
}

// snapshot NAME DIR... remembers every file under the DIRs (path and a hash
// of its content; lock files excepted, they come and go) in the script's
// environment as $NAME, for unchanged to compare.
func cmdSnapshot(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: snapshot NAME DIR...")
	}
	ts.Setenv(args[0], strings.Join(treeList(ts, args[1:]), "\n"))
}

// unchanged NAME DIR... requires the DIRs to hold exactly the files, with
// the same contents, that snapshot NAME recorded: nothing written, nothing
// removed.
func cmdUnchanged(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: unchanged NAME DIR...")
	}
	var before []string
	if v := ts.Getenv(args[0]); v != "" {
		before = strings.Split(v, "\n")
	}
	after := treeList(ts, args[1:])
	var diffs []string
	for _, x := range after {
		if !slices.Contains(before, x) {
			diffs = append(diffs, "+ "+x)
		}
	}
	for _, x := range before {
		if !slices.Contains(after, x) {
			diffs = append(diffs, "- "+x)
		}
	}
	if len(diffs) > 0 {
		ts.Fatalf("%s changed since snapshot %s:\n%s", strings.Join(args[1:], " "), args[0], strings.Join(diffs, "\n"))
	}
}

func treeList(ts *testscript.TestScript, dirs []string) []string {
	var out []string
	for _, d := range dirs {
		root := ts.MkAbs(d)
		err := filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
			if errors.Is(err, fs.ErrNotExist) && p == root {
				return fs.SkipAll
			}
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(ts.MkAbs("."), p)
			if e.IsDir() {
				out = append(out, rel+"/")
				return nil
			}
			if e.Name() == ".lock" {
				return nil
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(b)
			out = append(out, rel+" "+hex.EncodeToString(sum[:6]))
			return nil
		})
		ts.Check(err)
	}
	slices.Sort(out)
	return out
}
