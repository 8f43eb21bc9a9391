package twitter

import (
	"regexp"
	"sync"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// MaxLength is X's limit for a post: 280 weighted characters
// (twitter-text config v3, maxWeightedTweetLength).
const MaxLength = 280

// urlLength is what every URL counts, whatever its length
// (twitter-text config v3, transformedURLLength).
const urlLength = 23

// Length counts text the way X does (twitter-text v3) and returns the count
// and the limit. Text that twitter-text calls invalid whatever its length
// (it holds U+FFFE, U+FEFF or U+FFFF) is reported one over the limit, so it
// is never taken for text that fits.
func (c *channel) Length(text string) (n, limit int) {
	n, valid := weigh(text)
	if !valid && n <= MaxLength {
		n = MaxLength + 1
	}
	return n, MaxLength
}

// weigh returns the weighted length twitter-text 3.1.0's parseTweet gives
// text, and whether twitter-text considers the text's characters valid. It
// follows parseTweet step by step, in UTF-16 code units as JavaScript does:
//
//   - the text is NFC-normalized;
//   - every URL extractUrlsWithIndices finds counts 23 (see extractURLs);
//   - every emoji twemoji-parser finds (a pictograph with its variation
//     selector or skin tone, the ZWJ sequences, flags and keycaps of its
//     list) counts 2;
//   - any other code point counts 1 in U+0000–U+10FF, U+2000–U+200D,
//     U+2010–U+201F and U+2032–U+2037, and 2 elsewhere (CJK, most symbols,
//     everything outside the Basic Multilingual Plane).
//
// internal/countcheck compares it with twitter-text on random texts.
func weigh(text string) (n int, valid bool) {
	s := norm.NFC.String(text)
	u := utf16.Encode([]rune(s))
	urls := map[int]int{} // start -> length, in code units; a later entity at the same start wins
	for _, e := range extractURLs(u) {
		urls[e.start] = e.length
	}
	emoji := map[int]int{}
	for _, e := range findEmoji(s) {
		emoji[e.start] = e.length
	}
	valid = true
	for i := 0; i < len(u); i++ {
		if l, ok := urls[i]; ok {
			n += 100 * urlLength
			i += l - 1
			continue
		}
		if l, ok := emoji[i]; ok {
			n += 200
			i += l - 1
			continue
		}
		if i+1 < len(u) && u[i] >= 0xD800 && u[i] <= 0xDBFF && u[i+1] >= 0xDC00 && u[i+1] <= 0xDFFF {
			i++ // a surrogate pair weighs what its second half does
		}
		switch u[i] {
		case 0xFFFE, 0xFEFF, 0xFFFF:
			valid = false
		}
		n += 100 * weight(rune(u[i]))
	}
	return n / 100, valid
}

// weight is a code unit's weight outside URLs and emoji.
func weight(r rune) int {
	switch {
	case r <= 0x10FF, r >= 0x2000 && r <= 0x200D, r >= 0x2010 && r <= 0x201F, r >= 0x2032 && r <= 0x2037:
		return 1
	}
	return 2
}

// entity is what twitter-text found in a text: it starts at a UTF-16 index
// and its text is length code units long.
type entity struct{ start, length int }

var emojiRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(emojiPattern) }) // compiled on first use

// findEmoji returns the emoji twemoji-parser finds in s, in UTF-16 code units.
func findEmoji(s string) []entity {
	ms := emojiRE().FindAllStringIndex(s, -1)
	if ms == nil {
		return nil
	}
	out := make([]entity, 0, len(ms))
	byte16, unit := 0, 0 // a byte offset and its code unit
	at := func(b int) int {
		for byte16 < b {
			r, size := utf8.DecodeRuneInString(s[byte16:])
			byte16 += size
			unit += utf16.RuneLen(r)
		}
		return unit
	}
	for _, m := range ms {
		start := at(m[0])
		out = append(out, entity{start, at(m[1]) - start})
	}
	return out
}

// unitSet is a set of UTF-16 code units.
type unitSet struct{ bits [1 << 10]uint64 }

func newUnitSet(ranges [][2]uint16) *unitSet {
	s := &unitSet{}
	for _, r := range ranges {
		for c := int(r[0]); c <= int(r[1]); c++ {
			s.bits[c>>6] |= 1 << (c & 63)
		}
	}
	return s
}

func (s *unitSet) has(c uint16) bool { return s.bits[c>>6]&(1<<(c&63)) != 0 }
