package runbook

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeRunbook(t *testing.T, config string) Location {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ConfigFile), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	return Location{Dir: dir}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name, config string
		want         []string
	}{
		{"syntax", "organization = \"x\"\nzones = [\"UTC\"\n", []string{"incident.toml:2:15:", "expected"}},
		{"unknown top key", "organisation = \"x\"\n", []string{"incident.toml:1:", "unknown key `organisation`", "did you mean `organization`"}},
		{"unknown status page key", "organization = \"x\"\n\n[status_page]\ntype = \"static\"\ndri = \"site\"\n", []string{"incident.toml:5:", "`status_page.dri`", "did you mean `dir`"}},
		{"unknown service key", "[[service]]\nid = \"imap\"\nnmae = \"IMAP\"\n", []string{"incident.toml:3:", "did you mean `name`"}},
		{"bad duration", "cadence = \"soon\"\n", []string{"incident.toml", "not a duration"}},
		{"wrong type", "organization = 3\n", []string{"incident.toml:1", "organization"}},
		{"unknown status page type", "[status_page]\ntype = \"wordpres\"\n", []string{"unknown type \"wordpres\""}},
		{"link type as status page", "[status_page]\ntype = \"bogus\"\n", []string{"unknown type"}},
		{"zone", "zones = [\"Mars/Olympus\"]\n", []string{"unknown time zone"}},
		{"duplicate service", "[[service]]\nid = \"a\"\n[[service]]\nid = \"a\"\n", []string{"appears twice"}},
		{"bad since", "[[service]]\nid = \"imap\"\nsince = \"March 2024\"\n", []string{"incident.toml:3", "\"March 2024\" is not a date: write it like 2024-03-01"}},
		{"plain http base url", "[status_page]\ntype = \"static\"\nbase_url = \"http://status.example.com\"\n", []string{"plain http is allowed only to loopback"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Open(writeRunbook(t, tt.config), Options{Getenv: func(string) string { return "" }, StateDir: t.TempDir()})
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestScaffoldedRunbookLoads(t *testing.T) {
	dir := t.TempDir()
	if _, err := Init(dir, false); err != nil {
		t.Fatal(err)
	}
	rb, err := Open(Location{Dir: dir}, Options{Getenv: func(string) string { return "" }, StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if rb.Config.Organization != "Example Mail" || len(rb.Config.Services) != 3 || rb.Config.Cadence.Minutes() != 30 {
		t.Errorf("config = %+v", rb.Config)
	}
	if _, err := Init(dir, false); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Errorf("second init: %v", err)
	}
	for _, c := range rb.Doctor(t.Context(), false) {
		if !c.OK {
			t.Errorf("doctor: %s: %s", c.What, c.Info)
		}
	}
}

func TestFind(t *testing.T) {
	root := t.TempDir()
	rbDir := filepath.Join(root, "ops")
	sub := filepath.Join(rbDir, "a", "b")
	os.MkdirAll(sub, 0o755)
	os.WriteFile(filepath.Join(rbDir, ConfigFile), nil, 0o644)
	env := map[string]string{"HOME": filepath.Join(root, "home")}
	getenv := func(k string) string { return env[k] }

	loc, err := Find("", getenv, sub)
	if err != nil || loc.Dir != rbDir || loc.Embedded {
		t.Errorf("upward: %+v %v", loc, err)
	}
	loc, err = Find("", getenv, root)
	if err != nil || !loc.Embedded || loc.Dir != filepath.Join(root, "home", ".local", "share", "incident") {
		t.Errorf("embedded: %+v %v", loc, err)
	}
	env["INCIDENT_RUNBOOK"] = rbDir
	if loc, _ = Find("", getenv, root); loc.Dir != rbDir {
		t.Errorf("env: %+v", loc)
	}
	if _, err = Find(root, getenv, root); err == nil || !strings.Contains(err.Error(), "incident init") {
		t.Errorf("flag without config: %v", err)
	}
	cfg := filepath.Join(root, "cfg")
	os.MkdirAll(filepath.Join(cfg, "incident"), 0o755)
	os.WriteFile(filepath.Join(cfg, "incident", ConfigFile), nil, 0o644)
	delete(env, "INCIDENT_RUNBOOK")
	env["XDG_CONFIG_HOME"] = cfg
	if loc, _ = Find("", getenv, root); loc.Dir != filepath.Join(cfg, "incident") {
		t.Errorf("config dir: %+v", loc)
	}
}

func TestPermissionWarning(t *testing.T) {
	loc := writeRunbook(t, "[status_page]\ntype = \"wordpress\"\nurl = \"https://status.example.com\"\nusername = \"bot\"\npassword = \"env:WP_APP_PASSWORD\"\n")
	cfg := filepath.Join(loc.Dir, ConfigFile)
	home := t.TempDir()
	getenv := func(k string) string { return map[string]string{"XDG_CONFIG_HOME": home, "XDG_STATE_HOME": home}[k] }
	open := func() (*Runbook, error) {
		return Open(loc, Options{Getenv: getenv, StateDir: t.TempDir()})
	}
	rb, err := open()
	if err != nil {
		t.Fatal(err)
	}
	if w := rb.PermissionWarning(); w != "" {
		t.Errorf("0600 config warned: %s", w)
	}
	// Writable by others: refused unless trusted, then used with a warning.
	os.Chmod(cfg, 0o666)
	if _, err := open(); err == nil || !strings.Contains(err.Error(), "can be changed by anyone") || !strings.Contains(err.Error(), "chmod go-w "+cfg) {
		t.Errorf("world-writable config: Open = %v, want a refusal", err)
	}
	if _, err := Trust(loc.Dir, getenv); err != nil {
		t.Fatal(err)
	}
	if rb, err = open(); err != nil {
		t.Fatalf("trusted: %v", err)
	}
	if w := rb.PermissionWarning(); !strings.Contains(w, "writable by group or others") || !strings.Contains(w, "chmod go-w") {
		t.Errorf("world-writable config: %q", w)
	}
}

// TestServiceSince: a service's since is a TOML date or a date string.
func TestServiceSince(t *testing.T) {
	rb, err := Open(writeRunbook(t, "zones = [\"Europe/Oslo\"]\n[[service]]\nid = \"imap\"\nsince = 2024-03-01\n[[service]]\nid = \"smtp\"\nsince = \"2025-01-31\"\n[[service]]\nid = \"web\"\n"),
		Options{Getenv: func(string) string { return "" }, StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	got := []string{}
	for _, s := range rb.Config.Services {
		if s.Since.IsZero() {
			got = append(got, "-")
		} else {
			got = append(got, s.Since.In(rb.Zones[0]).Format(time.RFC3339))
		}
	}
	if want := "2024-03-01T00:00:00+01:00 2025-01-31T00:00:00+01:00 -"; strings.Join(got, " ") != want {
		t.Errorf("since = %v, want %s", got, want)
	}
}
