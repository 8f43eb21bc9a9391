package bluesky

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/rivo/uniseg"

	"github.com/incident-cli/incident/publishers"
	"github.com/incident-cli/incident/publishers/publisherstest"
)

func TestLinkFacets(t *testing.T) {
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"Details: " + link + ".", []string{link}},
		{"(see https://example.com/wiki/A_(b)) and http://x.example/y, then https://z.example", []string{"https://example.com/wiki/A_(b)", "http://x.example/y", "https://z.example"}},
		{"Öffnen: https://status.example.com/ö?x=1!", []string{"https://status.example.com/ö?x=1"}},
		{"nohttps://example.com status.example.com https://", nil},
	} {
		var got []string
		for _, f := range linkFacets(tc.text) {
			got = append(got, tc.text[f.Index.ByteStart:f.Index.ByteEnd])
			if f.Features[0].URI != got[len(got)-1] || f.Features[0].Type != "app.bsky.richtext.facet#link" {
				t.Errorf("%q: facet %+v", tc.text, f)
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("linkFacets(%q) covers %q, want %q", tc.text, got, tc.want)
		}
	}
}

func TestRecordKey(t *testing.T) {
	p := publisherstest.Post(2, "x")
	k1, err := recordKey(p)
	if err != nil || !tidPattern.MatchString(k1) {
		t.Fatalf("recordKey = %q, %v", k1, err)
	}
	if k2, _ := recordKey(p); k2 != k1 {
		t.Errorf("same post, keys %q and %q", k1, k2)
	}
	q := p
	q.Key += "x"
	if k3, _ := recordKey(q); k3 == k1 || k3[:6] != k1[:6] {
		t.Errorf("another key at the same time: %q vs %q (the seconds must match, the rest differ)", k3, k1)
	}
	later := publisherstest.Post(3, "x")
	if k4, _ := recordKey(later); k4 <= k1 {
		t.Errorf("a later update sorts first: %q <= %q", k4, k1)
	}
	// The timestamp decodes to the update's second.
	var v uint64
	for _, c := range k1 {
		v = v<<5 | uint64(strings.IndexRune("234567abcdefghijklmnopqrstuvwxyz", c))
	}
	if got := time.UnixMicro(int64(v >> 10)).Truncate(time.Second); !got.Equal(p.Incident.Updates[1].At) {
		t.Errorf("TID time = %v, want %v", got, p.Incident.Updates[1].At)
	}
	if _, err := recordKey(publishers.Post{Key: "k"}); err == nil {
		t.Error("a post without any time got a key")
	}
}

func TestLength(t *testing.T) {
	ch := &channel{}
	for _, tc := range []struct {
		text string
		want int
	}{
		{"Störung: " + link, 9 + len(link)},
		{strings.Repeat("👩🏽‍💻", 200), 200},       // 15 bytes each: 3,000 bytes
		{strings.Repeat("👩🏽‍💻", 200) + "a", 301}, // 201 graphemes, but 3,001 bytes
		{strings.Repeat("🇳🇴", 301), 301},
		{strings.Repeat("ᄀ\u1161\u11A8", 300), 300},                           // Hangul jamo: one grapheme each
		{"\xff" + strings.Repeat("👩🏽‍💻", 199) + strings.Repeat("a", 14), 301}, // 3,000 bytes, but the bad byte is sent as U+FFFD: 3,002
	} {
		if n, limit := ch.Length(tc.text); n != tc.want || limit != 300 {
			t.Errorf("Length(%.20q…) = %d/%d, want %d", tc.text, n, limit, tc.want)
		}
	}
}

// FuzzLength checks the counter never says text fits that the PDS would
// refuse for its bytes (over 3000 as sent), that it counts between one
// grapheme and one per code unit, agrees with Unicode's rules (uniseg) on
// text without regional indicators, and never panics.
func FuzzLength(f *testing.F) {
	f.Add("Störung: " + link)
	f.Add(strings.Repeat("👩🏽‍💻", 200))
	f.Add("\xff\xfe" + strings.Repeat("é", 1499))
	f.Add("🇯🇵\u0301\u0302")
	f.Fuzz(func(t *testing.T, text string) {
		n, limit := (&channel{}).Length(text)
		if limit != MaxGraphemes || n < 0 {
			t.Fatalf("Length = %d/%d", n, limit)
		}
		sent, _ := json.Marshal(text)
		var decoded string
		json.Unmarshal(sent, &decoded)
		if n <= limit && len(decoded) > MaxBytes {
			t.Fatalf("Length(%q) = %d fits, but the PDS gets %d bytes", text, n, len(decoded))
		}
		if units := len(utf16.Encode([]rune(decoded))); len(decoded) <= MaxBytes && (n > units || decoded != "" && n < 1) {
			t.Fatalf("Length(%q) = %d for %d code units", text, n, units)
		}
		if utf8.ValidString(text) && len(text) <= MaxBytes && !strings.ContainsFunc(text, func(r rune) bool { return r >= 0x1F1E6 && r <= 0x1F1FF }) &&
			n != uniseg.GraphemeClusterCount(text) {
			t.Fatalf("Length(%q) = %d, want the grapheme count %d", text, n, uniseg.GraphemeClusterCount(text))
		}
	})
}
