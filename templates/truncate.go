package templates

import (
	"regexp"
	"strings"
	"sync"
	"unicode"

	"github.com/rivo/uniseg"
)

// truncate shortens s to at most n graphemes, ending with "…" when cut. It
// never cuts inside a URL: a URL that does not fit is dropped whole (with
// the punctuation around it), so no channel ever shows, or counts, half a
// link such as "www.runbox.…".
func truncate(n int, s string) string {
	if uniseg.GraphemeClusterCount(s) <= n {
		return s
	}
	cut := 0
	g := uniseg.NewGraphemes(s)
	for i := 0; i < n-1 && g.Next(); i++ {
		_, cut = g.Positions()
	}
	for _, w := range urlWords(s) {
		if w[0] < cut && cut < w[1] {
			cut = w[0]
			break
		}
	}
	return strings.TrimSpace(s[:cut]) + "…"
}

// urlLike finds what a reader or a link counter may take for a URL: a
// scheme, "www.", or a host name of dot-separated labels ending in two or
// more letters (status.example.com, but not v1.2.3 or e.g.).
var urlLike = sync.OnceValue(func() *regexp.Regexp { // compiled on first use
	return regexp.MustCompile(`(?i)[a-z][a-z0-9+.-]*://|\bwww\.|\b[\p{L}\p{N}_-]+(\.[\p{L}\p{N}_-]+)*\.\p{L}{2,}`)
})

// urlWords returns the byte ranges of the URL-like parts of the words of s
// (runs of non-space): from where the URL begins (or the word, when only
// punctuation comes before it) to the end of the word.
func urlWords(s string) [][2]int {
	var out [][2]int
	for i := 0; i < len(s); {
		start := i + strings.IndexFunc(s[i:], func(r rune) bool { return !unicode.IsSpace(r) })
		if start < i {
			break
		}
		end := len(s)
		if k := strings.IndexFunc(s[start:], unicode.IsSpace); k >= 0 {
			end = start + k
		}
		if m := urlLike().FindStringIndex(s[start:end]); m != nil {
			from := start + m[0]
			if !strings.ContainsFunc(s[start:from], func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) {
				from = start
			}
			out = append(out, [2]int{from, end})
		}
		i = end
	}
	return out
}
