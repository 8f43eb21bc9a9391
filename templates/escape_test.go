package templates

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	gmhtml "github.com/yuin/goldmark/renderer/html"
)

func TestMarkdownText(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"We are investigating.", "We are investigating."},
		{"<script>alert(1)</script>", "&lt;script>alert(1)&lt;/script>"},
		{"[safe](https://example.com/ok) and [mail](mailto:ops@example.com) and [rel](/status) and [frag](#x)", "[safe](https://example.com/ok) and [mail](mailto:ops@example.com) and [rel](/status) and [frag](#x)"},
		{"[click me](javascript:alert(1))", `\[click me](javascript:alert(1))`},
		{"[x](JaVaScRiPt:alert(1))", `\[x](JaVaScRiPt:alert(1))`},
		{"[x](java&#115;cript:alert(1))", `\[x](java&#115;cript:alert(1))`},
		{"[x](<java\tscript:alert(1)>)", "[x](&lt;java\tscript:alert(1)>)"}, // "<" escaped: no destination in brackets, the text a relative URL
		{"[x](data:text/html;base64,PHNjcmlwdD4=)", `\[x](data:text/html;base64,PHNjcmlwdD4=)`},
		{"![img](vbscript:msgbox)", `!\[img](vbscript:msgbox)`},
		{"see [x][r]\n\n[r]: javascript:alert(1)", "see \\[x][r]\n\n\\[r]: javascript:alert(1)"},
		{"[[x](javascript:a)](https://ok)", `\[\[x](javascript:a)](https://ok)`},
		{"a [b] c", "a [b] c"},
	} {
		got := MarkdownText(tc.in)
		if got != tc.want {
			t.Errorf("MarkdownText(%q) = %q, want %q", tc.in, got, tc.want)
		}
		html, err := Markdown(got)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(strings.ToLower(html), "javascript:") && strings.Contains(html, "href") {
			t.Errorf("%q renders a link: %s", tc.in, html)
		}
	}
}

// unsafeMD renders Markdown as a Hugo site with `unsafe = true` does: raw
// HTML passes, dangerous link targets are not emptied.
var unsafeMD = goldmark.New(goldmark.WithExtensions(extension.Linkify, extension.Strikethrough, extension.Table),
	goldmark.WithRendererOptions(gmhtml.WithUnsafe()))

var linkTarget = regexp.MustCompile(`(?i)(?:href|src)="([^"]*)"`)

// FuzzMarkdownText: whatever was typed, its MarkdownText rendered by a
// renderer that trusts its input has no tag of its own and no link to
// anything but http, https, mailto or a relative URL.
func FuzzMarkdownText(f *testing.F) {
	for _, s := range []string{"[x](javascript:alert(1))", "[x][r]\n\n[r]: javascript:a", "![i](data:x)", "<a href=\"javascript:x\">y</a>", "[[x](javascript:a)](https://ok)", "www.example.com", "[a](java&#115;cript:x)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var b bytes.Buffer
		if err := unsafeMD.Convert([]byte(MarkdownText(s)), &b); err != nil {
			return
		}
		out := b.String()
		for _, m := range linkTarget.FindAllStringSubmatch(out, -1) {
			if !safeDestination([]byte(m[1])) {
				t.Fatalf("MarkdownText(%q) renders a link to %q: %s", s, m[1], out)
			}
		}
	})
}
