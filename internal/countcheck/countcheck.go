// Package countcheck is the differential test of our length counters: it
// generates random texts from a seeded generator (CJK, emoji sequences,
// flags, keycaps, combining marks, zero-width and bidirectional characters,
// URLs with and without a scheme, cut URLs, mentions, hashtags) and counts
// them with the reference libraries, npm twitter-text 3.1.0 and graphemer
// 1.4.0, in one node process per test (count.js; versions pinned in
// package-lock.json). Tests compare our counters with Reference.
//
// The libraries are installed with `npm ci` in this directory (.ci/run does
// it). Without them the tests skip, unless INCIDENT_IT_REQUIRE=1, which
// makes them fail. INCIDENT_COUNTCHECK_SEED=N reruns the texts of seed N;
// INCIDENT_COUNTCHECK_N sets how many texts a run counts.
package countcheck

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// DefaultN is how many texts a run counts unless INCIDENT_COUNTCHECK_N says.
const DefaultN = 4000

// Dir is the directory holding count.js and node_modules.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(file)
}

// Seed returns the seed of this run: INCIDENT_COUNTCHECK_SEED, else one
// taken from the clock, so every run tries new texts. It is logged.
func Seed(t testing.TB) uint64 {
	t.Helper()
	if s := os.Getenv("INCIDENT_COUNTCHECK_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("INCIDENT_COUNTCHECK_SEED=%q: want a whole number", s)
		}
		return n
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d (rerun these texts with INCIDENT_COUNTCHECK_SEED=%d)", seed, seed)
	return seed
}

// N returns how many texts to count: INCIDENT_COUNTCHECK_N, else DefaultN.
func N(t testing.TB) int {
	t.Helper()
	if s := os.Getenv("INCIDENT_COUNTCHECK_N"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			t.Fatalf("INCIDENT_COUNTCHECK_N=%q: want a positive number", s)
		}
		return n
	}
	return DefaultN
}

// Reference counts texts with the reference counter ("twitter" or
// "graphemer") in one node process. It skips the test when node or the
// libraries are missing, and fails instead when INCIDENT_IT_REQUIRE=1.
func Reference(t testing.TB, counter string, texts []string) []int {
	t.Helper()
	dir := Dir()
	missing := ""
	if _, err := exec.LookPath("node"); err != nil {
		missing = "node is not installed"
	} else if _, err := os.Stat(filepath.Join(dir, "node_modules", "twitter-text", "package.json")); err != nil {
		missing = "the reference libraries are not installed (run `npm ci` in " + dir + ")"
	} else if _, err := os.Stat(filepath.Join(dir, "node_modules", "graphemer", "package.json")); err != nil {
		missing = "graphemer is not installed (run `npm ci` in " + dir + ")"
	}
	if missing != "" {
		if os.Getenv("INCIDENT_IT_REQUIRE") == "1" {
			t.Fatalf("%s, and INCIDENT_IT_REQUIRE=1 requires this test to run", missing)
		}
		t.Skip(missing)
	}
	var in bytes.Buffer
	enc := json.NewEncoder(&in)
	enc.SetEscapeHTML(false)
	for _, s := range texts {
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("node", filepath.Join(dir, "count.js"), counter)
	cmd.Dir = dir
	cmd.Stdin = &in
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node count.js %s: %v\n%s", counter, err, stderr.String())
	}
	var counts []int
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		n, err := strconv.Atoi(sc.Text())
		if err != nil {
			t.Fatalf("node count.js %s: line %d: %q is not a count", counter, len(counts)+1, sc.Text())
		}
		counts = append(counts, n)
	}
	if len(counts) != len(texts) {
		t.Fatalf("node count.js %s: %d counts for %d texts", counter, len(counts), len(texts))
	}
	return counts
}

// Compare counts the texts of seed with ours and with the reference counter
// and reports every text on which they differ, with the seed that makes it
// again.
func Compare(t *testing.T, counter string, seed uint64, n int, ours func(string) int) {
	t.Helper()
	texts := Texts(seed, n)
	want := Reference(t, counter, texts)
	bad := 0
	for i, s := range texts {
		if got := ours(s); got != want[i] {
			bad++
			if bad <= 20 {
				t.Errorf("text #%d of seed %d: ours %d, %s %d: %s", i, seed, got, counter, want[i], quote(s))
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d texts counted differently; rerun with INCIDENT_COUNTCHECK_SEED=%d INCIDENT_COUNTCHECK_N=%d", bad, n, seed, n)
	}
}

// quote shows a text with its invisible characters spelled out.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteString(`\` + string(r))
		case r < 0x20 || r >= 0x7f && r < 0xa0 || r == 0xad || r >= 0x200b && r <= 0x200f || r >= 0x202a && r <= 0x202e ||
			r >= 0x2060 && r <= 0x2069 || r == 0xfeff || r >= 0xfe00 && r <= 0xfe0f || r >= 0xe0000:
			fmt.Fprintf(&b, `\u{%x}`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
