package pagers

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestPlain(t *testing.T) {
	tests := []struct{ in, want string }{
		{"IMAP down\r\non imap1", "IMAP down\non imap1"},
		{"a\tb", "a b"},
		{"red \x1b[31mtext\x1b[0m", "red [31mtext[0m"},
		{"nul\x00 and bell\a", "nul and bell"},
		{"evil \u202eexe.txt", "evil exe.txt"},
		{"bad \xff byte", "bad \uFFFD byte"},
		{"old\rmac", "old\nmac"},
	}
	for _, tc := range tests {
		if got := Plain(tc.in); got != tc.want {
			t.Errorf("Plain(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestCut(t *testing.T) {
	tests := []struct {
		in    string
		limit int
		size  func(string) int
		want  string
	}{
		{"short", 10, nil, "short"},
		{"exactly ten", 11, nil, "exactly ten"},
		{"the disk on imap1 is full", 20, nil, "the disk on imap1…"},
		{"abcdefghijklmnopqrstuvwxyz", 10, nil, "abcdefghi…"},
		{"word averyveryverylongword", 20, nil, "word averyveryveryl…"}, // the space is too early to cut at
		{"family 👨‍👩‍👧 here", 10, nil, "family…"},                       // the ZWJ sequence is one grapheme of 5 code points
		{"café crème brûlée", 9, nil, "café crè…"},
		{"café crème brûlée", 13, nil, "café crème…"},
		{"e\u0301e\u0301e\u0301e\u0301", 3, nil, "e\u0301…"}, // never splits a letter from its accent
		{"😀😀😀😀😀", 5, UTF16Len, "😀😀…"},
		{"abc", 0, nil, ""},
	}
	for _, tc := range tests {
		got := Cut(tc.in, tc.limit, tc.size)
		if got != tc.want {
			t.Errorf("Cut(%q, %d) = %q, want %q", tc.in, tc.limit, got, tc.want)
		}
		size := tc.size
		if size == nil {
			size = utf8.RuneCountInString
		}
		if size(got) > tc.limit || !utf8.ValidString(got) {
			t.Errorf("Cut(%q, %d) = %q: %d units", tc.in, tc.limit, got, size(got))
		}
		if got != tc.in && !strings.HasSuffix(got, Ellipsis) && got != "" {
			t.Errorf("Cut(%q) = %q: no ellipsis", tc.in, got)
		}
	}
}

func TestUTF16Len(t *testing.T) {
	if n := UTF16Len("aé😀"); n != 4 {
		t.Errorf("UTF16Len = %d, want 4", n)
	}
}
