package twitter

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/rivo/uniseg"
	"golang.org/x/text/unicode/norm"
)

// conformance holds cases from twitter-text's conformance data,
// github.com/twitter/twitter-text conformance/tests/validate.yml (commit
// 3b8031c80efe49f16fd282a55e28eb23aef2ad85; Copyright Twitter, Inc., Apache
// License 2.0): the section WeightedTweetsWithDiscountedEmojiCounterTest (the
// v3 configuration with emoji parsing), UnicodeDirectionalMarkerCounterTest,
// two normalization cases of WeightedTweetsCounterTest whose rules are the
// same in v3, and the length and URL-without-protocol cases of the older
// sections whose expectations still hold under v3. Long texts are built with
// strings.Repeat; the comment gives the length the file states. Invisible
// characters are written as escapes.
var conformance = []struct {
	name  string
	text  string
	want  int
	valid bool
}{
	// WeightedTweetsWithDiscountedEmojiCounterTest
	{"Regular Tweet with url", "Hi http://test.co", 26, true},
	{"Just url", "http://test.co", 23, true},
	{"Long tweet, overflow at char index 280", "285 chars-" + strings.Repeat("xxxxxxxxxx-", 25), 285, true},
	{"Long tweet with url in the middle", "285 chars- http://www.twitter.com/jack " + strings.Repeat("xxxxxxxxxx-", 24), 299, true},
	{"Long tweet with url at the end", strings.Repeat("xxxxxxxxxx-", 24) + " http://www.twitter.com/jack ", 289, true},
	{"10 url string, no overflow", strings.Repeat("https://www.twitter.com/aloha ", 10), 240, true},
	{"160 CJK char", cjk160, 320, true},
	{"160 emoji char", strings.Repeat("\U0001F637", 160), 320, true},
	{"3 latin char + 160 CJK char", "the" + cjk160, 323, true},
	{"282 chars with a normalized character", "282 chars-" + strings.Repeat("xxxxxxxxxx-", 24) + "xxxxxA\u0301x", 281, true},
	{"mix of single and double word characters", "H\U0001F431\u263A" + family, 7, true},
	{"emoji inside the basic multilingual plane", "\U0001F637\U0001F47E\U0001F621\U0001F525\U0001F4A9", 10, true},
	{"emoji with skin tone modifiers", "\U0001F64B\U0001F3FD\U0001F468\u200D\U0001F3A4", 4, true},
	{"General Punctuation, no ZWJ/ZWNJ", "This is a tweet with general punctuation characters: " +
		"\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200A\u200B" +
		" \u2010 \u2011 \u2012 \u2013 \u2014 \u2015 \u2016  \u2017 \u2018 \u2019 \u201A \u201B \u201C \u201D \u201E \u201F" +
		" \u2032 \u2033 \u2034 \u2035 \u2036 \u2037", 110, true},
	// The file spells out 249 copies of "somesuperlongurl" per URL (12,076 characters in all).
	{"long url with invalid domain labels and short url", "Long url with invalid domain labels and a short url: " +
		strings.Repeat("https://"+strings.Repeat("somesuperlongurl", 249)+".com/foo ", 3) + "https://validurl.com", 12079, true},
	{"64 character domain without protocol", strings.Repeat("randomurl", 7) + "s.com", 68, true},
	{"CJK host over 63 punycode characters", kana120 + " http://" + strings.Repeat(kana10, 5) + "あいう.com", 358, true},
	{"CJK host under 63 punycode characters", kana120 + " http://" + strings.Repeat(kana10, 5) + "あい.com", 264, true},
	{"140 family emoji", strings.Repeat(family, 140), 280, true},
	{"Unicode 10.0 emoji", "Unicode 10.0 emoji: \U0001F92A; \U0001F9D5; \U0001F9D5\U0001F3FE; " +
		"\U0001F3F4\U000E0067\U000E0062\U000E0065\U000E006E\U000E0067\U000E007F", 34, true},
	{"Unicode 9.0 emoji", "Unicode 9.0 emoji: \U0001F920; \U0001F483; \U0001F483\U0001F3FE", 29, true},
	// UnicodeDirectionalMarkerCounterTest
	{"invalid characters", "ABC\u202A\uFFFFABC\uFFFE", 12, false},
	{"directional characters", "\u2066\u202Ahttp://foobar.پاکستان/\u202C\u2069", 31, true},
	// WeightedTweetsCounterTest (normalization, same in v3)
	{"'Á' is normalized into 1 char", "A\u0301B", 2, true},
	{"שּׁ is normalized into 3 chars", "A\uFB2C", 4, true},
	// lengths (the cases whose v1 expectations v3 keeps)
	{"Count the number of characters", "This is a test.", 15, true},
	{"URL starting with http://", "http://test.com", 23, true},
	{"URL starting with https://", "https://test.com", 23, true},
	{"URL without protocol", "test.com", 23, true},
	{"multiple URLs", "Test https://test.com test https://test.com test.com test", 86, true},
	// urls_without_protocol: each is one URL, so it counts 23
	{"domain + gTLD", "example.com", 23, true},
	{"subdomain + domain + gTLD", "www.example.com", 23, true},
	{"domain + ccTLD", "t.co", 23, true},
	{"subdomain + domain + ccTLD", "foo.co.jp", 23, true},
	{"domain + path + query", "example.com/path/to/resource?search=foo&lang=en", 23, true},
}

const (
	cjk160 = "故人西辞黄鹤楼，烟花三月下扬州。孤帆远影碧空尽，唯见长江天际流。朱雀桥边野草花，乌衣巷口夕阳斜。" +
		"旧时王谢堂前燕，飞入寻常百姓家。朝辞白帝彩云间，千里江陵一日还。两岸猿声啼不住，轻舟已过万重山。" +
		"泪湿罗巾梦不成，夜深前殿按歌声。红颜未老恩先断，斜倚薰笼坐到明。独在异乡为异客，每逢佳节倍思亲。" +
		"遥知兄弟登高处，遍插茱萸少一人。"
	kana10 = "あいうえおかきくけこ"
	family = "\U0001F468\u200D\U0001F469\u200D\U0001F467\u200D\U0001F466"
)

var kana120 = strings.Repeat(kana10, 12)

func TestConformance(t *testing.T) {
	if n := utf8.RuneCountInString(cjk160); n != 160 {
		t.Fatalf("cjk160 has %d characters", n)
	}
	for _, tc := range conformance {
		t.Run(tc.name, func(t *testing.T) {
			n, valid := weigh(tc.text)
			if n != tc.want || valid != tc.valid {
				t.Errorf("weigh = %d, valid %v; twitter-text says %d, valid %v", n, valid, tc.want, tc.valid)
			}
			got, limit := (&channel{}).Length(tc.text)
			if limit != 280 || (tc.valid && got != tc.want) || (!tc.valid && got <= limit) {
				t.Errorf("Length = %d/%d", got, limit)
			}
		})
	}
}

// TestURLs checks the URL finder on texts a status update holds, and on
// what twitter-text 3.1.0 does not take for a URL (each count is
// parseTweet's).
func TestURLs(t *testing.T) {
	for _, tc := range []struct {
		text string
		want int
	}{
		{"[Investigating] IMAP logins fail. Details: https://status.example.com/incidents/2026-11-27-imap.html", 43 + 23},
		{"See status.example.com/x.", 4 + 23 + 1},
		{"(https://en.wikipedia.org/wiki/Primer_(film))", 1 + 23 + 1},
		{"https://example.com/a?b=c.", 23 + 1},
		{"mail@example.com", 16},                 // after @: not a URL
		{"v1.2.3 e.g. i.e.", 16},                 // no TLD
		{"Node.js", 7},                           // "js" is no TLD
		{"https://t.co/abc123/more", 23 + 5},     // t.co takes no more path
		{"x https://example.com:8080/p", 2 + 23}, // port
		{"example.com_path", 23 + 5},             // "_path" is no part of the host
		{"http://test.-twitter.com", 24},         // invalid label, then skipped after "-"
		{"https://ÉXAMPLE.com/é", 23},            // Latin letters in host and path
		{"go to www.example.com!", 6 + 23 + 1},   // trailing punctuation
		{"http://☃.net/", 23},                    // Unicode label with protocol
		{"☃.net", 2 + 4},                         // ...but not without
		{"例え.jp", 7},                             // nor this one
		{"日本.example.com/path", 5 + 23},          // the ASCII domain inside takes the path
		{"foo/example.com", 15},                  // after "/": ignored
		{"status.example.community", 23},         // the longer TLD
		{"https://status.example.notatld/xxxx", 35},
		{"www.runbox.…", 13},           // a URL cut inside its TLD is no URL
		{"https://www.runbox.co…", 25}, // ...unless what is left ends in one
		{"http://xn--.com", 15},
		{"https://t.co/" + strings.Repeat("a", 41), 54}, // a t.co slug over 40 is no URL
		{"   ", 3},
	} {
		if n, _ := weigh(tc.text); n != tc.want {
			t.Errorf("weigh(%q) = %d, want %d (urls %v)", tc.text, n, tc.want, extractURLs(utf16.Encode([]rune(norm.NFC.String(tc.text)))))
		}
	}
}

// FuzzLength checks that the count never says a text fits when X would count
// it longer: it is at least a lower bound computed independently (every
// grapheme counts at least 1, and a word can only shrink to 23 if it holds a
// dot), it is exact on text that cannot hold a URL or an emoji, and it never
// panics.
func FuzzLength(f *testing.F) {
	for _, tc := range conformance {
		if len(tc.text) < 400 {
			f.Add(tc.text)
		}
	}
	f.Add("[Monitoring] IMAP/POP: fix deployed. https://status.example.com/i/1 ✅ 👩🏽‍💻 🇳🇴")
	f.Fuzz(func(t *testing.T, text string) {
		n, limit := (&channel{}).Length(text)
		if limit != MaxLength || n < 0 {
			t.Fatalf("Length = %d/%d", n, limit)
		}
		s := norm.NFC.String(text)
		if lb := lowerBound(s); n < lb {
			t.Fatalf("Length(%q) = %d, below the lower bound %d", text, n, lb)
		}
		if !strings.Contains(s, ".") && strings.IndexFunc(s, func(r rune) bool { return r >= 0x2000 }) < 0 {
			want := 0
			for _, r := range s {
				want += weight(r)
			}
			if n != want {
				t.Fatalf("Length(%q) = %d, want %d", text, n, want)
			}
		}
	})
}

func lowerBound(s string) int {
	n := 0
	for _, word := range strings.FieldsFunc(s, unicode.IsSpace) {
		g := uniseg.GraphemeClusterCount(word)
		if strings.Contains(word, ".") {
			g = min(g, urlLength)
		}
		n += g
	}
	return n
}
