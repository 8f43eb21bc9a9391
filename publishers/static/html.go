package static

import (
	"bytes"
	"encoding/xml"
	"html/template"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/incident-cli/incident/publishers"
)

// The page layout. Everything that comes from the records goes through
// html/template's escaping; the post HTML was made safe by the renderer
// (Markdown with raw HTML escaped) and is the only value marked template.HTML.
const layout = `{{define "top"}}<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.PageTitle}}</title>
<link rel="alternate" type="application/atom+xml" title="{{.Org}} status updates" href="{{.Root}}feed.atom">
<style>
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;max-width:46rem;margin:0 auto;padding:1rem;color:#1a1a1a;background:#fff}
a{color:#0b57d0}h1{font-size:1.6rem;margin:.5rem 0}h2{font-size:1.25rem;margin-top:2rem}h3{font-size:1.05rem;margin-bottom:.2rem}
.banner{padding:.8rem 1rem;border-radius:.4rem;font-weight:600}
.operational,.resolved{background:#e6f4ea;color:#0d652d}.degraded,.recovering,.identified,.monitoring{background:#fef7e0;color:#7a4f01}.outage,.investigating{background:#fce8e6;color:#a50e0e}
ul.services{list-style:none;padding:0}ul.services li{display:flex;justify-content:space-between;padding:.4rem 0;border-bottom:1px solid #eee}
.tag{font-size:.85rem;padding:.1rem .5rem;border-radius:1rem}
.meta{color:#555;font-size:.9rem}
footer{margin-top:3rem;color:#666;font-size:.85rem}
@media (prefers-color-scheme: dark){body{background:#121212;color:#e8e8e8}a{color:#8ab4f8}.meta{color:#aaa}ul.services li{border-color:#333}}
</style>
</head>
<body>
<header><a href="{{.Root}}index.html">{{.Org}} status</a></header>
<main>
{{end}}
{{define "bottom"}}</main>
<footer>Updated {{.Generated}} · <a href="{{.Root}}feed.atom">Atom feed</a> · <a href="{{.Root}}status.json">status.json</a></footer>
</body>
</html>
{{end}}`

var funcs = template.FuncMap{
	"title": titleCase,
	// safe marks HTML rendered by templates.Markdown, which escapes
	// everything the responder typed.
	"safe": func(s string) template.HTML { return template.HTML(s) }, // #nosec G203
	"names": func(ss []publishers.Service) string {
		n := make([]string, len(ss))
		for i, s := range ss {
			n[i] = s.Name
		}
		return strings.Join(n, ", ")
	},
}

var indexTmpl = template.Must(template.New("index").Funcs(funcs).Parse(layout + `{{template "top" .}}
<h1>{{.Org}} status</h1>
<p class="banner {{.Site.Status}}">{{if eq .Site.Status "operational"}}All systems operational{{else if eq .Site.Status "outage"}}Major outage{{else}}Some services are affected{{end}}</p>
{{with .Site.Open}}<h2>Open incidents</h2>
{{range .}}<article>
<h3><a href="incidents/{{.ID}}.html">{{.Title}}</a> <span class="tag {{.Status}}">{{title .Status}}</span></h3>
<p class="meta">Since {{call $.When .StartedAt}}{{with .Services}} · {{names .}}{{end}}</p>
{{with index .Updates 0}}<div>{{safe .HTML}}</div><p class="meta">{{title .Status}} · {{call $.When .At}}</p>{{end}}
</article>
{{end}}{{end}}
{{with .Site.Services}}<h2>Services</h2>
<ul class="services">{{range .}}<li><span>{{.Name}}</span><span class="tag {{.Status}}">{{title .Status}}</span></li>{{end}}</ul>{{end}}
<h2>Recent history</h2>
{{with .Site.History}}<ul>{{range .}}<li><a href="incidents/{{.ID}}.html">{{.Title}}</a> <span class="meta">{{call $.When .StartedAt}}{{with .Services}} · {{names .}}{{end}}</span>{{if .RFOURL}} · <a href="incidents/{{.ID}}-rfo.html">Reason For Outage</a>{{end}}</li>
{{end}}</ul>{{else}}<p>No resolved incidents recently.</p>{{end}}
{{template "bottom" .}}`))

var incidentTmpl = template.Must(template.New("incident").Funcs(funcs).Parse(layout + `{{template "top" .}}
<h1>{{.Inc.Title}}</h1>
<p class="meta"><span class="tag {{.Inc.Status}}">{{title .Inc.Status}}</span>{{with .Inc.Services}} · {{names .}}{{end}}</p>
{{.Body}}
{{template "bottom" .}}`))

var rfoTmpl = template.Must(template.New("rfo").Funcs(funcs).Parse(layout + `{{template "top" .}}
<h1>{{.PageTitle}}</h1>
<p class="meta"><a href="{{.Inc.ID}}.html">{{.Inc.Title}}: every update</a></p>
{{.Body}}
{{template "bottom" .}}`))

type view struct {
	PageTitle string
	Org       string
	Root      string
	Generated string
	Site      *Site
	Inc       publishers.Incident
	Body      template.HTML
	When      func(time.Time) string // a time in the runbook's zones
}

func (p *Publisher) render(rel string, t *template.Template, s *Site) error {
	var b bytes.Buffer
	v := view{PageTitle: p.org + " status", Org: p.org, Root: "", Generated: p.when(s.Generated), Site: s, When: p.when}
	if err := t.Execute(&b, v); err != nil {
		return err
	}
	return writeFile(p.dir, rel, b.Bytes())
}

// renderPage writes a page straight into dir (a staging folder of a full build).
func (p *Publisher) renderPage(dir, name string, t *template.Template, pg *Page, inc publishers.Incident) error {
	var b bytes.Buffer
	v := view{PageTitle: pg.Title, Org: p.org, Root: "../", Generated: p.when(p.now()),
		Inc: inc, Body: template.HTML(pg.HTML), When: p.when} // #nosec: rendered by templates.Markdown, responder text escaped
	if err := t.Execute(&b, v); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, name), b.Bytes(), 0o644)
}

func (p *Publisher) writePage(rel string, t *template.Template, pg *Page, inc publishers.Incident, sync bool) error {
	var b bytes.Buffer
	v := view{PageTitle: pg.Title, Org: p.org, Root: "../", Generated: p.when(p.now()),
		Inc: inc, Body: template.HTML(pg.HTML), When: p.when} // #nosec: rendered by templates.Markdown, responder text escaped
	if err := t.Execute(&b, v); err != nil {
		return err
	}
	return write(p.dir, rel, b.Bytes(), sync)
}

// Atom (RFC 4287) types.
type atomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	ID      string      `xml:"id"`
	Title   string      `xml:"title"`
	Updated string      `xml:"updated"`
	Author  atomAuthor  `xml:"author"`
	Links   []atomLink  `xml:"link"`
	Entries []atomEntry `xml:"entry"`
}

type atomAuthor struct {
	Name string `xml:"name"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr,omitempty"`
	Href string `xml:"href,attr"`
}

type atomEntry struct {
	ID      string      `xml:"id"`
	Title   string      `xml:"title"`
	Updated string      `xml:"updated"`
	Link    atomLink    `xml:"link"`
	Content atomContent `xml:"content"`
}

type atomContent struct {
	Type string `xml:"type,attr"`
	Body string `xml:",chardata"`
}

// FeedEntries is how many updates the feed carries.
const FeedEntries = 50

func (p *Publisher) writeFeed(s *Site) error {
	base := p.baseURL
	feedID := "urn:incident:status:" + strings.ReplaceAll(strings.ToLower(p.org), " ", "-")
	if base != "" {
		feedID = base + "/feed.atom"
	}
	f := atomFeed{ID: feedID, Title: p.org + " status", Author: atomAuthor{Name: p.org},
		Updated: s.Generated.Format(time.RFC3339)}
	if base != "" {
		f.Links = []atomLink{{Rel: "self", Href: base + "/feed.atom"}, {Rel: "alternate", Href: base + "/"}}
	}
	type item struct {
		e Entry
		u EntryUpdate
	}
	var items []item
	for _, e := range s.Incidents {
		for _, u := range e.Updates {
			items = append(items, item{e, u})
		}
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].u.At.After(items[j].u.At) })
	if len(items) > FeedEntries {
		items = items[:FeedEntries]
	}
	for _, it := range items {
		link := it.e.URL
		id := "urn:incident:" + it.e.ID + ":update:" + strconv.Itoa(it.u.Number)
		if base != "" {
			id = link + "#update-" + strconv.Itoa(it.u.Number)
		}
		f.Entries = append(f.Entries, atomEntry{
			ID: id, Title: "[" + titleCase(it.u.Status) + "] " + it.e.Title,
			Updated: it.u.At.UTC().Format(time.RFC3339), Link: atomLink{Rel: "alternate", Href: link},
			Content: atomContent{Type: "html", Body: it.u.HTML},
		})
	}
	var b bytes.Buffer
	b.WriteString(xml.Header)
	enc := xml.NewEncoder(&b)
	enc.Indent("", "  ")
	if err := enc.Encode(f); err != nil {
		return err
	}
	b.WriteByte('\n')
	return writeFile(p.dir, "feed.atom", b.Bytes())
}

// writeFile writes dir/rel atomically (temp file, sync, rename).
func writeFile(dir, rel string, data []byte) error {
	return write(dir, rel, data, true)
}

// write writes dir/rel through a temp file and a rename, so a reader never
// sees half a page; with sync it also survives a power cut. A full build
// skips the per-file sync: it is cheap to run again.
func write(dir, rel string, data []byte, sync bool) error {
	p := filepath.Join(dir, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	if sync {
		if err := f.Sync(); err != nil {
			f.Close()
			os.Remove(f.Name())
			return err
		}
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return err
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(f.Name(), p)
}

func titleCase(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
