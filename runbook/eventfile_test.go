package runbook

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/incident-cli/incident/publishers"
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

// everyKind is one event of each kind with every field its kind uses set,
// with text that needs escaping and times with nanoseconds and offsets.
func everyKind() []Event {
	at := time.Date(2026, 11, 27, 10, 15, 0, 123456789, time.UTC)
	oslo := time.FixedZone("", 3600)
	started := time.Date(2026, 11, 27, 10, 2, 0, 0, oslo)
	n := 1200
	zero := 0
	text := "Line one \"quoted\" \\ back\nline two\ttab · ünïcödé 🚨 <b>&amp;</b> \u0007bell ''' \"\"\""
	return []Event{
		{Kind: KindOpened, At: at, By: "alice", Host: "laptop.example", Title: "IMAP/POP login failures", Severity: "major",
			Services: []string{"imap", "smtp"}, Accounts: &n, StartedAt: &started},
		{Kind: KindUpdate, At: at.Add(time.Second), By: "alice", Host: "laptop", Status: Identified, Message: text,
			Channels: []string{"status page", "community", "mastodon"}},
		{Kind: KindUpdate, At: at.Add(2 * time.Second), By: "bob", Status: Resolved, Post: "rfo", Message: "RFO", Channels: []string{"status page"},
			RFO: &RFOText{Summary: text, Impact: "Some", RootCause: "A full disk.", Mitigation: "Freed space.", FollowUp: "Alerts.",
				Timeline: []TimelineLine{{At: at, Text: "Opened"}, {At: at.Add(time.Minute), Text: text}}}},
		{Kind: KindDelivered, At: at.Add(3 * time.Second), Update: "20261127T101500.123456789Z-update-k3f9ab", Channel: "community",
			Receipt: &publishers.Receipt{ID: "4711", URL: "https://community.example.com/t/imap/12/3", At: at.Add(3 * time.Second),
				Meta: map[string]string{"topic_id": "12", "topic_slug": "imap-pop", "post_number": "3", "odd key": text}}},
		{Kind: KindDelivered, At: at.Add(4 * time.Second), Update: "u", Channel: "x", Receipt: &publishers.Receipt{ID: "1", At: at}},
		{Kind: KindFailed, At: at.Add(5 * time.Second), Update: "u", Channel: "mastodon", Error: "mastodon: post status: 503 " + text, Attempts: 4},
		{Kind: KindFailed, At: at.Add(6 * time.Second), Update: "u", Channel: "x", Error: "refused", Attempts: 1, Permanent: true},
		{Kind: KindNote, At: at.Add(7 * time.Second), By: "carol", Text: text, Public: true},
		{Kind: KindStep, At: at.Add(8 * time.Second), By: "alice", Phase: "open", Step: "call-oncall", Outcome: "skipped", Value: "", Text: "nobody answers", Run: "a1b2c3d4"},
		{Kind: KindChanged, At: at.Add(9 * time.Second), Accounts: &zero, Severity: "critical", Services: []string{"webmail"}, StartedAt: &started},
		{Kind: KindRFODraft, At: at.Add(10 * time.Second), RFO: &RFOText{Summary: "s", RootCause: "r", Mitigation: "m", FollowUp: "f"}},
		{Kind: KindClaim, At: at.Add(11 * time.Second), By: "bob", Host: "other", Update: "u", Channel: "community"},
		{Kind: KindOpened, At: at.Add(12 * time.Second), By: "nodeping", Title: "IMAP", Status: Triggered, Route: "imap", PublishAfter: "10m",
			Services: []string{"imap"}, StartedAt: &started},
		{Kind: KindAlert, At: at.Add(13 * time.Second), By: "alertmanager", Alert: &AlertRecord{Source: "alertmanager", Key: "92716253bb78e41d",
			Group: `{}:{alertname="IMAPDown"}`, Firing: true, StartsAt: &started, Name: "IMAPDown", Summary: text, Severity: "critical",
			Labels: map[string]string{"alertname": "IMAPDown", "odd key": text}, URL: "http://prometheus.example/graph"}},
		{Kind: KindAck, At: at.Add(14 * time.Second), By: "alice", How: "pushover"},
		{Kind: KindDismissed, At: at.Add(15 * time.Second), By: AutomaticAuthor, How: "recovered", Text: "recovered after 3 min", Action: "recover"},
		{Kind: KindUpdate, At: at.Add(16 * time.Second), By: AutomaticAuthor, Status: Investigating, Message: "m", Action: "autopost", Text: "why",
			States: map[string]string{"imap": "partial_outage"}, Phase: "update", Step: "post-update", Run: "r1", Channels: []string{"status page"}},
		{Kind: KindClaim, At: at.Add(17 * time.Second), By: "bob", Host: "other", Action: "autopost", Outcome: "released"},
		{Kind: KindDelivered, At: at.Add(18 * time.Second), Update: "u", Channel: "x", SupersededBy: "v", Note: "shortened to fit"},
	}
}

// canonical is an event as JSON with every time in UTC: the form the
// decoders' results are compared in (time.Location pointers differ).
func canonical(t *testing.T, e Event) string {
	t.Helper()
	e.ID = ""
	utc := func(p **time.Time) {
		if *p != nil {
			u := (**p).UTC()
			*p = &u
		}
	}
	e.At = e.At.UTC()
	utc(&e.StartedAt)
	if e.Receipt != nil {
		r := *e.Receipt
		r.At = r.At.UTC()
		e.Receipt = &r
	}
	if e.RFO != nil {
		x := *e.RFO
		x.Timeline = append([]TimelineLine(nil), x.Timeline...)
		for i := range x.Timeline {
			x.Timeline[i].At = x.Timeline[i].At.UTC()
		}
		e.RFO = &x
	}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestEventFilesBothDecoders: every kind of event, written by Store.Append
// as the tool writes it, reads back identically through go-toml/v2 (what
// the store reads with now) and BurntSushi/toml (what it read with before);
// and the event files in testdata/events, written by earlier versions,
// decode the same through both.
func TestEventFilesBothDecoders(t *testing.T) {
	s := &Store{Dir: t.TempDir()}
	first := Event{Kind: KindOpened, At: time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC), Title: "Round trip"}
	id, unlock, err := s.Create("2026-11-27-round-trip", &first)
	if err != nil {
		t.Fatal(err)
	}
	unlock()
	want := map[string]string{first.ID: canonical(t, first)}
	for _, e := range everyKind() {
		e := e
		if err := s.Append(id, &e); err != nil {
			t.Fatal(err)
		}
		want[e.ID] = canonical(t, e)
	}
	dir := filepath.Join(s.Dir, id)
	files, _ := filepath.Glob(filepath.Join(dir, "*.toml"))
	old, _ := filepath.Glob(filepath.Join("testdata", "events", "*.toml"))
	if len(files) != len(everyKind())+1 || len(old) == 0 {
		t.Fatalf("%d event files written, %d in testdata", len(files), len(old))
	}
	for _, p := range append(files, old...) {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var viaV2, viaBS Event
		if err := decodeEvent(src, &viaV2); err != nil {
			t.Errorf("%s: go-toml/v2: %v", p, err)
			continue
		}
		if _, err := toml.Decode(string(src), &viaBS); err != nil {
			t.Errorf("%s: BurntSushi: %v", p, err)
			continue
		}
		v2, bs := canonical(t, viaV2), canonical(t, viaBS)
		if v2 != bs {
			t.Errorf("%s: the decoders differ:\ngo-toml/v2: %s\nBurntSushi: %s", p, v2, bs)
		}
		name := strings.TrimSuffix(filepath.Base(p), ".toml")
		if w, ok := want[name]; ok && v2 != w {
			t.Errorf("%s: read back differs from what was written:\nread:    %s\nwritten: %s", p, v2, w)
		}
		if viaV2.Kind == "" || viaV2.At.IsZero() {
			t.Errorf("%s: decoded without kind or time: %s", p, v2)
		}
	}
	// The store reads them back as written, in order.
	evs, err := s.Events(id)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if got := canonical(t, e); got != want[e.ID] {
			t.Errorf("Store.Events %s:\nread:    %s\nwritten: %s", e.ID, got, want[e.ID])
		}
	}
}

// TestDecodeEventErrors: a damaged event file is an error with its line and
// column; keys a newer version may add are ignored.
func TestDecodeEventErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"kind = \"update\"\nat = 2026-11-27T10:00:00Z\nstatus = \n", "line 3, column"},
		{"<<<<<<< HEAD\n", "line 1, column"},
		{"kind = \"update\"\nattempts = \"four\"\n", "line 2, column"},
		{"kind = \"update\"\nat = 2026-11-27T10:00:00Z\nkind = \"note\"\n", "line 3, column"},
	} {
		var e Event
		err := decodeEvent([]byte(tc.src), &e)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want an error with %q", tc.src, err, tc.want)
		}
	}
	var e Event
	if err := decodeEvent([]byte("kind = \"note\"\nat = 2026-11-27T10:00:00Z\nfuture_field = 3\n[future_table]\nx = 1\n"), &e); err != nil || e.Kind != KindNote {
		t.Errorf("unknown keys: %v, %+v", err, e)
	}
}
