package runbook

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

// StateDir is the user's state directory for a runbook: sessions, caches
// and the cmd: references the user trusted, which must never be committed
// with the runbook nor be readable by anyone else:
// $XDG_STATE_HOME/incident/HASH, else ~/.local/state/incident/HASH. With
// neither variable set there is none: a shared folder such as /tmp is
// never used instead.
func StateDir(getenv func(string) string, runbookDir string) (string, error) {
	base := getenv("XDG_STATE_HOME")
	if base == "" {
		h := getenv("HOME")
		if h == "" {
			return "", errors.New("no state directory: neither XDG_STATE_HOME nor HOME is set; set one of them (the state directory holds sessions and caches that must stay private to you)")
		}
		base = filepath.Join(h, ".local", "state")
	}
	return filepath.Join(base, "incident", shortHash(runbookDir)), nil
}

// ensureStateDir creates dir (mode 0700) and refuses it, or the incident
// folder above it, when it is not a directory of this user's that no one
// else can read or write: sessions and the trusted cmd: references live
// there.
func ensureStateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("state directory: %w", err)
	}
	for _, d := range []string{filepath.Dir(dir), dir} {
		fi, err := os.Lstat(d)
		if err != nil {
			return fmt.Errorf("state directory: %w", err)
		}
		if !fi.IsDir() {
			return fmt.Errorf("state directory %s is not a directory (a symbolic link?): remove it, or set XDG_STATE_HOME to a directory of your own", d)
		}
		if uid, me, ok := owner(fi); ok && uid != me {
			return fmt.Errorf("state directory %s belongs to uid %d, not to you (uid %d): it holds your sessions and the commands you trusted; set XDG_STATE_HOME to a directory of your own", d, uid, me)
		}
		if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
			return fmt.Errorf("state directory %s is open to others (mode %v): it holds your sessions and the commands you trusted; run `chmod 700 %s`", d, fi.Mode().Perm(), d)
		}
	}
	return nil
}
