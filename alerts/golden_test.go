package alerts

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/incident-cli/incident/internal/golden"
)

// TestGolden maps every sample under testdata/<source>/ and compares the
// normalized alerts with testdata/golden/<source>/<sample>.golden:
// *.json are payloads for Parse, *.env notification environments (NAME=VALUE
// lines, # comments) for FromNagios or FromCheckmk, *.args Nagios positional
// arguments (one a line), *.bulk a Checkmk bulk notification's stdin.
func TestGolden(t *testing.T) {
	samples, err := filepath.Glob(filepath.Join("testdata", "*", "*.*"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, path := range samples {
		source := filepath.Base(filepath.Dir(path))
		if source == "golden" || source == "fuzz" {
			continue
		}
		n++
		name := filepath.Base(path)
		t.Run(source+"/"+name, func(t *testing.T) {
			got, err := readSample(t, source, path)
			golden.Assert(t, filepath.Join(source, strings.TrimSuffix(name, filepath.Ext(name))+".golden"), render(t, got, err))
		})
	}
	if n < 30 {
		t.Fatalf("only %d samples under testdata", n)
	}
}

// readSample runs the entry point a sample file is for.
func readSample(t *testing.T, source, path string) ([]Alert, error) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	switch filepath.Ext(path) {
	case ".json":
		return Parse(source, b)
	case ".env":
		env := envFile(t, string(b))
		get := func(k string) string { return env[k] }
		if source == SourceCheckmk {
			return FromCheckmk(get)
		}
		return FromNagios(get, nil)
	case ".args":
		return FromNagios(func(string) string { return "" }, strings.Split(strings.TrimSuffix(string(b), "\n"), "\n"))
	case ".bulk":
		return FromCheckmkBulk(b)
	}
	t.Fatalf("%s: no entry point for this extension", path)
	return nil, nil
}

// render is the golden form of an outcome: the alerts as indented JSON, or
// the Ignored reason. Any other error fails the test: errors have tables.
func render(t *testing.T, as []Alert, err error) string {
	t.Helper()
	var ig *Ignored
	if errors.As(err, &ig) {
		return ig.Error() + "\n"
	}
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
	checkInvariants(t, as)
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(as); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// envFile reads NAME=VALUE lines; # starts a comment line.
func envFile(t *testing.T, s string) map[string]string {
	t.Helper()
	env := map[string]string{}
	for i, line := range strings.Split(s, "\n") {
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("line %d: not NAME=VALUE: %q", i+1, line)
		}
		env[k] = v
	}
	return env
}
