package runbook

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
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
	// Unique makes new ids end in a few random characters (see NewID).
	Unique bool

	mu      sync.Mutex
	last    time.Time // the newest event time this process wrote
	written []Written

	lockHook func() // tests: called when Lock starts waiting
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

// NewID returns the id a new incident with this title, opened at at (in the
// runbook's primary zone), asks for: the date and a slug of the title. With
// Unique set (a runbook shared through git) it ends in a few random
// characters, so two laptops opening the same title on the same day make
// two incidents, never one merged folder.
func (s *Store) NewID(title string, at time.Time) string {
	id := at.Format("2006-01-02") + "-" + Slug(title)
	if s.Unique {
		id += "-" + randomSuffix()[:4]
	}
	return id
}

// Create makes the folder of a new incident holding its first event, and
// returns its id (base, or base-2, base-3 ... when that is taken) with the
// incident's lock held. The folder is built under a temporary name and
// renamed into place with the event in it, so no other process ever sees
// it empty: two opens of the same title at once get two folders, and a
// folder left empty by an older version is replaced, not shared.
func (s *Store) Create(base string, first *Event) (id string, unlock func(), err error) {
	if err := s.mkdirAll(s.Dir); err != nil {
		return "", nil, err
	}
	stage, err := os.MkdirTemp(s.Dir, ".new-")
	if err != nil {
		return "", nil, err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(stage)
		}
	}()
	if err := os.Chmod(stage, 0o755); err != nil {
		return "", nil, err
	}
	// The lock is taken on the staged folder: the lock file moves with it,
	// so the incident is locked from the moment it appears.
	fl := flock.New(filepath.Join(stage, ".lock"))
	if ok, err := fl.TryLock(); err != nil || !ok {
		return "", nil, fmt.Errorf("lock new incident: %v", err)
	}
	unlock = func() { _ = fl.Unlock() }
	defer func() {
		if err != nil {
			unlock()
		}
	}()
	s.stamp(first, time.Time{})
	name, data, err := encodeEvent(first)
	if err != nil {
		return "", nil, err
	}
	if err := writeAtomic(stage, name+".toml", data); err != nil {
		return "", nil, err
	}
	for n := 1; n < 1000; n++ {
		id = base
		if n > 1 {
			id = fmt.Sprintf("%s-%d", base, n)
		}
		err = os.Rename(stage, filepath.Join(s.Dir, id))
		if err == nil {
			if err = syncDir(s.Dir); err != nil {
				return "", nil, fmt.Errorf("create incident %s: %w", id, err)
			}
			first.ID = name
			s.wrote(id, first)
			return id, unlock, nil
		}
		if !errors.Is(err, fs.ErrExist) && !errors.Is(err, syscall.ENOTEMPTY) {
			return "", nil, err
		}
	}
	return "", nil, fmt.Errorf("too many incidents named %s", base)
}

// mkdirAll makes dir and syncs its parent when it had to create it, so a
// power cut cannot lose the folder under a published incident.
func (s *Store) mkdirAll(dir string) error {
	if st, err := os.Stat(dir); err == nil && st.IsDir() {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return syncDir(filepath.Dir(dir))
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
	_, err := s.incidentDir(id)
	return err == nil
}

// Check is Exists with the reason: nil for an incident's folder, an error
// matching ErrUnknownIncident when there is none, or one naming a folder
// the store refuses (a symbolic link) and saying what to do.
func (s *Store) Check(id string) error {
	_, err := s.incidentDir(id)
	return err
}

// incidentDir is the folder of incident id, refused unless it is a folder
// of its own: a symbolic link in the records (git carries them, so a
// teammate's commit can add one) would have the store read, fold and
// publish from whatever folder it points at. IDs lists no link either.
func (s *Store) incidentDir(id string) (string, error) {
	if !validID(id) {
		return "", fmt.Errorf("%w %q", ErrUnknownIncident, id)
	}
	dir := filepath.Join(s.Dir, id)
	st, err := os.Lstat(dir)
	switch {
	case err != nil:
		return "", fmt.Errorf("%w %q", ErrUnknownIncident, id)
	case st.Mode()&fs.ModeSymlink != 0:
		return "", fmt.Errorf("%s is a symbolic link, which no incident folder of this tool is: it did not come from incident; move it out of the folder", dir)
	case !st.IsDir():
		return "", fmt.Errorf("%w %q", ErrUnknownIncident, id)
	}
	return dir, nil
}

func validID(id string) bool {
	return id != "" && !strings.ContainsAny(id, `/\`) && !strings.HasPrefix(id, ".")
}

// Append writes one event into the incident's folder, atomically: a temp file
// in the same folder, written, synced, renamed into place, and the folder
// synced. A crash leaves either the whole event or none of it (and perhaps a
// stray temp file, which readers ignore). e.ID is set from the file name.
//
// The log's order follows causality, not the wall clock: an event is never
// stamped before the newest event already in the folder (a clock that
// stepped back, a laptop whose clock is behind), nor before the last event
// this process wrote. e.At may therefore be later than the clock says.
func (s *Store) Append(id string, e *Event) error {
	if !s.Exists(id) {
		return fmt.Errorf("%w %q", ErrUnknownIncident, id)
	}
	dir := filepath.Join(s.Dir, id)
	newest, err := newestEvent(dir)
	if err != nil {
		return err
	}
	s.stamp(e, newest)
	name, data, err := encodeEvent(e)
	if err != nil {
		return err
	}
	if err := writeAtomic(dir, name+".toml", data); err != nil {
		return err
	}
	e.ID = name
	s.wrote(id, e)
	return nil
}

// stamp sets e.At: the clock's time (e.At when set), but after newest and
// after the last event this process wrote.
func (s *Store) stamp(e *Event, newest time.Time) {
	if e.At.IsZero() {
		e.At = time.Now()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !e.At.After(newest) {
		e.At = newest.Add(time.Nanosecond)
	}
	if !e.At.After(s.last) {
		e.At = s.last.Add(time.Nanosecond)
	}
	e.At = e.At.UTC()
	s.last = e.At
}

func (s *Store) wrote(id string, e *Event) {
	s.dropOpenIndex()
	s.mu.Lock()
	s.written = append(s.written, Written{Incident: id, ID: e.ID, Kind: e.Kind})
	s.mu.Unlock()
}

// eventTimeLayout is the time at the start of every event file name.
const eventTimeLayout = "20060102T150405.000000000Z"

func encodeEvent(e *Event) (name string, data []byte, err error) {
	var buf bytes.Buffer
	if err := toml.NewEncoder(&buf).Encode(e); err != nil {
		return "", nil, fmt.Errorf("encode %s event: %w", e.Kind, err)
	}
	if err := checkEncodedEvent(e.Kind, buf.Bytes()); err != nil {
		return "", nil, err
	}
	return e.At.Format(eventTimeLayout) + "-" + string(e.Kind) + "-" + randomSuffix(), buf.Bytes(), nil
}

// newestEvent returns the time in the newest event file name in dir.
func newestEvent(dir string) (time.Time, error) {
	names, err := eventNames(dir)
	if err != nil || len(names) == 0 {
		return time.Time{}, err
	}
	return eventTime(names[len(names)-1]), nil
}

// eventTime is the time an event file name starts with (zero if it does not).
func eventTime(name string) time.Time {
	if len(name) < len(eventTimeLayout) {
		return time.Time{}
	}
	t, _ := time.Parse(eventTimeLayout, name[:len(eventTimeLayout)])
	return t
}

// eventNames lists the event files of an incident folder, sorted (which is
// their order in the log).
func eventNames(dir string) ([]string, error) {
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
	return names, nil
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
	return syncDir(dir)
}

// syncDir makes a rename or a new entry in dir durable. Its error is the
// caller's: a record that may vanish at a power cut is not recorded.
var syncDir = func(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync folder %s: %w", dir, err)
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
// With CacheDir set, an incident whose event files (their names and sizes)
// are unchanged since the last read is served from the cache.
func (s *Store) Events(id string) ([]Event, error) {
	return s.events(id, s.CacheDir != "")
}

// EventsFresh reads an incident's log from its files, never from a cache:
// for the paths that decide what to post (publish, retry, claims).
func (s *Store) EventsFresh(id string) ([]Event, error) {
	return s.events(id, false)
}

func (s *Store) events(id string, cached bool) ([]Event, error) {
	dir, err := s.incidentDir(id)
	if err != nil {
		return nil, err
	}
	names, err := eventNames(dir)
	if err != nil {
		return nil, err
	}
	if !cached {
		return s.readEvents(dir, names)
	}
	key, err := contentKey(dir, names)
	if err != nil {
		return nil, err
	}
	cache := filepath.Join(s.CacheDir, "events", id+".json")
	var c eventCache
	if b, err := os.ReadFile(cache); err == nil && json.Unmarshal(b, &c) == nil &&
		c.Version == eventCacheVersion && c.Key == key {
		return c.Events, nil
	}
	events, err := s.readEvents(dir, names)
	if err != nil {
		return nil, err
	}
	if b, err := json.Marshal(eventCache{Version: eventCacheVersion, Key: key, Events: events}); err == nil &&
		os.MkdirAll(filepath.Dir(cache), 0o700) == nil {
		_ = writeCache(filepath.Dir(cache), id+".json", b)
	}
	return events, nil
}

// contentKey summarises what an incident folder holds: the names of its
// event files and their sizes. Event files are written once and never
// changed, so the same key means the same events, whatever the folder's
// times say (a restore with cp -a or rsync -a keeps old times).
func contentKey(dir string, names []string) (string, error) {
	h := sha256.New()
	for _, n := range names {
		st, err := os.Lstat(filepath.Join(dir, n))
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s %d\n", n, st.Size())
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// eventCache is one incident's events as last read, valid while the folder
// holds the same files (see contentKey).
type eventCache struct {
	Version int     `json:"version"`
	Key     string  `json:"key"`
	Events  []Event `json:"events"`
}

const eventCacheVersion = 2

func (s *Store) readEvents(dir string, names []string) ([]Event, error) {
	events := make([]Event, 0, len(names))
	for _, n := range names {
		e, err := decodeEventFile(filepath.Join(dir, n))
		if err != nil {
			return nil, err
		}
		e.ID = strings.TrimSuffix(n, ".toml")
		events = append(events, e)
	}
	return events, nil
}

// Load reads and folds an incident (through the cache, when there is one).
// A folder with no event in it (an open of an older version killed between
// making the folder and writing its first event) is not an incident.
func (s *Store) Load(id string) (*Incident, error) {
	return s.load(id, s.Events)
}

// LoadFresh reads and folds an incident from its files, never from a cache.
// Publish, retry and claims use it: what they decide to post must rest on
// the record itself.
func (s *Store) LoadFresh(id string) (*Incident, error) {
	return s.load(id, s.EventsFresh)
}

func (s *Store) load(id string, read func(string) ([]Event, error)) (*Incident, error) {
	events, err := read(id)
	if err != nil {
		return nil, err
	}
	if len(events) == 0 {
		return nil, fmt.Errorf("%w %q (its folder holds no event)", ErrUnknownIncident, id)
	}
	return Fold(id, events), nil
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
	if s.lockHook != nil {
		s.lockHook()
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
