package twitter

import "slices"

// extractURLs finds the URLs X shortens to t.co, as twitter-text 3.1.0's
// extractUrlsWithIndices does, in UTF-16 code units. Its regular expression
// (regexp/extractUrl.js) is
//
//	(precedingChar | ^) (https?://)? domain (:port)? (/path*)? (?query)?
//
// with domain = subdomain* domainName TLD, each label followed by a dot,
// and TLD one of twitter-text's list followed by no [0-9a-zA-Z@+-]. The
// function reproduces what a backtracking engine makes of it (the most
// subdomains first, the TLDs in the list's order), then the extractor's own
// checks: a label over 63 characters once punycode-encoded or a URL over
// 4096 drops the match; without a protocol, the match is dropped after
// -, _, . or /, and what counts are the ASCII domains inside it (the last
// one taking the path); a t.co URL keeps no more than its slug. The
// character classes are those of JavaScript's case-insensitive matching
// (tables.go, generated from twitter-text).
func extractURLs(u []uint16) []entity {
	if !slices.Contains(u, '.') {
		return nil
	}
	x := newScanner(u)
	var out []entity
	for last := 0; ; {
		m, ok := x.next(last)
		if !ok {
			return out
		}
		last = m.end
		out = x.appendURL(out, m)
	}
}

// urlMatch is one match of the URL expression.
type urlMatch struct {
	before           int // the preceding character, -1 at the start of the text
	start, end       int // the URL, protocol included
	protocol         int // its length, 0 without one
	domStart, domEnd int
	path             bool // a /path took part
}

// scanner matches the URL expression in u. labelEnd[i] is the first index
// at or after i that cannot be in a host label (a dot, a space, most
// punctuation); underscore[i] the first '_' at or after i.
type scanner struct {
	u                    []uint16
	labelEnd, underscore []int
}

func newScanner(u []uint16) *scanner {
	x := &scanner{u: u, labelEnd: make([]int, len(u)+1), underscore: make([]int, len(u)+1)}
	x.labelEnd[len(u)], x.underscore[len(u)] = len(u), len(u)
	for i := len(u) - 1; i >= 0; i-- {
		x.labelEnd[i], x.underscore[i] = i, x.underscore[i+1]
		if c := u[i]; domainChars.has(c) || c == '-' || c == '_' {
			x.labelEnd[i] = x.labelEnd[i+1]
		}
		if u[i] == '_' {
			x.underscore[i] = i
		}
	}
	return x
}

// next finds the first match starting at or after from, trying at each
// position a preceding character, then (at 0) the start of the text.
func (x *scanner) next(from int) (urlMatch, bool) {
	for s := from; s <= len(x.u); s++ {
		if s < len(x.u) && precedeChars.has(x.u[s]) {
			if m, ok := x.urlAt(s + 1); ok {
				m.before = s
				return m, true
			}
		}
		if s == 0 {
			if m, ok := x.urlAt(0); ok {
				m.before = -1
				return m, true
			}
		}
	}
	return urlMatch{}, false
}

// urlAt matches a URL starting at p: with a protocol if one is there and a
// domain follows it, else without.
func (x *scanner) urlAt(p int) (urlMatch, bool) {
	m := urlMatch{start: p}
	for _, proto := range []string{"https://", "http://"} {
		if asciiPrefixFold(x.u, p, proto) {
			if end, ok := x.domainAt(p + len(proto)); ok {
				m.protocol, m.domStart, m.domEnd = len(proto), p+len(proto), end
				return x.tail(m), true
			}
			break
		}
	}
	if end, ok := x.domainAt(p); ok {
		m.domStart, m.domEnd = p, end
		return x.tail(m), true
	}
	return m, false
}

// domainAt matches subdomain* domainName TLD at q and returns its end.
// Labels run from a dot to the next; a subdomain may hold - and _ inside,
// the domain name only -, and both begin and end with a domain character.
func (x *scanner) domainAt(q int) (int, bool) {
	var labels [][2]int
	subs := 0 // leading labels valid as subdomains
	for k := q; k < len(x.u); {
		e := x.labelEnd[k]
		if e == k || e >= len(x.u) || x.u[e] != '.' {
			break
		}
		labels = append(labels, [2]int{k, e})
		if subs == len(labels)-1 && domainChars.has(x.u[k]) && domainChars.has(x.u[e-1]) {
			subs++
		}
		k = e + 1
	}
	for j := subs - 1; j >= 0; j-- { // the most subdomains first, as the greedy * tries
		l := labels[j]
		if x.underscore[l[0]] < l[1] {
			continue // not a domain name
		}
		if end, ok := tldAt(x.u, l[1]+1); ok {
			return end, true
		}
	}
	return 0, false
}

// tail matches the optional port, path and query after the domain.
func (x *scanner) tail(m urlMatch) urlMatch {
	u, i := x.u, m.domEnd
	if i+1 < len(u) && u[i] == ':' && isDigit(u[i+1]) {
		for i += 2; i < len(u) && isDigit(u[i]); i++ {
		}
	}
	if i < len(u) && u[i] == '/' {
		m.path = true
		i = pathEnd(u, i+1)
	}
	if i < len(u) && u[i] == '?' {
		i = queryEnd(u, i)
	}
	m.end = i
	return m
}

// pathEnd matches validUrlPath* from i: each repetition is the first match
// in backtracking order of
//
//	pathChar* (parens pathChar*)* (pathEndChar | parens)   or   @ pathChar+ /
//
// and the repetitions stop at the first that fails. Nothing after the path
// can fail, so no repetition is ever taken back.
func pathEnd(u []uint16, i int) int {
	for {
		e := pathUnit(u, i)
		if e < 0 {
			e = atSlash(u, i)
		}
		if e <= i {
			return i
		}
		i = e
	}
}

func pathUnit(u []uint16, a int) int {
	b := run(u, a, pathChars)
	for ; b >= a; b-- {
		if e := parensThenEnd(u, b); e >= 0 {
			return e
		}
	}
	return -1
}

// parensThenEnd matches (parens pathChar*)* (pathEndChar | parens) at b.
func parensThenEnd(u []uint16, b int) int {
	if p := parens(u, b); p >= 0 {
		for c := run(u, p, pathChars); c >= p; c-- {
			if e := parensThenEnd(u, c); e >= 0 {
				return e
			}
		}
	}
	if b < len(u) && pathEndChars.has(u[b]) {
		return b + 1
	}
	return parens(u, b)
}

// parens matches validUrlBalancedParens at b: "(" pathChar+ ")", or one
// nested pair "(" pathChar* "(" pathChar+ ")" pathChar* ")".
func parens(u []uint16, b int) int {
	if b >= len(u) || u[b] != '(' {
		return -1
	}
	c := run(u, b+1, pathChars)
	if c > b+1 && c < len(u) && u[c] == ')' {
		return c + 1
	}
	if c < len(u) && u[c] == '(' {
		d := run(u, c+1, pathChars)
		if d > c+1 && d < len(u) && u[d] == ')' {
			if e := run(u, d+1, pathChars); e < len(u) && u[e] == ')' {
				return e + 1
			}
		}
	}
	return -1
}

// atSlash matches "@" pathChar+ "/" at a, the longest first.
func atSlash(u []uint16, a int) int {
	if a >= len(u) || u[a] != '@' {
		return -1
	}
	for b := run(u, a+1, pathChars) - 1; b > a+1; b-- {
		if u[b] == '/' {
			return b + 1
		}
	}
	return -1
}

// queryEnd matches "?" queryChar* queryEndChar at i, or returns i.
func queryEnd(u []uint16, i int) int {
	for b := run(u, i+1, queryChars) - 1; b > i; b-- {
		if queryEndChars.has(u[b]) {
			return b + 1
		}
	}
	return i
}

func run(u []uint16, i int, s *unitSet) int {
	for i < len(u) && s.has(u[i]) {
		i++
	}
	return i
}

// appendURL applies extractUrlsWithIndices's checks to a match and appends
// the URLs it yields.
func (x *scanner) appendURL(out []entity, m urlMatch) []entity {
	u := x.u
	url, domain := u[m.start:m.end], u[m.domStart:m.domEnd]
	protocol := m.protocol
	if protocol == 0 {
		protocol = len("https://")
	}
	if !validDomain(domain) || protocol+len(url) > maxURL {
		return out
	}
	if m.protocol > 0 {
		if slug, end, ok := tco(url); ok {
			if slug > maxTcoSlug {
				return out
			}
			url = url[:end]
		}
		return append(out, entity{m.start, len(url)})
	}
	if m.before >= 0 && (u[m.before] == '-' || u[m.before] == '_' || u[m.before] == '.' || u[m.before] == '/') {
		return out
	}
	n := len(out)
	from := 0
	for _, d := range asciiDomains(domain) {
		start := indexFrom(domain, domain[d[0]:d[1]], from)
		from = start + d[1] - d[0]
		out = append(out, entity{m.start + start, d[1] - d[0]})
	}
	if len(out) > n && m.path {
		// The last domain takes the path: its text becomes the URL's with
		// the whole domain replaced by it.
		out[len(out)-1].length += len(url) - len(domain)
	}
	return out
}

const (
	maxURL     = 4096 // MAX_URL_LENGTH, with the protocol (https:// when none)
	maxTcoSlug = 40
	maxLabel   = 63 // a DNS label, punycode-encoded
)

// validDomain is twitter-text's idna.toAscii: a domain starting "xn--" must
// hold an ASCII domain, and every label must be 1 to 63 characters long
// once encoded by punycode.js's toASCII.
func validDomain(d []uint16) bool {
	if asciiPrefix(d, 0, "xn--") && len(asciiDomains(d)) == 0 {
		return false
	}
	start := 0
	for i := 0; i <= len(d); i++ {
		if i == len(d) || d[i] == '.' {
			if n := toASCIILen(d[start:i]); n < 1 || n > maxLabel {
				return false
			}
			start = i + 1
		}
	}
	return true
}

// tco matches ^https?://t.co/slug(?query)? and returns the slug's length
// and the match's end.
func tco(url []uint16) (slug, end int, ok bool) {
	p := 0
	switch {
	case asciiPrefixFold(url, 0, "https://t.co/"):
		p = len("https://t.co/")
	case asciiPrefixFold(url, 0, "http://t.co/"):
		p = len("http://t.co/")
	default:
		return 0, 0, false
	}
	e := p
	for e < len(url) && isASCIIAlnum(url[e]) {
		e++
	}
	if e == p {
		return 0, 0, false
	}
	slug = e - p
	if e < len(url) && url[e] == '?' {
		e = queryEnd(url, e)
	}
	return slug, e, true
}

// asciiDomains returns every match of validAsciiDomain in d: ASCII (and
// Latin-accented) labels, each followed by a dot, then a TLD.
func asciiDomains(d []uint16) [][2]int {
	var out [][2]int
	for s := 0; s < len(d); {
		end, ok := asciiDomainAt(d, s)
		if !ok {
			s++
			continue
		}
		out = append(out, [2]int{s, end})
		s = end
	}
	return out
}

func asciiDomainAt(d []uint16, s int) (int, bool) {
	var dots []int
	for k := s; ; {
		e := run(d, k, asciiDomainChars)
		if e == k || e >= len(d) || d[e] != '.' {
			break
		}
		dots = append(dots, e)
		k = e + 1
	}
	for j := len(dots) - 1; j >= 0; j-- {
		if end, ok := tldAt(d, dots[j]+1); ok {
			return end, true
		}
	}
	return 0, false
}
