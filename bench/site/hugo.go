package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/incident-cli/incident/runbook"
)

// The Hugo site: the static page's layout (inline CSS, header, footer with
// the build time), a page per incident, a home page listing the open and 50
// most recent resolved incidents, and Hugo's RSS feed and a JSON summary
// in place of feed.atom and status.json.
const (
	hugoConfig = `baseURL = "https://status.example.com/"
title = "Example Mail status"
disableKinds = ["taxonomy", "term", "sitemap", "robotsTXT", "404"]
[outputs]
home = ["HTML", "RSS", "JSON"]
`
	baseof = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ .Title }}</title>
<link rel="alternate" type="application/rss+xml" title="{{ .Site.Title }}" href="{{ "index.xml" | relURL }}">
<style>
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;max-width:46rem;margin:0 auto;padding:1rem;color:#1a1a1a;background:#fff}
a{color:#0b57d0}h1{font-size:1.6rem;margin:.5rem 0}h2{font-size:1.25rem;margin-top:2rem}h3{font-size:1.05rem;margin-bottom:.2rem}
.banner{padding:.8rem 1rem;border-radius:.4rem;font-weight:600}
.operational,.resolved{background:#e6f4ea;color:#0d652d}.degraded,.recovering,.identified,.monitoring{background:#fef7e0;color:#7a4f01}.outage,.investigating{background:#fce8e6;color:#a50e0e}
.tag{font-size:.85rem;padding:.1rem .5rem;border-radius:1rem}
.meta{color:#555;font-size:.9rem}
footer{margin-top:3rem;color:#666;font-size:.85rem}
@media (prefers-color-scheme: dark){body{background:#121212;color:#e8e8e8}a{color:#8ab4f8}.meta{color:#aaa}}
</style>
</head>
<body>
<header><a href="{{ "/" | relURL }}">{{ .Site.Title }}</a></header>
<main>
{{ block "main" . }}{{ end }}
</main>
<footer>Updated {{ now.UTC.Format "Mon 2 Jan 2006 15:04 UTC" }} · <a href="{{ "index.xml" | relURL }}">RSS feed</a> · <a href="{{ "index.json" | relURL }}">index.json</a></footer>
</body>
</html>
`
	single = `{{ define "main" }}<h1>{{ .Title }}</h1>
<p class="meta"><span class="tag {{ .Params.status }}">{{ .Params.status | humanize }}</span> · {{ delimit .Params.services ", " }}</p>
{{ .Content }}{{ end }}
`
	home = `{{ define "main" }}<h1>{{ .Site.Title }}</h1>
<p class="banner operational">All systems operational</p>
<h2>Recent history</h2>
<ul>{{ range first 50 (where .Site.RegularPages "Section" "incidents") }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a> <span class="meta">{{ .Date.Format "Mon 2 Jan 2006 15:04 MST" }} · {{ delimit .Params.services ", " }}</span></li>
{{ end }}</ul>{{ end }}
`
	homeJSON = `{"incidents": [{{ range $i, $p := first 50 (where .Site.RegularPages "Section" "incidents") }}{{ if $i }},{{ end }}
{"id": {{ $p.File.BaseFileName | jsonify }}, "title": {{ $p.Title | jsonify }}, "status": {{ $p.Params.status | jsonify }}, "started_at": {{ $p.Date.Format "2006-01-02T15:04:05Z07:00" | jsonify }}, "html": {{ $p.Content | jsonify }}}{{ end }}
]}
`
	list = `{{ define "main" }}<h1>{{ .Title }}</h1>
<ul>{{ range .Pages }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a></li>
{{ end }}</ul>{{ end }}
`
)

// writeHugoSite writes the Hugo site for rb's incidents into dir (again,
// when it is there) and returns the number of incident pages.
func writeHugoSite(rb *runbook.Runbook, dir string) (int, error) {
	if err := os.RemoveAll(filepath.Join(dir, "content")); err != nil {
		return 0, err
	}
	files := map[string]string{
		"hugo.toml":                    hugoConfig,
		"layouts/_default/baseof.html": baseof,
		"layouts/_default/single.html": single,
		"layouts/_default/list.html":   list,
		"layouts/index.html":           home,
		"layouts/index.json":           homeJSON,
		"content/incidents/_index.md":  "---\ntitle: Incidents\n---\n",
	}
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return 0, err
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			return 0, err
		}
	}
	st := &runbook.Store{Dir: rb.Store.Dir}
	ids, err := st.IDs()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		inc, err := st.Load(id)
		if err != nil {
			return 0, err
		}
		ups := inc.PublicUpdates()
		if len(ups) == 0 {
			continue
		}
		var names []string
		for _, s := range inc.Services {
			names = append(names, fmt.Sprintf("%q", rb.ServiceName(s)))
		}
		var b strings.Builder
		fmt.Fprintf(&b, "---\ntitle: %q\ndate: %s\nstatus: %s\nservices: [%s]\n---\n", "["+title(inc.Status)+"] "+inc.Title,
			inc.StartedAt.UTC().Format("2006-01-02T15:04:05Z"), inc.Status, strings.Join(names, ", "))
		// The text of status.md.tmpl: the state, then every update, newest first.
		fmt.Fprintf(&b, "**Status:** %s · **Affected:** %s · about %d accounts  \n**Started:** %s", title(inc.Status),
			strings.Join(serviceNames(rb, inc), ", "), inc.Accounts, rb.Templates.When(inc.StartedAt))
		if !inc.ResolvedAt.IsZero() {
			fmt.Fprintf(&b, " · **Resolved:** %s", rb.Templates.When(inc.ResolvedAt))
		}
		b.WriteString("\n")
		for i := len(ups) - 1; i >= 0; i-- {
			u := ups[i].Event
			fmt.Fprintf(&b, "\n### %s · %s\n\n%s\n", title(u.Status), rb.Templates.When(u.At), u.Message)
		}
		if err := os.WriteFile(filepath.Join(dir, "content", "incidents", id+".md"), []byte(b.String()), 0o644); err != nil {
			return 0, err
		}
		n++
	}
	return n, nil
}

func serviceNames(rb *runbook.Runbook, inc *runbook.Incident) []string {
	var out []string
	for _, s := range inc.Services {
		out = append(out, rb.ServiceName(s))
	}
	return out
}

func title(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
