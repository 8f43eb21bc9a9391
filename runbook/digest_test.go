package runbook

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestDigest: the digest of a record (names and sizes of its event files)
// is the same whether the folder is stated (Store.Digest, a warm build) or
// its files read (loadDigested, a cold build); it ignores temp files,
// dotfiles and folders, and changes with a new event, a removed one, and a
// file edited in place to another size.
func TestDigest(t *testing.T) {
	s, id := newStore(t)
	dir := filepath.Join(s.Dir, id)
	if err := s.Append(id, &Event{Kind: KindUpdate, At: time.Date(2026, 11, 27, 10, 5, 0, 0, time.UTC), Status: Investigating, Message: "Looking."}); err != nil {
		t.Fatal(err)
	}
	both := func(what string) string {
		t.Helper()
		d, err := s.Digest(id)
		if err != nil {
			t.Fatalf("%s: Digest: %v", what, err)
		}
		inc, read, _, err := s.loadDigested(id)
		if err != nil {
			t.Fatalf("%s: loadDigested: %v", what, err)
		}
		if d != read {
			t.Errorf("%s: Digest %s, the read's %s", what, d, read)
		}
		loaded, err := s.LoadFresh(id)
		if err != nil || !reflect.DeepEqual(inc.Events, loaded.Events) {
			t.Errorf("%s: loadDigested read other events than LoadFresh (%v)", what, err)
		}
		return d
	}
	first := both("two events")
	for _, junk := range []string{".tmp-123", ".hidden.toml", "notes.txt"} {
		if err := os.WriteFile(filepath.Join(dir, junk), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "folder.toml"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got := both("with temp files, dotfiles and a folder"); got != first {
		t.Errorf("junk beside the events changed the digest")
	}
	if err := s.Append(id, &Event{Kind: KindNote, At: time.Date(2026, 11, 27, 10, 6, 0, 0, time.UTC), Message: "A note."}); err != nil {
		t.Fatal(err)
	}
	added := both("a new event")
	if added == first {
		t.Error("a new event left the digest as it was")
	}
	names, _ := eventNames(dir)
	last := filepath.Join(dir, names[len(names)-1])
	b, _ := os.ReadFile(last)
	if err := os.WriteFile(last, []byte(strings.Replace(string(b), "A note.", "A longer note.", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if both("an event edited in place") == added {
		t.Error("an event edited to another size left the digest as it was")
	}
	if err := os.Remove(last); err != nil {
		t.Fatal(err)
	}
	if got := both("the event removed"); got != first {
		t.Errorf("removing the new event gave %s, want the first digest %s", got, first)
	}
	if _, err := s.Digest("no-such-incident"); err == nil {
		t.Error("Digest of a missing incident succeeded")
	}
	if _, _, _, err := s.loadDigested("no-such-incident"); !errors.Is(err, ErrUnknownIncident) {
		t.Errorf("loadDigested of a missing incident: %v", err)
	}
	if err := os.Mkdir(filepath.Join(s.Dir, "2026-11-27-empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := s.loadDigested("2026-11-27-empty"); !errors.Is(err, ErrUnknownIncident) {
		t.Errorf("loadDigested of an empty folder: %v", err)
	}
}

// TestEventFileFIFO: a FIFO put in place of an event file (a local user
// can make one) is refused with an error naming it, and is never waited on.
func TestEventFileFIFO(t *testing.T) {
	s, id := newStore(t)
	name := "20261127T100500.000000000Z-note-fifo00.toml"
	path := filepath.Join(s.Dir, id, name)
	if err := mkfifo(path); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := s.LoadFresh(id)
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), "not a regular file") || !strings.Contains(err.Error(), "move it out of the folder") {
			t.Errorf("with a FIFO: %v; want an error naming %s as not a regular file", err, name)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("reading a FIFO blocked")
	}
}

// TestEventFileSymlink: an event file that is a symbolic link (git carries
// them: a teammate's commit can point one at a key on this machine) is
// refused, naming the file, and what it points at is never read: its text
// reaches no error, record or page.
func TestEventFileSymlink(t *testing.T) {
	s, id := newStore(t)
	before, err := s.LoadFresh(id)
	if err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(t.TempDir(), "id_ed25519.toml")
	// Valid TOML an event decoder would take, holding a secret.
	body := "kind = \"note\"\nat = 2026-11-27T10:05:00Z\nnote = \"SECRET-KEY-MATERIAL-4f2a\"\n"
	if err := os.WriteFile(secret, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	name := "20261127T100500.000000000Z-note-link00.toml"
	path := filepath.Join(s.Dir, id, name)
	if err := os.Symlink(secret, path); err != nil {
		t.Skipf("no symlinks here: %v", err)
	}
	inc, err := s.LoadFresh(id)
	if err == nil {
		t.Fatalf("an incident with a symlinked event file loaded: %d events (%d before)", len(inc.Events), len(before.Events))
	}
	msg := err.Error()
	if !strings.Contains(msg, name) || !strings.Contains(msg, "symbolic link") || !strings.Contains(msg, "move it out of the folder") {
		t.Errorf("error %q: want it to name %s as a symbolic link and say what to do", msg, name)
	}
	if strings.Contains(msg, "SECRET-KEY-MATERIAL") {
		t.Errorf("the link's target reached the error: %q", msg)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LoadFresh(id); err != nil {
		t.Errorf("with the link moved out: %v", err)
	}
}

// TestIncidentFolderSymlink: an incident folder that is a symbolic link
// (to a copy of a record, or to any folder of TOML files on this machine)
// is no incident: it is not listed, and reading it by its name is refused,
// naming the link, without reading what it points at.
func TestIncidentFolderSymlink(t *testing.T) {
	s, id := newStore(t)
	elsewhere := t.TempDir()
	src := filepath.Join(s.Dir, id)
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(elsewhere, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	link := "2026-11-27-linked"
	if err := os.Symlink(elsewhere, filepath.Join(s.Dir, link)); err != nil {
		t.Skipf("no symlinks here: %v", err)
	}
	ids, err := s.IDs()
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(ids, link) {
		t.Errorf("IDs lists the link: %v", ids)
	}
	if s.Exists(link) {
		t.Error("Exists: true for the link")
	}
	reads := map[string]func() error{
		"Load":      func() error { _, err := s.Load(link); return err },
		"LoadFresh": func() error { _, err := s.LoadFresh(link); return err },
		"Digest":    func() error { _, err := s.Digest(link); return err },
		"loadDigested": func() error {
			_, _, _, err := s.loadDigested(link)
			return err
		},
		"Append": func() error { return s.Append(link, &Event{Kind: KindNote, Note: "x"}) },
	}
	for name, read := range reads {
		err := read()
		if err == nil {
			t.Errorf("%s of the link: no error", name)
			continue
		}
		if name != "Append" && (!strings.Contains(err.Error(), link) || !strings.Contains(err.Error(), "symbolic link")) {
			t.Errorf("%s of the link: %v; want an error naming it as a symbolic link", name, err)
		}
	}
	if after, _ := os.ReadDir(elsewhere); len(after) != len(entries) {
		t.Errorf("the folder the link points at now holds %d files, had %d", len(after), len(entries))
	}
}
