package runbook

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDecodeEventFile(t *testing.T) {
	const head = "kind = \"update\"\nat = 2026-11-27T10:00:00.123456789Z\nstatus = \"identified\"\n"
	for _, tc := range []struct {
		name, src, want string // want: part of the error, "" for none
	}{
		{"an event", head + "message = \"x\"\nchannels = [\"a\", \"b\"]\n[receipt]\nid = \"1\"\n[receipt.meta]\nslug = \"s\"\n", ""},
		{"brackets in strings", head + "message = \"[[[[ {{{{ a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.a.b.c.d.e.f.g.h\"\n", ""},
		{"brackets in multi-line strings", head + "message = \"\"\"\n" + strings.Repeat("[", 100) + "\n\"\"\"\ntext = '''" + strings.Repeat("{", 100) + "'''\n", ""},
		{"brackets in comments", head + "# " + strings.Repeat("[", 100) + "\nmessage = \"x\" # " + strings.Repeat("{", 100) + "\n", ""},
		{"floats and times", head + "x = [" + strings.Repeat("1.5, ", 100) + "2.5]\n", ""},
		{"nesting at the limit", head + "x = " + strings.Repeat("[", maxEventNesting) + strings.Repeat("]", maxEventNesting) + "\n", ""},
		{"too large", head + "message = \"" + strings.Repeat("x", MaxEventFile) + "\"\n", "is larger than 256 KiB"},
		{"nested arrays", head + "x = " + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + "\n", "nested more than 32 deep"},
		{"nested inline tables", head + "x = " + strings.Repeat("{a = ", 1000) + "1" + strings.Repeat("}", 1000) + "\n", "nested more than 32 deep"},
		{"nested across lines", head + "x = [\n" + strings.Repeat("[\n", 40) + strings.Repeat("]\n", 40) + "]\n", "nested more than 32 deep"},
		{"a long dotted key", head + strings.Repeat("a.", 8000) + "b = 1\n", "a key has too many parts"},
		{"a long dotted key in an inline table", head + "x = {" + strings.Repeat("a.", 8000) + "b = 1}\n", "a key has too many parts"},
		{"a long table header", head + "[" + strings.Repeat("a.", 8000) + "b]\nc = 1\n", "a table header has too many parts"},
		{"damaged", head + "message = \n", "the event file is damaged"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "20261127T100000.000000000Z-update-bbbbbb.toml")
			if err := os.WriteFile(p, []byte(tc.src), 0o644); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			_, err := decodeEventFile(p)
			if (tc.want == "") != (err == nil) || (err != nil && (!strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), p))) {
				t.Errorf("err = %v, want %q naming the file", err, tc.want)
			}
			t.Logf("%s in %s", tc.name, time.Since(start))
		})
	}
}

// TestAppendRefusesAnEventTooLargeToRead: the store never writes an event
// it would refuse to read back.
func TestAppendRefusesAnEventTooLargeToRead(t *testing.T) {
	s := &Store{Dir: t.TempDir()}
	id, unlock, err := s.Create("2026-11-27-imap", &Event{Kind: KindOpened, At: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC), Title: "IMAP"})
	if err != nil {
		t.Fatal(err)
	}
	unlock()
	err = s.Append(id, &Event{Kind: KindNote, Text: strings.Repeat("x", MaxEventFile)})
	if err == nil || !strings.Contains(err.Error(), "over the 256 KiB an event may hold") {
		t.Fatalf("Append = %v, want a refusal", err)
	}
	if evs, err := s.Events(id); err != nil || len(evs) != 1 {
		t.Errorf("events %v, %v: want only the opened one", evs, err)
	}
}

// TestAppendRefusesInvalidUTF8: text that is not UTF-8 (a terminal in
// another encoding) would make an event file no TOML reader takes: it is
// refused, nothing written.
func TestAppendRefusesInvalidUTF8(t *testing.T) {
	s := &Store{Dir: t.TempDir()}
	id, unlock, err := s.Create("2026-11-27-imap", &Event{Kind: KindOpened, At: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC), Title: "IMAP"})
	if err != nil {
		t.Fatal(err)
	}
	unlock()
	if err := s.Append(id, &Event{Kind: KindNote, Text: "Latin-1: caf\xe9"}); err == nil || !strings.Contains(err.Error(), "not valid UTF-8") {
		t.Fatalf("Append = %v, want a refusal", err)
	}
	if evs, err := s.Events(id); err != nil || len(evs) != 1 {
		t.Errorf("events %v, %v: want only the opened one", evs, err)
	}
}

// BenchmarkDecodeEventFile measures the shape check's cost on a typical
// update event against decoding alone:
//
//	go test ./runbook -run XXX -bench DecodeEventFile
func BenchmarkDecodeEventFile(b *testing.B) {
	s := &Store{Dir: b.TempDir()}
	id, unlock, err := s.Create("2026-11-27-imap", &Event{Kind: KindOpened, At: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC), Title: "IMAP"})
	if err != nil {
		b.Fatal(err)
	}
	unlock()
	e := &Event{Kind: KindUpdate, By: "alice", Host: "laptop", Status: Identified, Channels: []string{"status page", "community", "mastodon"},
		Message: "A brute-force attack overloads the IMAP servers. We are blocking the attacking networks; logins may fail for some customers until then."}
	if err := s.Append(id, e); err != nil {
		b.Fatal(err)
	}
	p := filepath.Join(s.Dir, id, e.ID+".toml")
	src, _ := os.ReadFile(p)
	b.Run("checked", func(b *testing.B) {
		for b.Loop() {
			if _, err := decodeEventFile(p); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("shape check alone", func(b *testing.B) {
		for b.Loop() {
			if err := checkEventShape(src); err != nil {
				b.Fatal(err)
			}
		}
	})
}
