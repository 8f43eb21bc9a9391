package twitter

// toASCIILen is the length of punycode.js 1.4.1's toASCII(label), which
// twitter-text checks against 63: the separators . 。 ． ｡ become dots, and
// each part holding a character outside U+0020–U+007E becomes "xn--" and its
// punycode (RFC 3492, without case mapping). Counting stops once past 64,
// which is all the caller needs to know.
func toASCIILen(label []uint16) int {
	n, start := 0, 0
	for i := 0; i <= len(label); i++ {
		if i < len(label) && !isSeparator(label[i]) {
			continue
		}
		part := label[start:i]
		ascii := true
		for _, c := range part {
			ascii = ascii && c >= 0x20 && c <= 0x7E
		}
		if ascii {
			n += len(part)
		} else {
			n += len("xn--") + punycodeLen(codePoints(part), maxLabel+2-n)
		}
		if i < len(label) {
			n++ // the dot
		}
		if n > maxLabel+1 {
			return n
		}
		start = i + 1
	}
	return n
}

func isSeparator(c uint16) bool { return c == '.' || c == 0x3002 || c == 0xFF0E || c == 0xFF61 }

// codePoints is punycode.js's ucs2decode: surrogate pairs joined, a lone
// surrogate kept as it is.
func codePoints(u []uint16) []int {
	out := make([]int, 0, len(u))
	for i := 0; i < len(u); i++ {
		c := int(u[i])
		if c >= 0xD800 && c <= 0xDBFF && i+1 < len(u) && u[i+1] >= 0xDC00 && u[i+1] <= 0xDFFF {
			c = 0x10000 + (c-0xD800)<<10 + int(u[i+1]) - 0xDC00
			i++
		}
		out = append(out, c)
	}
	return out
}

// punycodeLen is the length of punycode.js's encode(input), counted up to
// limit.
func punycodeLen(input []int, limit int) int {
	const (
		base, tMin, tMax = 36, 1, 26
	)
	out := 0
	for _, c := range input {
		if c < 0x80 {
			out++
		}
	}
	handled, basic := out, out
	if basic > 0 {
		out++ // the delimiter
	}
	n, delta, bias := 0x80, 0, 72
	for handled < len(input) && out <= limit {
		m := 1 << 62
		for _, c := range input {
			if c >= n && c < m {
				m = c
			}
		}
		delta += (m - n) * (handled + 1)
		n = m
		for _, c := range input {
			if c < n {
				delta++
			}
			if c != n {
				continue
			}
			q := delta
			for k := base; ; k += base {
				t := k - bias
				if k <= bias {
					t = tMin
				} else if k >= bias+tMax {
					t = tMax
				}
				if q < t {
					break
				}
				out++
				q = (q - t) / (base - t)
			}
			out++
			bias = adapt(delta, handled+1, handled == basic)
			delta = 0
			handled++
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
		delta >>= 1
	}
	delta += delta / points
	k := 0
	for delta > 35*26>>1 {
		delta /= 35
		k += 36
	}
	return k + 36*delta/(delta+38)
}
