package twitter

import (
	"strings"

	"github.com/rivo/uniseg"
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

// weigh returns the twitter-text v3 weighted length of text and whether
// twitter-text considers the text's characters valid:
//
//   - the text is NFC-normalized first;
//   - every URL counts 23 (see findURLs; a candidate whose top-level domain is
//     not in our list counts the larger of 23 and its own weight);
//   - an emoji sequence (a pictograph with its variation selector, skin tone,
//     tag characters and ZWJ-joined pictographs; a flag; a keycap) counts 2;
//   - any other code point counts 1 in U+0000–U+10FF, U+2000–U+200D,
//     U+2010–U+201F and U+2032–U+2037, and 2 elsewhere (CJK, most symbols).
func weigh(text string) (n int, valid bool) {
	if strings.TrimLeftFunc(text, func(r rune) bool { return r <= ' ' }) == "" {
		return 0, true // twitter-text: text that trims to nothing counts 0
	}
	s := norm.NFC.String(text)
	rs := []rune(s)
	clusters := clusterStarts(s, len(rs))
	urls := findURLs(rs)
	valid = true
	for i, u := 0, 0; i < len(rs); {
		for u < len(urls) && urls[u].start < i {
			u++ // not reached: no emoji sequence runs into a URL
		}
		if u < len(urls) && urls[u].start == i {
			n += urls[u].weight
			i = urls[u].end
			u++
			continue
		}
		if k := emojiSequence(rs[i : i+clusters[i]]); k > 0 {
			n += 2
			i += k
			continue
		}
		switch rs[i] {
		case 0xFFFE, 0xFEFF, 0xFFFF:
			valid = false
		}
		n += weight(rs[i])
		i++
	}
	return n, valid
}

// weight is a code point's weight outside URLs and emoji sequences.
func weight(r rune) int {
	switch {
	case r <= 0x10FF, r >= 0x2000 && r <= 0x200D, r >= 0x2010 && r <= 0x201F, r >= 0x2032 && r <= 0x2037:
		return 1
	}
	return 2
}

// clusterStarts maps each rune index that starts a grapheme cluster of s to
// the cluster's length in runes; other indexes hold 1, so a slice from any
// index is never empty.
func clusterStarts(s string, n int) []int {
	lens := make([]int, n+1)
	for i := range lens {
		lens[i] = 1
	}
	i := 0
	state := -1
	for s != "" {
		var cluster string
		cluster, s, _, state = uniseg.FirstGraphemeClusterInString(s, state)
		k := min(len([]rune(cluster)), n-i)
		if k <= 0 {
			break
		}
		lens[i] = k
		i += k
	}
	lens[n] = 0
	return lens
}

// emojiSequence returns how many runes at the start of a grapheme cluster
// form an emoji sequence of two or more code points, or 0. A lone code point
// is left to weight(): every pictograph outside the weight-1 ranges counts 2
// either way, and twitter-text counts ©, ® and ™ as emoji only with U+FE0F.
// Code points the sequence does not take (a combining mark after an emoji)
// are counted on their own, as twitter-text does.
func emojiSequence(cl []rune) int {
	if len(cl) < 2 {
		return 0
	}
	switch r := cl[0]; {
	case isRegional(r):
		if isRegional(cl[1]) {
			return 2
		}
	case r == '#' || r == '*' || r >= '0' && r <= '9':
		j := 1
		if cl[j] == 0xFE0F {
			j++
		}
		if j < len(cl) && cl[j] == 0x20E3 {
			return j + 1
		}
	case isPictograph(r):
		j := pictographUnit(cl, 0)
		for j+1 < len(cl) && cl[j] == 0x200D && isPictograph(cl[j+1]) {
			j = pictographUnit(cl, j+1)
		}
		if j >= 2 {
			return j
		}
	}
	return 0
}

// pictographUnit returns the index after the pictograph at cl[i] and what
// belongs to it: U+FE0F, a skin-tone modifier, tag characters.
func pictographUnit(cl []rune, i int) int {
	i++
	if i < len(cl) && cl[i] == 0xFE0F {
		i++
	}
	if i < len(cl) && cl[i] >= 0x1F3FB && cl[i] <= 0x1F3FF {
		i++
	}
	for i < len(cl) && cl[i] >= 0xE0020 && cl[i] <= 0xE007F {
		i++
		if cl[i-1] == 0xE007F {
			break
		}
	}
	return i
}

func isRegional(r rune) bool { return r >= 0x1F1E6 && r <= 0x1F1FF }

// isPictograph approximates Unicode's Extended_Pictographic property (which
// neither the standard library nor uniseg exports) by the blocks emoji live in.
func isPictograph(r rune) bool {
	switch {
	case r == 0xA9, r == 0xAE, r == 0x203C, r == 0x2049, r == 0x2122, r == 0x2139,
		r == 0x24C2, r == 0x2934, r == 0x2935, r == 0x3030, r == 0x303D, r == 0x3297, r == 0x3299:
		return true
	case r >= 0x2190 && r <= 0x21FF, r >= 0x2300 && r <= 0x23FF, r >= 0x25A0 && r <= 0x27BF, r >= 0x2B00 && r <= 0x2BFF:
		return true
	case r >= 0x1F000 && r <= 0x1FAFF:
		return !isRegional(r) && !(r >= 0x1F3FB && r <= 0x1F3FF)
	}
	return false
}
