package mastodon

import (
	"strings"
	"testing"

	"github.com/rivo/uniseg"
)

func TestCount(t *testing.T) {
	long := "https://example.com/" + strings.Repeat("a", 5000)
	tests := []struct {
		text string
		want int // what Mastodon counts, or more where noted
	}{
		{"", 0},
		{"hello", 5},
		{link, 23},
		{"see " + link, 27},
		{"(" + link + ").", 26},
		{"x https://example.com/a.b.c, y", 28},
		{"https://a.co", 23}, // a short URL counts 23 too
		{"HTTPS://STATUS.EXAMPLE.COM/X", 23},
		{"https://a.com/x?y=1&z=2.", 24},
		{"https://a.com/x?", 24},
		{"https://a.com:8443/x", 23},
		{"https://status.example.community/x", 23},            // a TLD of twitter-text's whole list
		{"https://status.runbox/x", 23 + 13},                  // Mastodon: 23 (no TLD, so not a URL); counted high
		{"https://a.com/x(y)", 23 + 3},                        // Mastodon: 23; balanced parentheses are not followed here
		{"http://localhost:8080/x", 23 + 13},                  // Mastodon: 23 (no known TLD, so not a URL); counted high
		{"gemini://a.co", 13 + 13},                            // Mastodon: 23
		{"example.com/https://status.example.com/x", 40 + 13}, // Mastodon: 40
		{"xhttps://status.example.com/x", 29},                 // not a URL after a letter
		{long, 5020 + 13},                                     // over 4096: Mastodon counts it in full
		{"@alice@example.social hi", 9},
		{"@alice hi", 9},
		{"mail@alice@example.social", 25},
		{"@alice@e hi", 11}, // a one-letter domain is not a domain for newer Mastodons
		{"@alice@example.social@x", 23},
		{"👩‍👩‍👧 family", 8},
		{"e\u0301", 1},
	}
	for _, tc := range tests {
		if got := Count(tc.text, 23); got != tc.want {
			t.Errorf("Count(%q) = %d, want %d", tc.text, got, tc.want)
		}
	}
}

// FuzzCount checks that the count never falls below what Mastodon counts for
// texts whose Mastodon count is known, is exact for plain text, and never
// panics.
func FuzzCount(f *testing.F) {
	for _, s := range []string{"", "hello", "see " + link, "@a@b.social x", "https://a.co,https://b.co", "ﬀ\u0301 👩‍👩‍👧", "\xff\xfe:@", "httpſ://a.co"} {
		f.Add(s, "incidents/x", "alice")
	}
	f.Fuzz(func(t *testing.T, s, path, user string) {
		n := Count(s, 23)
		if n < 0 {
			t.Fatalf("Count(%q) = %d", s, n)
		}
		if !strings.ContainsAny(s, ":@") {
			if want := uniseg.GraphemeClusterCount(s); n != want {
				t.Errorf("Count(%q) = %d, want %d graphemes", s, n, want)
			}
		}
		if max := uniseg.GraphemeClusterCount(s) + 15*strings.Count(s, "://") + 1; n > max {
			t.Errorf("Count(%q) = %d, more than %d", s, n, max)
		}

		// A text around a status-page link: Mastodon counts the link as 23.
		plain := strings.NewReplacer(":", "", "@", "", "＠", "").Replace(s)
		p := sanitize(path, "abcdefghijklmnopqrstuvwxyz0123456789/_-")
		text := plain + " https://status.example.com/" + p + " " + plain
		want := uniseg.GraphemeClusterCount(plain + " " + strings.Repeat("x", 23) + " " + plain)
		if got := Count(text, 23); got < want {
			t.Errorf("Count(%q) = %d, Mastodon counts %d", text, got, want)
		}

		// A remote mention: Mastodon counts @user.
		if u := sanitize(user, "abcdefghijklmnopqrstuvwxyz0123456789_"); u != "" {
			text := plain + " @" + u + "@example.social " + plain
			want := uniseg.GraphemeClusterCount(plain + " @" + u + " " + plain)
			if got := Count(text, 23); got < want {
				t.Errorf("Count(%q) = %d, Mastodon counts %d", text, got, want)
			}
		}
	})
}

func sanitize(s, allowed string) string {
	return strings.Map(func(r rune) rune {
		if strings.ContainsRune(allowed, r) {
			return r
		}
		return -1
	}, strings.ToLower(s))
}
