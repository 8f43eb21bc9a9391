package countcheck

import (
	"bytes"
	"go/format"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestTablesAreGenerated reruns gen.js and checks that the tables our
// counters use are what twitter-text, twemoji-parser and graphemer hold.
func TestTablesAreGenerated(t *testing.T) {
	Reference(t, "twitter", nil) // skips (or fails) the way the differential tests do
	for what, file := range map[string]string{
		"tlds":      "../../publishers/tlds.go",
		"tables":    "../../publishers/twitter/tables.go",
		"graphemer": "../../publishers/bluesky/tables.go",
	} {
		cmd := exec.Command("node", "gen.js", what)
		cmd.Dir = Dir()
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("node gen.js %s: %v\n%s", what, err, stderr.String())
		}
		want, err := format.Source(out)
		if err != nil {
			t.Fatalf("gen.js %s: %v", what, err)
		}
		got, err := os.ReadFile(filepath.Join(Dir(), file))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is not what `node gen.js %s` makes; regenerate it (see gen.js)", file, what)
		}
	}
}

// TestTextsAreSeeded checks that a seed always makes the same texts, and
// that the generator makes what the counters get wrong.
func TestTextsAreSeeded(t *testing.T) {
	a, b := Texts(42, 500), Texts(42, 500)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("text #%d of seed 42 differs between two runs", i)
		}
	}
	if c := Texts(43, 500); c[0] == a[0] && c[1] == a[1] {
		t.Error("seeds 42 and 43 make the same texts")
	}
	all := strings.Join(a, "\n")
	for _, want := range []string{"://", "\u200d", "\U0001F1E6", "\u20e3", "…", "@", "#"} {
		if !strings.Contains(all, want) {
			t.Errorf("500 texts hold no %q", want)
		}
	}
}
