// Package publisherstest holds what every channel's tests share: a sample
// post for a realistic incident, an Env wired to test secrets, and a check
// that no secret leaks into an error.
package publisherstest

import (
	"net/http"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/incident-cli/incident/publishers"
)

// Now is the fixed clock of channel tests.
var Now = time.Date(2026, 11, 27, 10, 15, 0, 0, time.UTC)

// Env returns an Env whose secrets resolve from the given environment.
func Env(t testing.TB, name string, secrets map[string]string) publishers.Env {
	t.Helper()
	dir := t.TempDir()
	return publishers.Env{
		Name:         name,
		Dir:          dir,
		Records:      filepath.Join(dir, "incidents"),
		StateDir:     t.TempDir(),
		UserAgent:    "incident/test",
		HTTP:         &http.Client{Timeout: 5 * time.Second},
		Organization: "Example Mail",
		Services:     []publishers.Service{{ID: "imap", Name: "IMAP/POP"}, {ID: "smtp", Name: "Outgoing mail (SMTP)"}},
		Secrets:      &publishers.Resolver{Getenv: func(k string) string { return secrets[k] }},
		Now:          func() time.Time { return Now },
	}
}

// Decode parses a channel's TOML config table (the keys only, no header) the
// way the runbook does, and returns the primitive and metadata a Factory takes.
func Decode(t testing.TB, table string) (toml.Primitive, toml.MetaData) {
	t.Helper()
	var doc struct{ Channel toml.Primitive }
	md, err := toml.Decode("[channel]\n"+table, &doc)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return doc.Channel, md
}

// Post returns a post for update number n (1-based) of a realistic incident,
// with the given channel text. Later updates carry thread receipts only when
// the caller sets them.
func Post(n int, text string) publishers.Post {
	inc := publishers.Incident{
		ID:        "2026-11-27-imap-pop-login-failures",
		Title:     "IMAP/POP login failures",
		Status:    "investigating",
		Severity:  "major",
		Services:  []publishers.Service{{ID: "imap", Name: "IMAP/POP"}},
		Accounts:  1200,
		StartedAt: Now.Add(-20 * time.Minute),
		OpenedAt:  Now.Add(-5 * time.Minute),
	}
	statuses := []string{"investigating", "identified", "monitoring", "resolved"}
	for i := 1; i <= n; i++ {
		st := statuses[min(i-1, len(statuses)-1)]
		msg := "Update " + string(rune('0'+i)) + ": we are working on it."
		inc.Updates = append(inc.Updates, publishers.Update{
			Number: i, Status: st, Message: msg, HTML: "<p>" + msg + "</p>",
			At: Now.Add(time.Duration(i-1) * 30 * time.Minute), Author: "alice",
		})
		inc.Status = st
	}
	if inc.Status == "resolved" {
		inc.ResolvedAt = inc.Updates[n-1].At
	}
	return publishers.Post{
		Key:      inc.ID + "/20261127T101500Z-update-abc" + string(rune('0'+n)) + "/chan",
		Kind:     publishers.KindUpdate,
		Title:    "[" + strings.ToUpper(inc.Status[:1]) + inc.Status[1:] + "] " + inc.Title,
		Text:     text,
		HTML:     "<p>" + text + "</p>",
		Link:     "https://status.example.com/incidents/2026-11-27-imap-pop-login-failures.html",
		Incident: inc,
	}
}

// AssertNoSecret fails when any of the secret values appears in s.
func AssertNoSecret(t testing.TB, s string, secrets ...string) {
	t.Helper()
	for _, v := range secrets {
		if v != "" && strings.Contains(s, v) {
			t.Errorf("secret %q leaked into %q", v, s)
		}
	}
}

// ConfigCase is a channel config table and the error New must give for it.
type ConfigCase [2]string

// AssertConfigErrors builds a channel from each table with newChannel and
// checks that it fails with the wanted error, showing none of the secrets.
func AssertConfigErrors(t testing.TB, newChannel publishers.Factory, env publishers.Env, cases []ConfigCase, secrets ...string) {
	t.Helper()
	for _, tc := range cases {
		table, want := tc[0], tc[1]
		prim, md := Decode(t, table)
		_, err := newChannel(prim, md, env)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("New(%q) err = %v, want %q", table, err, want)
		}
		if err != nil {
			AssertNoSecret(t, err.Error(), secrets...)
		}
	}
}

// AssertNoSecretPart fails when s holds any secret's first four characters or
// more (a secret cut short must not leak its beginning either).
func AssertNoSecretPart(t testing.TB, s string, secrets ...string) {
	t.Helper()
	for _, v := range secrets {
		if len(v) >= 4 && strings.Contains(s, v[:4]) {
			t.Errorf("the beginning of secret %q leaked into %q", v, s)
		}
	}
}

// Straddle returns an error body of which a cut after cut bytes falls in the
// middle of secret, which follows "X-Api-Token: " as an echoed header would.
func Straddle(secret string, cut int) string {
	prefix := "bad request; you sent X-Api-Token: "
	return strings.Repeat("x", cut-len(prefix)-len(secret)/2) + prefix + secret + " and more text after it"
}

// MaxAllocated is what AssertBoundedMemory allows: a channel reading an
// endless answer through its size limit (publishers.MaxAnswer) allocates a
// few times that; one without a limit allocates all of
// fakeservice.EndlessMax.
const MaxAllocated = 48 << 20

// AssertBoundedMemory runs f, which makes a channel read an endless
// answer, and fails when the process allocated more than MaxAllocated
// meanwhile (runtime.MemStats.TotalAlloc, the fake server's writes
// included).
func AssertBoundedMemory(t testing.TB, f func()) {
	t.Helper()
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	n := after.TotalAlloc - before.TotalAlloc
	t.Logf("reading an endless answer allocated %.1f MiB", float64(n)/(1<<20))
	if n > MaxAllocated {
		t.Errorf("reading an endless answer allocated %d MiB, want at most %d MiB: the body is read without a limit", n>>20, MaxAllocated>>20)
	}
}
