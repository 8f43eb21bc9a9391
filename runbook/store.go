package runbook

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/BurntSushi/toml"
	"github.com/gofrs/flock"
	"golang.org/x/text/unicode/norm"
)

// Store keeps incidents as folders of event files under Dir.
type Store struct {
	Dir string // the incidents/ folder
	// CacheDir, when set, keeps a rebuildable cache of each incident's
	// events there (one JSON file an incident), so that reading thousands
	// of incidents does not parse every event file every time.
	CacheDir string

	mu      sync.Mutex
	last    time.Time // the newest event time this process wrote
	written []Written
}

// Written is an event this process wrote.
type Written struct {
	Incident string
	ID       string
	Kind     EventKind
}

// Written lists the events this process wrote, in order.
func (s *Store) Written() []Written {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Written(nil), s.written...)
}

// ErrUnknownIncident is returned for an id that has no folder.
var ErrUnknownIncident = errors.New("unknown incident")

// createTemp is a seam for tests that simulate a crash mid-write.
var createTemp = os.CreateTemp

// Create makes the folder of a new incident and returns its id: the date and a
// slug of the title, with -2, -3 ... when that id is taken.
func (s *Store) Create(title string, at time.Time) (string, error) {
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return "", err
	}
	base := at.Format("2006-01-02") + "-" + Slug(title)
	for n := 1; n < 1000; n++ {
		id := base
		if n > 1 {
			id = fmt.Sprintf("%s-%d", base, n)
		}
		err := os.Mkdir(filepath.Join(s.Dir, id), 0o755)
		if err == nil {
			return id, nil
		}
		if errors.Is(err, fs.ErrExist) && s.empty(id) {
			return id, nil // left empty by an open that was killed: take it over
		}
		if !errors.Is(err, fs.ErrExist) {
			return "", err
		}
	}
	return "", fmt.Errorf("too many incidents named %s", base)
}

// Slug makes a readable, portable file name from a title.
func Slug(title string) string {
	var b strings.Builder
	dash := false
	for _, r := range norm.NFD.String(strings.ToLower(title)) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			b.WriteRune(r)
			dash = false
		default:
			if !dash && b.Len() > 0 {
				b.WriteByte('-')
				dash = true
			}
		}
		if b.Len() >= 48 {
			break
		}
	}
	s := strings.Trim(b.String(), "-")
	if s == "" {
		return "incident"
	}
	return s
}

// Exists reports whether an incident folder exists.
func (s *Store) Exists(id string) bool {
	if !validID(id) {
		return false
	}
	st, err := os.Stat(filepath.Join(s.Dir, id))
	return err == nil && st.IsDir()
}

func validID(id string) bool {
	return id != "" && !strings.ContainsAny(id, `/\`) && !strings.HasPrefix(id, ".")
}

// Append writes one event into the incident's folder, atomically: a temp file
// in the same folder, written, synced, renamed into place, and the folder
// synced. A crash leaves either the whole event or none of it (and perhaps a
// stray temp file, which readers ignore). e.ID is set from the file name.
func (s *Store) Append(id string, e *Event) error {
	if !s.Exists(id) {
		return fmt.Errorf("%w %q", ErrUnknownIncident, id)
	}
	if e.At.IsZero() {
		e.At = time.Now()
	}
	// Events this process writes keep the order it wrote them in, even
	// within one clock tick: the log sorts by time.
	s.mu.Lock()
	if !e.At.After(s.last) {
		e.At = s.last.Add(time.Nanosecond)
	}
	s.last = e.At
	s.mu.Unlock()
	e.At = e.At.UTC()
	var buf bytes.Buffer
	if err := toml.NewEncoder(&buf).Encode(e); err != nil {
		return fmt.Errorf("encode %s event: %w", e.Kind, err)
	}
	dir := filepath.Join(s.Dir, id)
	e.ID = e.At.Format("20060102T150405.000000000Z") + "-" + string(e.Kind) + "-" + randomSuffix()
	if err := writeAtomic(dir, e.ID+".toml", buf.Bytes()); err != nil {
		return err
	}
	s.dropOpenIndex()
	s.mu.Lock()
	s.written = append(s.written, Written{Incident: id, ID: e.ID, Kind: e.Kind})
	s.mu.Unlock()
	return nil
}

func writeAtomic(dir, name string, data []byte) error {
	return write(dir, name, data, true)
}

// writeCache writes a rebuildable cache file: atomically (a reader never
// sees half of it), but without the syncs, which only matter for records.
func writeCache(dir, name string, data []byte) error {
	return write(dir, name, data, false)
}

func write(dir, name string, data []byte, sync bool) (err error) {
	f, err := createTemp(dir, ".tmp-"+name+"-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if sync {
		if err = f.Sync(); err != nil {
			return err
		}
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(f.Name(), filepath.Join(dir, name)); err != nil {
		return err
	}
	if !sync {
		return nil
	}
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

const suffixChars = "abcdefghijkmnpqrstuvwxyz23456789"

func randomSuffix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = suffixChars[int(b[i])%len(suffixChars)]
	}
	return string(b)
}

// Events reads an incident's log in order. Temp files and dotfiles are
// ignored; an event file that cannot be read is an error naming the file.
func (s *Store) Events(id string) ([]Event, error) {
	if !validID(id) {
		return nil, fmt.Errorf("%w %q", ErrUnknownIncident, id)
	}
	dir := filepath.Join(s.Dir, id)
	st, err := os.Stat(dir)
	if err != nil || !st.IsDir() {
		return nil, fmt.Errorf("%w %q", ErrUnknownIncident, id)
	}
	if s.CacheDir == "" {
		return s.readEvents(dir)
	}
	start := time.Now()
	cache := filepath.Join(s.CacheDir, "events", id+".json")
	var c eventCache
	if b, err := os.ReadFile(cache); err == nil && json.Unmarshal(b, &c) == nil &&
		c.Version == eventCacheVersion && c.Stamp != 0 && c.Stamp == st.ModTime().UnixNano() {
		return c.Events, nil
	}
	events, err := s.readEvents(dir)
	if err != nil {
		return nil, err
	}
	if stamp := cacheStamp(st.ModTime(), start); stamp != 0 {
		if b, err := json.Marshal(eventCache{Version: eventCacheVersion, Stamp: stamp, Events: events}); err == nil &&
			os.MkdirAll(filepath.Dir(cache), 0o700) == nil {
			_ = writeCache(filepath.Dir(cache), id+".json", b)
		}
	}
	return events, nil
}

// eventCache is one incident's events as last read, valid while its folder's
// modification time is unchanged (see cacheStamp).
type eventCache struct {
	Version int     `json:"version"`
	Stamp   int64   `json:"stamp"`
	Events  []Event `json:"events"`
}

const eventCacheVersion = 1

func (s *Store) readEvents(dir string) ([]Event, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || strings.HasPrefix(n, ".") || !strings.HasSuffix(n, ".toml") {
			continue
		}
		names = append(names, n)
	}
	sort.Strings(names)
	events := make([]Event, 0, len(names))
	for _, n := range names {
		p := filepath.Join(dir, n)
		var e Event
		b, err := os.ReadFile(p)
		if err == nil {
			err = decodeEvent(b, &e)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %v; the event file is damaged: restore it from git or a backup, or move it out of the folder", p, err)
		}
		e.ID = strings.TrimSuffix(n, ".toml")
		events = append(events, e)
	}
	return events, nil
}

// Load reads and folds an incident. A folder with no event in it (an open
// killed between making the folder and writing its first event) is not an
// incident.
func (s *Store) Load(id string) (*Incident, error) {
	events, err := s.Events(id)
	if err != nil {
		return nil, err
	}
	if len(events) == 0 {
		return nil, fmt.Errorf("%w %q (its folder holds no event)", ErrUnknownIncident, id)
	}
	return Fold(id, events), nil
}

// empty reports whether an incident folder holds no event file.
func (s *Store) empty(id string) bool {
	entries, err := os.ReadDir(filepath.Join(s.Dir, id))
	if err != nil {
		return false
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".toml") && !strings.HasPrefix(e.Name(), ".") {
			return false
		}
	}
	return true
}

// IDs lists every incident id, sorted.
func (s *Store) IDs() ([]string, error) {
	entries, err := os.ReadDir(s.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, e := range entries {
		if e.IsDir() && validID(e.Name()) {
			ids = append(ids, e.Name())
		}
	}
	return ids, nil
}

// Lock takes the incident's lock, serializing local processes that decide an
// order (publish, retry). The kernel drops a dead process's lock, so a crash
// never leaves a deadlock. It waits until ctx is done.
func (s *Store) Lock(ctx context.Context, id string) (unlock func(), err error) {
	if !s.Exists(id) {
		return nil, fmt.Errorf("%w %q", ErrUnknownIncident, id)
	}
	fl := flock.New(filepath.Join(s.Dir, id, ".lock"))
	ok, err := fl.TryLockContext(ctx, 20*time.Millisecond)
	if err != nil {
		return nil, fmt.Errorf("lock incident %s: %w", id, err)
	}
	if !ok {
		return nil, fmt.Errorf("lock incident %s: another incident command is still running on it", id)
	}
	return func() { _ = fl.Unlock() }, nil
}
