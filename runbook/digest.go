package runbook

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Digest returns a digest of an incident's record: the names and sizes of
// its event files. Event files are written once and never changed, so a
// new event, a removed one or a file edited by hand (its size changes, or
// git replaces it) changes the digest; modification times alone would miss
// a checkout that restores an older file. It reads the folder and stats
// each event file; it decodes nothing.
func (s *Store) Digest(id string) (string, error) {
	if !validID(id) {
		return "", fmt.Errorf("%w %q", ErrUnknownIncident, id)
	}
	dir := filepath.Join(s.Dir, id)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, e := range entries { // sorted by name
		n := e.Name()
		if e.IsDir() || strings.HasPrefix(n, ".") || !strings.HasSuffix(n, ".toml") {
			continue
		}
		info, err := e.Info()
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s %d\n", n, info.Size())
	}
	return hex.EncodeToString(h.Sum(nil)[:16]), nil
}
