package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// testSystem is the system the scripts' `incident` runs with: the real one,
// except that with INCIDENT_TEST_CLOCK set its clock reads the time from
// that file on every call, so a script moves time (see cmdClock) for a
// command, and for a running `incident serve`, instead of sleeping.
func testSystem() *system {
	sys := newSystem()
	if path := os.Getenv("INCIDENT_TEST_CLOCK"); path != "" {
		sys.Now = func() time.Time {
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
	return sys
}

// clock TIME | +DURATION sets the time in $INCIDENT_TEST_CLOCK's file (which
// the script sets): an RFC 3339 time, or a duration after the current one.
func cmdClock(ts *testscript.TestScript, neg bool, args []string) {
	path := ts.Getenv("INCIDENT_TEST_CLOCK")
	if neg || len(args) != 1 || path == "" {
		ts.Fatalf("usage: clock TIME|+DURATION (with INCIDENT_TEST_CLOCK set)")
	}
	var t time.Time
	if d, ok := strings.CutPrefix(args[0], "+"); ok {
		b, err := os.ReadFile(path)
		ts.Check(err)
		cur, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(string(b)))
		ts.Check(err)
		v, err := time.ParseDuration(d)
		ts.Check(err)
		t = cur.Add(v)
	} else {
		var err error
		t, err = time.Parse(time.RFC3339, args[0])
		ts.Check(err)
	}
	ts.Check(os.WriteFile(path, []byte(t.UTC().Format(time.RFC3339Nano)+"\n"), 0o644))
}

// waitfor FILE REGEXP waits (at most 20 s) until FILE exists and matches
// REGEXP: a background `incident serve` got somewhere.
func cmdWaitfor(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: waitfor FILE REGEXP")
	}
	re := regexp.MustCompile(args[1])
	deadline := time.Now().Add(20 * time.Second)
	var last []byte
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(ts.MkAbs(args[0])); err == nil {
			last = b
			if re.Match(b) {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	ts.Fatalf("waitfor: %s never matched %q; it holds:\n%s", args[0], args[1], last)
}

// http METHOD URL [-token T] [-basic USER:PASS] [-body FILE] [-bytes N]
// makes a request and prints "STATUS BODY" to stdout (for the next stdout
// command). -bytes sends N bytes of JSON-looking filler.
func cmdHTTP(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: http METHOD URL [-token T] [-basic U:P] [-body FILE] [-bytes N]")
	}
	var body io.Reader
	var token, basic string
	for i := 2; i < len(args); i += 2 {
		if i+1 >= len(args) {
			ts.Fatalf("http: %s needs a value", args[i])
		}
		switch v := args[i+1]; args[i] {
		case "-token":
			token = v
		case "-basic":
			basic = v
		case "-body":
			b, err := os.ReadFile(ts.MkAbs(v))
			ts.Check(err)
			body = bytes.NewReader(b)
		case "-bytes":
			n, err := strconv.Atoi(v)
			ts.Check(err)
			body = io.MultiReader(strings.NewReader(`{"x":"`), io.LimitReader(zeros{}, int64(n)), strings.NewReader(`"}`))
		default:
			ts.Fatalf("http: unknown option %s", args[i])
		}
	}
	req, err := http.NewRequest(args[0], args[1], body)
	ts.Check(err)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if u, p, ok := strings.Cut(basic, ":"); ok {
		req.SetBasicAuth(u, p)
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	ts.Check(err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	fmt.Fprintf(ts.Stdout(), "%d %s\n", resp.StatusCode, bytes.TrimSpace(b))
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
	}
	return len(p), nil
}
