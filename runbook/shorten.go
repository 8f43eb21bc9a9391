package runbook

import (
	"strings"

	"github.com/rivo/uniseg"

	"github.com/incident-cli/incident/publishers"
)

// fit shortens text until c counts it within its limit, cutting the words
// around the link, never the link itself: the longest part of the text
// outside the URL loses graphemes from its end (at a word boundary where
// one is near) and gains "…". It reports false when even the link alone
// with a word of context does not fit.
func fit(text, url string, c publishers.Counter) (string, bool) {
	i := strings.Index(text, url)
	if url == "" || i < 0 {
		return "", false
	}
	before, after := text[:i], text[i+len(url):]
	over := func(t string) bool { n, limit := c.Length(t); return limit > 0 && n > limit }
	for over(before + url + after) {
		// Cut the longer side; keep at least the side's first grapheme
		// cluster, so "[Investigating]" style prefixes lose words first.
		cut := &before
		if graphemes(after) > graphemes(before) {
			cut = &after
		}
		shorter, ok := dropTail(*cut)
		if !ok {
			return "", false
		}
		*cut = shorter
	}
	return before + url + after, true
}

// dropTail removes the last word (or, in a text without spaces, the last
// grapheme cluster) of s before its trailing space and ellipsis, and ends
// what is left with "…", keeping the whitespace s ended with (the space
// before the link).
func dropTail(s string) (string, bool) {
	trail := s[len(strings.TrimRight(s, " \n\t")):]
	body := strings.TrimSuffix(strings.TrimRight(s, " \n\t"), "…")
	if body == "" {
		return "", false
	}
	gs := clusters(body)
	cut := len(gs) - 1
	// Prefer a word boundary within the last 20 clusters.
	for j := len(gs) - 1; j > 0 && j >= len(gs)-20; j-- {
		if strings.TrimSpace(gs[j]) == "" {
			cut = j
			break
		}
	}
	if cut <= 0 {
		return "", false
	}
	kept := strings.TrimRight(strings.Join(gs[:cut], ""), " \n\t,;:.-–—")
	if kept == "" {
		return "", false
	}
	return kept + "…" + trail, true
}

func clusters(s string) []string {
	var out []string
	g := uniseg.NewGraphemes(s)
	for g.Next() {
		out = append(out, g.Str())
	}
	return out
}

func graphemes(s string) int { return uniseg.GraphemeClusterCount(s) }
