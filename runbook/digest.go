package runbook

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Digest returns a digest of an incident's record: the names and sizes of
// its event files. Event files are written once and never changed, so a
// new event, a removed one or a file edited by hand (its size changes, or
// git replaces it) changes the digest; modification times alone would miss
// a checkout that restores an older file. It reads the folder and stats
// each event file; it decodes nothing.
func (s *Store) Digest(id string) (string, error) {
	dir, err := s.incidentDir(id)
	if err != nil {
		return "", err
	}
	names, sizes, err := eventFileSizes(dir)
	if err != nil {
		return "", err
	}
	var d digest
	for i, n := range names {
		d.add(n, sizes[i])
	}
	return d.sum(), nil
}

// isEventFile reports whether a folder entry is an event file: temp files
// and dotfiles are not (see eventNames).
func isEventFile(e fs.DirEntry) bool {
	n := e.Name()
	return !e.IsDir() && !strings.HasPrefix(n, ".") && strings.HasSuffix(n, ".toml")
}

// digest accumulates Digest's text: a line per event file, in name order.
type digest struct{ b []byte }

func (d *digest) add(name string, size int64) {
	d.b = append(append(d.b, name...), ' ')
	d.b = append(strconv.AppendInt(d.b, size, 10), '\n')
}

func (d *digest) sum() string {
	h := sha256.Sum256(d.b)
	return hex.EncodeToString(h[:16])
}

// loadDigested reads and folds an incident from its event files, never
// from the store's cache, and returns with it the record's digest (what
// Digest returns, from the sizes it read: no stat per file) and the
// folder's own FileInfo, taken before its entries were read (a summary
// computed from this read may be cached under that folder's stamp).
func (s *Store) loadDigested(id string) (*Incident, string, fs.FileInfo, error) {
	dir, err := s.incidentDir(id)
	if err != nil {
		return nil, "", nil, err
	}
	f, err := os.Open(dir)
	if err != nil {
		return nil, "", nil, fmt.Errorf("%w %q", ErrUnknownIncident, id)
	}
	folder, err := f.Stat()
	if err != nil || !folder.IsDir() {
		f.Close()
		return nil, "", nil, fmt.Errorf("%w %q", ErrUnknownIncident, id)
	}
	entries, err := f.ReadDir(-1)
	f.Close()
	if err != nil {
		return nil, "", nil, err
	}
	slices.SortFunc(entries, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	var d digest
	events := make([]Event, 0, len(entries))
	for _, e := range entries {
		if !isEventFile(e) {
			continue
		}
		ev, size, err := readEventFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, "", nil, err
		}
		ev.ID = strings.TrimSuffix(e.Name(), ".toml")
		events = append(events, ev)
		d.add(e.Name(), size)
	}
	if len(events) == 0 {
		return nil, "", nil, fmt.Errorf("%w %q (its folder holds no event)", ErrUnknownIncident, id)
	}
	return Fold(id, events), d.sum(), folder, nil
}
