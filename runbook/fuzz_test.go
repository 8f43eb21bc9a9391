package runbook

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

// FuzzConfig: any incident.toml either loads or fails with an error naming
// the file; it never panics.
func FuzzConfig(f *testing.F) {
	f.Add(scaffoldConfig)
	f.Add("organization = \"x\"\n[status_page]\ntype = \"static\"\ndri = 1\n")
	f.Add("[[channel]]\ntype = \"discourse\"\nurl = \"https://x\"\napi_key = \"literal\"\n")
	f.Add("[[channel]]\ntype = \"webhook\"\nurl = \"http://10.0.0.1/\"\n")
	f.Add("zones = [\"Europe/Oslo\", 3]\n")
	f.Fuzz(func(t *testing.T, config string) {
		dir := t.TempDir()
		p := filepath.Join(dir, ConfigFile)
		if err := os.WriteFile(p, []byte(config), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Open(Location{Dir: dir}, Options{Getenv: func(string) string { return "" }, StateDir: t.TempDir()})
		if err != nil && !strings.Contains(err.Error(), p) {
			t.Fatalf("error does not name the file: %v", err)
		}
	})
}

// FuzzEvent: any event file either decodes into an incident that folds, or
// is an error naming the file; folding never panics; what BurntSushi/toml
// also decodes, it decodes alike.
func FuzzEvent(f *testing.F) {
	f.Add("kind = \"update\"\nat = 2026-11-27T10:00:00Z\nstatus = \"identified\"\nmessage = \"x\"\nchannels = [\"a\"]\n")
	f.Add("kind = \"delivered\"\nat = 2026-11-27T10:00:00Z\nupdate = \"nope\"\nchannel = \"a\"\n[receipt]\nid = \"1\"\n")
	f.Add("kind = \"opened\"\naccounts = -5\nservices = []\n")
	f.Add("<<<<<<< HEAD\n")
	f.Fuzz(func(t *testing.T, src string) {
		s := &Store{Dir: t.TempDir()}
		if err := os.Mkdir(filepath.Join(s.Dir, "x"), 0o755); err != nil {
			t.Fatal(err)
		}
		open := "kind = \"opened\"\nat = 2026-11-27T09:00:00Z\ntitle = \"t\"\n"
		os.WriteFile(filepath.Join(s.Dir, "x", "20261127T090000.000000000Z-opened-aaaaaa.toml"), []byte(open), 0o644)
		p := filepath.Join(s.Dir, "x", "20261127T100000.000000000Z-update-bbbbbb.toml")
		os.WriteFile(p, []byte(src), 0o644)
		inc, err := s.Load("x")
		if err != nil {
			if !strings.Contains(err.Error(), p) {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		_ = inc.Undelivered()
		_, _ = inc.Thread("a", false)
		_ = Summarize(inc)
		// What both decoders take, they read alike (the store reads with
		// go-toml/v2 what BurntSushi/toml wrote and once read).
		var e Event
		if _, err := toml.Decode(src, &e); err == nil {
			for _, got := range inc.Events {
				if strings.HasSuffix(p, got.ID+".toml") && canonical(t, got) != canonical(t, e) {
					t.Fatalf("the decoders differ on %q:\ngo-toml/v2: %s\nBurntSushi: %s", src, canonical(t, got), canonical(t, e))
				}
			}
		}
	})
}
