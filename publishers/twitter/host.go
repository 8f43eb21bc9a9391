package twitter

import (
	"strings"
	"unicode"
)

func isPathChar(r rune) bool {
	return isASCIIAlnum(r) || isLatinAccent(r) || isCyrillic(r) || r == '–' || strings.ContainsRune("!*';:=+,.$/%#[]-_~|&@", r)
}

func isPathEnd(r rune) bool {
	return isASCIIAlnum(r) || isLatinAccent(r) || isCyrillic(r) || strings.ContainsRune("=_#/-+", r)
}

// isURLChar is twitter-text's URL_VALID_CHARS: ASCII letters and digits and
// Latin letters with accents.
func isURLChar(r rune) bool { return isASCIIAlnum(r) || isLatinAccent(r) }

func isLatinAccent(r rune) bool {
	switch {
	case r >= 0xC0 && r <= 0xD6, r >= 0xD8 && r <= 0xF6, r >= 0xF8 && r <= 0x24F,
		r == 0x253, r == 0x254, r == 0x256, r == 0x257, r == 0x259, r == 0x25B, r == 0x263,
		r == 0x268, r == 0x26F, r == 0x272, r == 0x289, r == 0x28B, r == 0x2BB,
		r >= 0x300 && r <= 0x36F, r >= 0x1E00 && r <= 0x1EFF:
		return true
	}
	return false
}

func isCyrillic(r rune) bool { return r >= 0x400 && r <= 0x4FF }

// isUnicodeHostChar is twitter-text's URL_VALID_UNICODE_CHARS: anything but
// ASCII punctuation, spaces and the General Punctuation block.
func isUnicodeHostChar(r rune) bool {
	return !unicode.IsSpace(r) && !unicode.Is(unicode.Z, r) && !(r >= 0x2000 && r <= 0x206F) &&
		!strings.ContainsRune("-_!\"#$%&'()*+,./:;<=>?@[]^`{|}~", r) && r != 0xFFFD
}

func isASCIIAlnum(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || isDigit(r)
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }

// validHost is twitter-text's isValidHostAndLength: every label fits in 63
// characters once punycode-encoded, and the URL in 4096.
func validHost(rs []rune, m match) bool {
	host := 0
	for _, l := range strings.Split(string(rs[m.hostStart:m.hostEnd]), ".") {
		n := asciiLabelLen([]rune(l))
		if n == 0 || n > 63 {
			return false
		}
		host += n + 1
	}
	n := m.end - m.start - (m.hostEnd - m.hostStart) + host - 1
	if !m.proto {
		n += len("https://")
	}
	return n <= 4096
}

// asciiLabelLen is a host label's length in its ASCII (IDNA) form: itself
// when ASCII, else "xn--" and its punycode (RFC 3492). Counting stops just
// past 63, which is all the caller needs to know.
func asciiLabelLen(l []rune) int {
	basic := 0
	for i, r := range l {
		l[i] = unicode.ToLower(r)
		if r < 0x80 {
			basic++
		}
	}
	if basic == len(l) {
		return len(l)
	}
	const (
		base, tmin, tmax, limit = 36, 1, 26, 64
	)
	out := 4 + basic // "xn--" + basic code points
	if basic > 0 {
		out++ // delimiter
	}
	n, delta, bias, h := rune(0x80), 0, 72, basic
	for h < len(l) && out <= limit {
		m := rune(unicode.MaxRune + 1)
		for _, r := range l {
			if r >= n && r < m {
				m = r
			}
		}
		delta += int(m-n) * (h + 1)
		n = m
		for _, r := range l {
			if r < n {
				delta++
			}
			if r != n {
				continue
			}
			q := delta
			for k := base; ; k += base {
				t := min(max(k-bias, tmin), tmax)
				if q < t {
					break
				}
				out++
				q = (q - t) / (base - t)
			}
			out++
			bias = adapt(delta, h+1, h == basic)
			delta = 0
			h++
		}
		delta++
		n++
	}
	return out
}

func adapt(delta, points int, first bool) int {
	if first {
		delta /= 700
	} else {
		delta /= 2
	}
	delta += delta / points
	k := 0
	for delta > (36-1)*26/2 {
		delta /= 36 - 1
		k += 36
	}
	return k + 36*delta/(delta+38)
}
