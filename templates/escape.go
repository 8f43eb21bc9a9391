package templates

import (
	"html"
	"sort"
	"strings"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/text"
)

// MarkdownText is the escaping rule for text a person or a monitoring
// system typed (a title, a message, a service name, an RFO section) that
// goes into Markdown, whatever renders it: our pages, a forum, Statuspage,
// a Hugo site with unsafe HTML. "<" is written "&lt;", so no renderer takes
// it for a tag (the entity shows as "<"), and a link or image whose target
// is not http, https, mailto or a relative URL (javascript:, data:,
// vbscript:, file:, ...) has its "[" escaped, so it shows as the text it is.
func MarkdownText(s string) string {
	return safeLinks(strings.ReplaceAll(s, "<", "&lt;"))
}

// safeLinks escapes the opening bracket of every link, image and link
// reference definition in src whose destination is not safe (see
// safeDestination). Escaping one can make another one out of the brackets
// around it, so it parses again until none is left; text that still has
// one after a few rounds loses every "[" instead.
func safeLinks(src string) string {
	if !strings.Contains(src, "[") {
		return src
	}
	for range 8 {
		at := unsafeLinks(src)
		if len(at) == 0 {
			return src
		}
		sort.Sort(sort.Reverse(sort.IntSlice(at)))
		for _, i := range at {
			src = src[:i] + `\` + src[i:]
		}
	}
	return strings.ReplaceAll(src, "[", `\[`)
}

// unsafeLinks returns the offsets of the "[" that open unsafe links.
func unsafeLinks(src string) []int {
	b := []byte(src)
	doc := md().Parser().Parse(text.NewReader(b))
	var at []int
	bracket := func(from int) {
		if from < 0 {
			return
		}
		if i := strings.IndexByte(src[from:], '['); i >= 0 {
			at = append(at, from+i)
		}
	}
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch x := n.(type) {
		case *ast.Link:
			if !safeDestination(x.Destination) {
				bracket(x.Pos())
			}
		case *ast.Image:
			if !safeDestination(x.Destination) {
				bracket(x.Pos())
			}
		case *ast.LinkReferenceDefinition:
			if !safeDestination(x.Destination) {
				bracket(x.Pos())
			}
		}
		return ast.WalkContinue, nil
	})
	return at
}

// safeDestination reports whether a link target is http, https, mailto or
// relative (no scheme). Character references are resolved and spaces and
// control characters ignored, as renderers and browsers do ("java&#115;cript:"
// and "java\tscript:" are javascript:).
func safeDestination(dest []byte) bool {
	d := strings.Map(func(r rune) rune {
		if r <= ' ' || r == 0x7f {
			return -1
		}
		return r
	}, html.UnescapeString(string(dest)))
	i := strings.IndexAny(d, ":/?#")
	if i <= 0 || d[i] != ':' || !isScheme(d[:i]) {
		return true // no scheme: a relative URL or a fragment
	}
	switch strings.ToLower(d[:i]) {
	case "http", "https", "mailto":
		return true
	}
	return false
}

// isScheme reports whether s is a URL scheme (RFC 3986: a letter, then
// letters, digits, "+", "-" or "."); browsers read anything else before a
// colon as part of a relative URL.
func isScheme(s string) bool {
	for i, c := range []byte(s) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return s != ""
}
