package runbook

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	gmhtml "github.com/yuin/goldmark/renderer/html"
)

// TestHugoEscaping: a Hugo site with unsafe = true renders the page's
// Markdown as it is, so everything typed (title, message, service names)
// is escaped by the templates' Markdown rule: no tag and no javascript:
// link comes out of Hugo's renderer.
func TestHugoEscaping(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "site"), 0o755); err != nil {
		t.Fatal(err)
	}
	config := `[[service]]
id = "imap"
name = "IMAP <img src=x onerror=alert(1)>"

[status_page]
type = "hugo"
dir = "site"
base_url = "https://status.example.com"
`
	if err := os.WriteFile(filepath.Join(dir, ConfigFile), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	rb, err := Open(Location{Dir: dir}, Options{Getenv: func(string) string { return "" }, StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	res, err := rb.Publish(context.Background(), "", Draft{Via: "open", Title: "Logins <script>alert(1)</script>", Services: []string{"imap"},
		Status: Investigating, Message: "[click me](javascript:alert(1)), [data](data:text/html,x) and [ok](https://example.com/ok)"}, PublishOptions{})
	if err != nil || res.Failed() != 0 {
		t.Fatalf("publish: %v %+v", err, res)
	}
	page, err := os.ReadFile(filepath.Join(dir, "site", "content", "issues", res.Incident.ID+".md"))
	if err != nil {
		t.Fatal(err)
	}
	_, body, _ := strings.Cut(strings.TrimPrefix(string(page), "---\n"), "\n---\n")
	unsafe := goldmark.New(goldmark.WithExtensions(extension.Linkify, extension.Table), goldmark.WithRendererOptions(gmhtml.WithUnsafe()))
	var b bytes.Buffer
	if err := unsafe.Convert([]byte(body), &b); err != nil {
		t.Fatal(err)
	}
	html := b.String()
	for _, bad := range []string{"<img", "<script", `href="javascript:`, `href="data:`} {
		if strings.Contains(html, bad) {
			t.Errorf("Hugo would render %q:\n%s", bad, html)
		}
	}
	if !strings.Contains(html, `<a href="https://example.com/ok">ok</a>`) || !strings.Contains(html, "IMAP &lt;img src=x onerror=alert(1)&gt;") {
		t.Errorf("the safe link or the service name is lost:\n%s", html)
	}
	if !regexp.MustCompile(`(?m)^  - "IMAP \\u003cimg src=x onerror=alert\(1\)\\u003e"$`).Match(page) {
		t.Errorf("front matter does not quote the service name:\n%s", page)
	}
}
