package runbook

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestStateDirNeedsAHome: with neither XDG_STATE_HOME nor HOME there is no
// state directory, and nothing falls back to a shared folder like /tmp.
func TestStateDirNeedsAHome(t *testing.T) {
	if _, err := StateDir(func(string) string { return "" }, "/srv/ops"); err == nil || !strings.Contains(err.Error(), "neither XDG_STATE_HOME nor HOME is set") {
		t.Errorf("StateDir = %v, want an error naming both variables", err)
	}
	_, err := Open(Location{Dir: t.TempDir(), Embedded: true}, Options{Getenv: func(string) string { return "" }})
	if err == nil || !strings.Contains(err.Error(), "XDG_STATE_HOME") {
		t.Errorf("Open = %v, want the state directory's error", err)
	}
	home := t.TempDir()
	d, err := StateDir(func(k string) string { return map[string]string{"HOME": home}[k] }, "/srv/ops")
	if err != nil || !strings.HasPrefix(d, filepath.Join(home, ".local", "state", "incident")+string(filepath.Separator)) {
		t.Errorf("StateDir with HOME = %q, %v", d, err)
	}
}

// TestStateDirPrivate: the state directory is made 0700, and one that
// others can read or write, or that someone else owns, is refused.
func TestStateDirPrivate(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix modes")
	}
	base := t.TempDir()
	getenv := func(k string) string { return map[string]string{"XDG_STATE_HOME": base}[k] }
	rbDir := t.TempDir()
	dir, _ := StateDir(getenv, rbDir)
	open := func() error {
		_, err := Open(Location{Dir: rbDir, Embedded: true}, Options{Getenv: getenv})
		return err
	}
	if err := open(); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{filepath.Dir(dir), dir} {
		if fi, err := os.Stat(d); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: mode %v, %v; want 0700", d, fi.Mode().Perm(), err)
		}
	}
	for _, tc := range []struct {
		path string
		mode os.FileMode
	}{{dir, 0o755}, {dir, 0o770}, {filepath.Dir(dir), 0o711}} {
		os.Chmod(tc.path, tc.mode)
		if err := open(); err == nil || !strings.Contains(err.Error(), "is open to others") || !strings.Contains(err.Error(), "chmod 700 "+tc.path) {
			t.Errorf("%s mode %v: Open = %v, want a refusal with the chmod to run", tc.path, tc.mode, err)
		}
		os.Chmod(tc.path, 0o700)
	}
	if os.Geteuid() != 0 {
		t.Log("not root: cannot give the directory to someone else")
		return
	}
	if err := os.Chown(dir, 4242, 4242); err != nil {
		t.Fatal(err)
	}
	if err := open(); err == nil || !strings.Contains(err.Error(), "belongs to uid 4242, not to you") {
		t.Errorf("someone else's state directory: Open = %v, want a refusal", err)
	}
}
