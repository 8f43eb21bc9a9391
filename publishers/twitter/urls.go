package twitter

import (
	"strings"
	"unicode"
)

// span is a URL found in a text: runes [start, end) and what it counts.
type span struct {
	start, end int
	weight     int
}

// findURLs finds the URLs X shortens to t.co, following twitter-text's
// extractor (Regex.VALID_URL plus Extractor.extractURLsWithIndices):
//
//   - a URL is preceded by the start of the text or by a character other
//     than a-z, 0-9, @, $, # (and their full-width forms);
//   - it has an optional http:// or https://, a host of dot-separated labels
//     (Latin letters, digits, - and _) ending in a top-level domain, an
//     optional port, path and query, each ending on a character twitter-text
//     allows at the end (so a final "." or "," stays outside);
//   - with a protocol, the label before the TLD may be any non-punctuation
//     Unicode (http://☃.net);
//   - without a protocol, a URL right after -, _, . or / is ignored;
//   - a host label longer than 63 characters in its punycode form, or a URL
//     over 4096 characters, is not a URL.
//
// twitter-text ships IANA's whole list of top-level domains; this package
// knows the common ones (see tlds.go). A candidate whose TLD is letters we do not know might be
// a URL to X (23) or not (its own weight), so it counts the larger of the two:
// the count may come out a little high, never low.
func findURLs(rs []rune) []span {
	var out []span
	for i := 0; i < len(rs); {
		if !validBefore(rs, i) {
			i++
			continue
		}
		m, ok := matchURL(rs, i)
		if !ok {
			// A start inside the same label would find the same top-level
			// domains (none), so skip it: this keeps the scan linear.
			i = max(i+1, m.end)
			continue
		}
		skip := !m.proto && i > 0 && strings.ContainsRune("-_./", rs[i-1])
		if !skip && validHost(rs, m) {
			w := urlLength
			if m.uncertain {
				w = max(w, weighRunes(rs[m.start:m.end]))
			}
			out = append(out, span{m.start, m.end, w})
		}
		// The extractor's regular expression takes one preceding character
		// before the next URL, so the next one starts after it.
		i = m.end + 1
	}
	return out
}

func weighRunes(rs []rune) (n int) {
	for _, r := range rs {
		n += weight(r)
	}
	return n
}

func validBefore(rs []rune, i int) bool {
	if i == 0 {
		return true
	}
	switch r := rs[i-1]; r {
	case '@', '＠', '$', '#', '＃', 0xFFFE, 0xFEFF, 0xFFFF:
		return false
	default:
		return !isASCIIAlnum(r)
	}
}

type match struct {
	start, end         int
	hostStart, hostEnd int
	proto, uncertain   bool
}

func matchURL(rs []rune, i int) (match, bool) {
	m := match{start: i}
	j := i
	for _, p := range []string{"https://", "http://"} {
		if hasPrefixFold(rs, i, p) {
			m.proto = true
			j += len(p)
			break
		}
	}
	end, uncertain, ok := matchHost(rs, j, m.proto)
	if !ok {
		if end > j && !m.proto {
			m.end = end
		}
		return m, false
	}
	m.hostStart, m.hostEnd, m.uncertain = j, end, uncertain
	if end+1 < len(rs) && rs[end] == ':' && isDigit(rs[end+1]) {
		end += 2
		for end < len(rs) && isDigit(rs[end]) {
			end++
		}
	}
	if end < len(rs) && rs[end] == '/' {
		end = scanPath(rs, end)
	}
	if end < len(rs) && rs[end] == '?' {
		end = scanQuery(rs, end)
	}
	if m.proto {
		// t.co links take no more path than their own.
		for _, p := range []string{"https://t.co/", "http://t.co/"} {
			if hasPrefixFold(rs[:end], i, p) {
				k := i + len(p)
				for k < end && isASCIIAlnum(rs[k]) {
					k++
				}
				if k > i+len(p) {
					end = k
				}
			}
		}
	}
	m.end = end
	return m, true
}

// tldKind says what follows the last label of a host.
type tldKind int

const (
	noTLD     tldKind = iota
	plausible         // letters, but not a TLD we know
	knownTLD
)

// maxLabels bounds the labels of a host (DNS allows 127), which keeps the
// scan of a text like "a.a.a.a…" linear.
const maxLabels = 127

// matchHost matches the host starting at j and returns where it ends.
// Hosts with a known TLD win over those with a plausible one, and longer
// hosts over shorter ones, as the regular expression's order does. When no
// host matches, end may point past j: no start before it can match either.
func matchHost(rs []rune, j int, proto bool) (end int, uncertain, ok bool) {
	var labels [][2]int // dot-terminated labels
	for k := j; len(labels) < maxLabels; k++ {
		s := k
		for k < len(rs) && (isURLChar(rs[k]) || rs[k] == '-' || rs[k] == '_') {
			k++
		}
		if k == s || k >= len(rs) || rs[k] != '.' {
			if len(labels) == 0 {
				end = k // no start inside this run can find a label either
			}
			break
		}
		labels = append(labels, [2]int{s, k})
	}
	knownEnd, plausibleEnd := -1, -1
	anyTLD := false
	subOK := true // labels before t-1 are valid subdomains
	for t := 1; t <= len(labels) && subOK; t++ {
		l := rs[labels[t-1][0]:labels[t-1][1]]
		e, kind := matchTLD(rs, labels[t-1][1]+1, true)
		anyTLD = anyTLD || kind != noTLD
		if subOK && validLabel(l, false) {
			switch kind {
			case knownTLD:
				knownEnd = e
			case plausible:
				plausibleEnd = e
			}
		}
		subOK = subOK && validLabel(l, true)
	}
	uniKnown, uniPlausible := -1, -1
	if proto && knownEnd < 0 {
		// protocol + one Unicode label + TLD
		k := j
		for k < len(rs) && (isUnicodeHostChar(rs[k]) || rs[k] == '-') {
			k++
		}
		if k > j && k < len(rs) && rs[k] == '.' && rs[j] != '-' && rs[k-1] != '-' {
			switch e, kind := matchTLD(rs, k+1, false); kind {
			case knownTLD:
				uniKnown = e
			case plausible:
				uniPlausible = e
			}
		}
	}
	for _, c := range []struct {
		end       int
		uncertain bool
	}{{knownEnd, false}, {uniKnown, false}, {plausibleEnd, true}, {uniPlausible, true}} {
		if c.end >= 0 {
			return c.end, c.uncertain, true
		}
	}
	if len(labels) > 0 && (!anyTLD || !isURLChar(rs[labels[0][1]-1])) {
		// Starts inside the first label see the same TLDs and the same
		// last character of that label.
		end = labels[0][1]
	}
	return end, false, false
}

// matchTLD looks at the top-level domain starting at p.
func matchTLD(rs []rune, p int, punycode bool) (int, tldKind) {
	a := p
	for a < len(rs) && isASCIIAlnum(rs[a]) {
		a++
	}
	if a > p && a-p <= maxTLD && tlds()[strings.ToLower(string(rs[p:a]))] && !tldFollower(rs, a) {
		return a, knownTLD
	}
	if punycode && hasPrefixFold(rs, p, "xn--") {
		e := p + 4
		for e < len(rs) && (isASCIIAlnum(rs[e]) || rs[e] == '-') {
			e++
		}
		if e > p+4 {
			return e, knownTLD
		}
	}
	e := p
	for e < len(rs) && (unicode.IsLetter(rs[e]) || unicode.IsMark(rs[e])) {
		e++
	}
	if e-p >= 2 && unicode.IsLetter(rs[p]) && !tldFollower(rs, e) {
		return e, plausible
	}
	return p, noTLD
}

// tldFollower reports whether rs[i] may not follow a TLD (twitter-text's
// lookahead (?=[^a-z0-9@+-]|$)).
func tldFollower(rs []rune, i int) bool {
	return i < len(rs) && (isASCIIAlnum(rs[i]) || rs[i] == '@' || rs[i] == '+' || rs[i] == '-')
}

// validLabel checks a host label: URL characters at both ends, - (and _ in
// a subdomain) allowed inside.
func validLabel(l []rune, sub bool) bool {
	if len(l) == 0 || !isURLChar(l[0]) || !isURLChar(l[len(l)-1]) {
		return false
	}
	for _, r := range l {
		if r == '_' && !sub {
			return false
		}
	}
	return true
}

// scanPath returns the end of the path starting with the slash at i: the
// longest run of path characters that ends on an allowed ending character
// (or a balanced pair of parentheses), or just the slash.
func scanPath(rs []rune, i int) int {
	last := i + 1
	for j := i + 1; j < len(rs); {
		if rs[j] == '(' {
			k := balancedParens(rs, j)
			if k < 0 {
				break
			}
			j, last = k, k
			continue
		}
		if !isPathChar(rs[j]) {
			break
		}
		j++
		if isPathEnd(rs[j-1]) {
			last = j
		}
	}
	return last
}

// balancedParens matches "(" path-chars ")" with at most one nested pair and
// returns the index after the closing parenthesis, or -1.
func balancedParens(rs []rune, i int) int {
	run := func(j int) int {
		for j < len(rs) && isPathChar(rs[j]) {
			j++
		}
		return j
	}
	j := run(i + 1)
	if j > i+1 && j < len(rs) && rs[j] == ')' {
		return j + 1
	}
	if j < len(rs) && rs[j] == '(' {
		k := run(j + 1)
		if k > j+1 && k < len(rs) && rs[k] == ')' {
			k = run(k + 1)
			if k < len(rs) && rs[k] == ')' {
				return k + 1
			}
		}
	}
	return -1
}

// scanQuery returns the end of the query starting with the "?" at i, or i
// when no query character can end it (the "?" then stays outside).
func scanQuery(rs []rune, i int) int {
	last := i
	for j := i + 1; j < len(rs) && (isASCIIAlnum(rs[j]) || strings.ContainsRune("!?*'();:&=+$/%#[]-_.,~|@", rs[j])); j++ {
		if isASCIIAlnum(rs[j]) || strings.ContainsRune("-_&=#/", rs[j]) {
			last = j + 1
		}
	}
	return last
}

func hasPrefixFold(rs []rune, i int, p string) bool {
	if len(rs)-i < len(p) {
		return false
	}
	for k, c := range []byte(p) {
		if unicode.ToLower(rs[i+k]) != rune(c) {
			return false
		}
	}
	return true
}
