package mastodon

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/rivo/uniseg"

	"github.com/incident-cli/incident/publishers"
)

// This file mirrors Mastodon's StatusLengthValidator (app/validators/
// status_length_validator.rb): it rewrites every URL that twitter-text's
// extractor finds (with a protocol) to a 23-character placeholder and every
// mention @user@domain to @user, then counts grapheme clusters.
//
// twitter-text's URL grammar is large (a list of 1,500 top-level domains,
// balanced parentheses, non-ASCII domains). The counter below recognises a
// strict subset of it exactly, and where it cannot be sure it errs high:
//   - a URL it recognises (http(s), ASCII host ending in one of twitter-text's
//     top-level domains, at a place twitter-text accepts one, no dot earlier
//     in the word, at most 4096 characters) counts as the placeholder, its
//     end never beyond the end twitter-text finds;
//   - anything else that starts like a URL Mastodon might see (any of
//     Mastodon's schemes followed by ://) counts its characters one by one
//     plus the most the placeholder could add to the shortest URL
//     (urlLen-minURL), since a short URL counts 23 there;
//   - a remote mention loses its domain only where Mastodon's pattern
//     surely matches it.
// So the count is never below Mastodon's, and is exact for ordinary text.

// maxURL is twitter-text's MAX_URL_LENGTH; longer URLs count in full.
const maxURL = 4096

// minURL is the length of the shortest URL Mastodon recognises with a
// protocol ("ssb://a.co").
const minURL = 10

// schemes are the protocols Mastodon's URL pattern accepts
// (config/initializers/twitter_regex.rb).
var schemes = []string{"https", "http", "gemini", "gopher", "dweb", "ipfs", "ipns", "dat", "ssb"}

// Count returns the length of text as Mastodon counts a status, with urlLen
// characters per URL. It runs in time linear in len(text).
func Count(text string, urlLen int) int {
	var b strings.Builder
	pad := 0
	placeholder := strings.Repeat("x", urlLen)
	prev := rune(-1) // the rune before i; -1 at the start
	// URLs and mentions never span ASCII white space, so the text is read
	// word by word: runeN is the word's length, runeI the runes before i in
	// it, dot whether the word holds a '.' before i.
	var wordEnd, runeN, runeI int
	var dot bool
	for i := 0; i < len(text); {
		if i >= wordEnd {
			if n := strings.IndexAny(text[i:], asciiSpace); n == 0 {
				wordEnd = i + 1
			} else if n > 0 {
				wordEnd = i + n
			} else {
				wordEnd = len(text)
			}
			runeN, runeI, dot = utf8.RuneCountInString(text[i:wordEnd]), 0, false
		}
		if maybe, sure := schemeAt(text, i); maybe && mayPrecedeURL(prev) {
			// twitter-text's scan also matches URLs without a protocol (and
			// drops them): a domain earlier in the word may swallow this URL
			// into its path. It drops URLs over 4096 characters.
			sure = sure && !dot && runeN-runeI <= maxURL
			if end := certainURL(text, i, sure, prev); end > i {
				b.WriteString(placeholder)
				runeI += utf8.RuneCountInString(text[i:end])
				dot = dot || strings.Contains(text[i:end], ".")
				prev, _ = utf8.DecodeLastRuneInString(text[:end])
				i = end
				continue
			}
			if urlLen > minURL {
				pad += urlLen - minURL
			}
		}
		if end, user := remoteMention(text, i, prev); end > i {
			b.WriteString(user)
			runeI += utf8.RuneCountInString(text[i:end])
			dot = true
			prev, _ = utf8.DecodeLastRuneInString(text[:end])
			i = end
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		b.WriteString(text[i : i+size])
		dot = dot || r == '.'
		prev = r
		runeI++
		i += size
	}
	return uniseg.GraphemeClusterCount(b.String()) + pad
}

const asciiSpace = " \t\n\v\f\r"

// schemeAt reports whether text[i:] starts with one of Mastodon's schemes
// and "://", matched case-insensitively as Ruby does (maybe), and whether
// it is plainly http:// or https:// in ASCII (sure).
func schemeAt(text string, i int) (maybe, sure bool) {
	for _, s := range schemes {
		j := i
		ok := true
		for _, want := range s {
			r, size := utf8.DecodeRuneInString(text[j:])
			if size == 0 || !strings.EqualFold(string(r), string(want)) {
				ok = false
				break
			}
			j += size
		}
		if ok && strings.HasPrefix(text[j:], "://") {
			return true, (s == "http" || s == "https") && strings.EqualFold(text[i:j], s)
		}
	}
	return false, false
}

// mayPrecedeURL reports whether twitter-text may start a URL after r (-1 is
// the start of the text): not after an ASCII letter or digit, @, $ or #.
func mayPrecedeURL(r rune) bool {
	if r < 0 {
		return true
	}
	return !(r < utf8.RuneSelf && isASCIIWord(r) && r != '_') && !strings.ContainsRune("@＠$#＃", r)
}

// certainURL returns the end of the http(s) URL at i when twitter-text
// surely finds one starting there, ending no earlier than the returned end;
// else i.
func certainURL(text string, i int, sure bool, prev rune) int {
	if !sure || prev == 0x017F || prev == 0x212A || prev == 0xFEFF || prev == 0xFFFE || prev == 0xFFFF {
		return i // Ruby's case folding and invalid characters: not sure
	}
	j := i + strings.Index(text[i:], "://") + 3
	host := j
	for j < len(text) && (isASCIIWord(rune(text[j])) && text[j] != '_' || text[j] == '.' || text[j] == '-') {
		j++
	}
	for j > host && text[j-1] == '.' {
		j-- // a sentence's full stop
	}
	if !knownHost(text[host:j]) {
		return i
	}
	// After the top-level domain twitter-text wants neither [0-9a-z@+-]
	// nor, to be sure, any other letter or digit.
	if next, _ := utf8.DecodeRuneInString(text[j:]); j < len(text) && (next == '@' || next == '+' || next == '-' || next == '_' || unicode.In(next, unicode.L, unicode.M, unicode.N)) {
		return i
	}
	if j+1 < len(text) && text[j] == ':' && isDigit(text[j+1]) {
		for j++; j < len(text) && isDigit(text[j]); j++ {
		}
	}
	if j < len(text) && text[j] == '/' {
		j = pathEnd(text, j+1)
	}
	if j < len(text) && text[j] == '?' {
		j = queryEnd(text, j)
	}
	return j
}

// pathEnd returns the end of a URL path starting at i: the longest run of
// path characters ([^\s<>()?]) that ends in one twitter-text lets a path end
// with.
func pathEnd(text string, i int) int {
	end, j := i, i
	for j < len(text) {
		r, size := utf8.DecodeRuneInString(text[j:])
		if unicode.IsSpace(r) || strings.ContainsRune("<>()?", r) || r == utf8.RuneError && size == 1 {
			break
		}
		j += size
		if !strings.ContainsRune("!*\"'「」;:=,.$%[]~&|@", r) {
			end = j
		}
	}
	return end
}

// queryEnd returns the end of the query string starting with the '?' at i,
// or i when twitter-text finds none there (ASCII query characters only).
func queryEnd(text string, i int) int {
	end := i
	for j := i + 1; j < len(text); j++ {
		c := rune(text[j])
		if !isASCIIWord(c) && !strings.ContainsRune("!?*'();:&=+$/%#[]-.,~|@^", c) {
			break
		}
		if isASCIIWord(c) || strings.ContainsRune("&=#/-", c) {
			end = j + 1
		}
	}
	return end
}

// remoteMention returns the end of the remote mention @user@domain at i and
// "@user", where Mastodon's mention pattern surely matches it; else i.
func remoteMention(text string, i int, prev rune) (int, string) {
	if text[i] != '@' || prev == '=' || prev == '/' || prev >= 0 && isWordRune(prev) {
		return i, ""
	}
	user := wordsEnd(text, i+1)
	if user == i+1 || user >= len(text) || text[user] != '@' {
		return i, "" // a local mention counts as written
	}
	end := wordsEnd(text, user+1)
	if end < user+3 {
		return i, "" // newer Mastodons want two characters or more
	}
	rest := text[end:]
	trimmed := strings.TrimLeft(rest, ".-")
	if r, _ := utf8.DecodeRuneInString(trimmed); trimmed != "" && isWordRune(r) {
		return i, "" // the domain goes on in characters this counter does not follow
	}
	if strings.HasPrefix(rest, "@") || strings.HasPrefix(rest, "＠") || strings.HasPrefix(rest, "://") {
		return i, "" // Mastodon drops such a mention and counts it in full
	}
	return end, text[i:user]
}

// wordsEnd returns the end of word ([.-]+ word)* at i, word being
// [A-Za-z0-9_]+.
func wordsEnd(text string, i int) int {
	end := i
	for j := i; j < len(text); {
		k := j
		for k < len(text) && (text[k] == '.' || text[k] == '-') && j > i {
			k++
		}
		w := k
		for w < len(text) && isASCIIWord(rune(text[w])) {
			w++
		}
		if w == k {
			break
		}
		end, j = w, w
	}
	return end
}

func isASCIIWord(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// isWordRune is Ruby's [[:word:]], taken broadly.
func isWordRune(r rune) bool {
	return unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.Pc)
}

// knownHost reports whether host is ASCII labels ([a-z0-9] with inner
// hyphens) ending in a top-level domain twitter-text surely knows.
func knownHost(host string) bool {
	labels := strings.Split(strings.ToLower(host), ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
	}
	return tlds()[labels[len(labels)-1]]
}

// tlds are twitter-text 3.1.0's top-level domains (publishers.GenericTLDs
// and CountryTLDs), in lower case, built at first use, not when the program
// starts.
var tlds = sync.OnceValue(func() map[string]bool {
	m := map[string]bool{}
	for _, list := range [][]string{publishers.GenericTLDs, publishers.CountryTLDs} {
		for _, t := range list {
			m[strings.ToLower(t)] = true
		}
	}
	return m
})
