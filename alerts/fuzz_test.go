package alerts

import (
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// entries are the ways into the package that FuzzParse drives, by number.
var entries = []string{
	SourceAlertmanager, SourceGrafana, SourceNodePing, SourceUptimeKuma, SourceGeneric,
	"nagios-env", "nagios-args", "checkmk-env", "checkmk-bulk",
}

// run feeds body to entry e: a payload to Parse, NAME=VALUE lines as a
// notification's environment, lines as Nagios arguments, or a bulk's stdin.
func run(e int, body []byte) ([]Alert, error) {
	lines := strings.Split(string(body), "\n")
	env := func() func(string) string {
		m := map[string]string{}
		for _, l := range lines {
			if k, v, ok := strings.Cut(l, "="); ok {
				m[k] = v
			}
		}
		return func(k string) string { return m[k] }
	}
	switch name := entries[e%len(entries)]; name {
	case "nagios-env":
		return FromNagios(env(), nil)
	case "nagios-args":
		return FromNagios(func(string) string { return "" }, lines)
	case "checkmk-env":
		return FromCheckmk(env())
	case "checkmk-bulk":
		return FromCheckmkBulk(body)
	default:
		return Parse(name, body)
	}
}

// FuzzParse: no input makes any entry point panic; every alert that comes
// out keeps the package's caps; every error is an *InputError or *Ignored
// whose message is one clean line.
func FuzzParse(f *testing.F) {
	samples, _ := filepath.Glob(filepath.Join("testdata", "*", "*.*"))
	for _, path := range samples {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		for e, name := range entries {
			if strings.HasPrefix(name, filepath.Base(filepath.Dir(path))) {
				f.Add(uint8(e), b)
			}
		}
	}
	f.Add(uint8(4), []byte(`{"dedup_key":"k\u0000\u202e","status":"firing","title":"`+strings.Repeat("é", 900)+`","url":"https://u:p@x.example/"}`))
	f.Fuzz(func(t *testing.T, e uint8, body []byte) {
		as, err := run(int(e), body)
		if err != nil {
			var (
				in *InputError
				ig *Ignored
			)
			if !errors.As(err, &in) && !errors.As(err, &ig) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			msg := err.Error()
			if strings.ContainsFunc(msg, dropped) || strings.Contains(msg, "\n") || !utf8.ValidString(msg) || len(msg) > 4*MaxText {
				t.Fatalf("error message is not one clean line: %q", msg)
			}
			return
		}
		checkInvariants(t, as)
	})
}

// checkInvariants fails t when an alert breaks a promise of type Alert.
func checkInvariants(t *testing.T, as []Alert) {
	t.Helper()
	if len(as) == 0 || len(as) > MaxAlerts {
		t.Fatalf("%d alerts", len(as))
	}
	sources := append(Sources(), SourceNagios, SourceCheckmk)
	line := func(what, s string, max int) {
		t.Helper()
		if len(s) > max || !utf8.ValidString(s) || strings.ContainsFunc(s, dropped) || strings.ContainsAny(s, "\n\t") {
			t.Fatalf("%s is not one clean line of at most %d bytes: %q", what, max, s)
		}
	}
	for _, a := range as {
		if !slices.Contains(sources, a.Source) {
			t.Fatalf("source %q", a.Source)
		}
		if a.Key == "" {
			t.Fatalf("empty key: %+v", a)
		}
		line("key", a.Key, MaxName)
		line("group", a.Group, MaxName)
		line("name", a.Name, MaxName)
		line("summary", a.Summary, MaxText)
		line("severity", a.Severity, MaxSeverity)
		if a.Severity != strings.ToLower(a.Severity) {
			t.Fatalf("severity %q is not lower case", a.Severity)
		}
		if d := a.Description; len(d) > MaxText || !utf8.ValidString(d) || strings.ContainsFunc(d, func(r rune) bool { return r != '\n' && r != '\t' && dropped(r) }) {
			t.Fatalf("description is not clean text of at most %d bytes: %q", MaxText, d)
		}
		if len(a.Labels) > MaxLabels {
			t.Fatalf("%d labels", len(a.Labels))
		}
		for k, v := range a.Labels {
			if k == "" {
				t.Fatal("empty label name")
			}
			line("label name", k, MaxName)
			line("label value", v, MaxText)
		}
		if a.URL != "" {
			u, err := url.Parse(a.URL)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || len(a.URL) > MaxURL {
				t.Fatalf("url %q", a.URL)
			}
			line("url", a.URL, MaxURL)
		}
		if a.Firing && !a.EndsAt.IsZero() {
			t.Fatalf("firing alert ends at %v", a.EndsAt)
		}
		for _, tm := range []struct {
			what string
			zone string
			zero bool
		}{{"starts_at", a.StartsAt.Location().String(), a.StartsAt.IsZero()}, {"ends_at", a.EndsAt.Location().String(), a.EndsAt.IsZero()}} {
			if !tm.zero && tm.zone != "UTC" {
				t.Fatalf("%s in %s, want UTC", tm.what, tm.zone)
			}
		}
	}
}
