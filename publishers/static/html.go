package static

import (
	"bytes"
	"fmt"
	"html/template"
	"strings"
	"sync"
	"time"

	"github.com/incident-cli/incident/publishers"
)

// The page layout. Everything that comes from the records goes through
// html/template's escaping; the post HTML was made safe by the renderer
// (Markdown with raw HTML escaped) and is the only value marked template.HTML
// besides the fixed icons.
const layout = `{{define "top"}}<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
{{if .Refresh}}<meta http-equiv="refresh" content="{{.Refresh}}">
{{end}}<title>{{.PageTitle}}</title>
<link rel="alternate" type="application/atom+xml" title="{{.Org}} status updates" href="{{.Root}}feed.atom">
{{range .Feeds}}<link rel="alternate" type="application/atom+xml" title="{{.Title}}" href="{{$.Root}}{{.Href}}">
{{end}}<style>` + css + `</style>
</head>
<body>
<header><a href="{{.Root}}index.html">{{.Org}} status</a></header>
<main>
{{end}}
{{define "bottom"}}</main>
<footer>
<p>Subscribe: <a href="{{.Root}}feed.atom">Atom</a>{{with .Subscribe}} · <a href="{{.}}">email</a>{{end}}{{with .Feeds}} · per service:{{range $i, $f := .}}{{if $i}},{{end}} <a href="{{$.Root}}{{$f.Href}}">{{$f.Name}}</a>{{end}}{{end}}</p>
<p>Updated {{.Generated}} · <a href="{{.Root}}history/index.html">Incident history</a> · <a href="{{.Root}}status.json">status.json</a> · <a href="{{.Root}}api/v2/summary.json">api/v2/summary.json</a></p>
</footer>
</body>
</html>
{{end}}
{{define "update"}}<div class="update">
<p class="upd"><strong>{{title .Status}}</strong> <span class="meta">· {{when .At}}</span></p>
{{safe .HTML}}
</div>
{{end}}
{{define "state"}}<span class="state s-{{.}}">{{icon .}} {{words .}}</span>{{end}}`

// css is the pages' only style: inline, no fonts or images to fetch, light
// and dark by prefers-color-scheme, every colour pair readable (WCAG AA).
const css = `
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;max-width:48rem;margin:0 auto;padding:1rem;color:#1a1a1a;background:#fff}
a{color:#0b57d0}h1{font-size:1.6rem;margin:.5rem 0}h2{font-size:1.25rem;margin-top:2rem}h3{font-size:1.05rem;margin:1.2rem 0 .2rem}h4{font-size:1rem;margin:.8rem 0 .2rem}
header a{font-weight:600}
.banner{padding:.8rem 1rem;border-radius:.4rem;font-weight:600;font-size:1.1rem}
.s-operational{background:#e6f4ea;color:#0d652d}.s-under_maintenance{background:#e8f0fe;color:#174ea6}.s-degraded_performance{background:#fef7e0;color:#6d4700}.s-partial_outage{background:#feefe3;color:#8a3c00}.s-major_outage{background:#fce8e6;color:#a50e0e}
.state,.tag{font-size:.85rem;padding:.1rem .5rem;border-radius:1rem;white-space:nowrap}
.i-none,.i-maintenance{background:#e8f0fe;color:#174ea6}.i-minor{background:#fef7e0;color:#6d4700}.i-major{background:#feefe3;color:#8a3c00}.i-critical{background:#fce8e6;color:#a50e0e}
.icon{width:1em;height:1em;vertical-align:-.15em;fill:currentColor}
.open{border:2px solid #8a3c00;border-radius:.4rem;padding:0 1rem .5rem;margin:1rem 0}
.maintenance{border:2px solid #174ea6;border-radius:.4rem;padding:0 1rem .5rem;margin:1rem 0}
ul.services{list-style:none;padding:0;margin:0}ul.services>li{padding:.6rem 0;border-bottom:1px solid #ddd}
.row{display:flex;justify-content:space-between;align-items:baseline;gap:.5rem;flex-wrap:wrap}.name{font-weight:600}
svg.bars{display:block;width:100%;height:34px;margin:.4rem 0 .1rem}
.d-operational,.d-under_maintenance{fill:#2fcc66}.d-degraded_performance{fill:#eec410}.d-partial_outage{fill:#f08a24}.d-major_outage{fill:#e75737}.d-nodata{fill:#b3bac5}
.legend{display:flex;justify-content:space-between;color:#555;font-size:.8rem;margin:0}
.states{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.4rem;margin:.8rem 0}
.meta{color:#555;font-size:.9rem}.upd{margin:.6rem 0 0}.update p{margin:.3rem 0}
ul.affected{margin:.2rem 0;padding-left:1.2rem}
footer{margin-top:3rem;color:#555;font-size:.85rem}
@media (prefers-color-scheme: dark){body{background:#121212;color:#e8e8e8}a{color:#8ab4f8}.meta,.legend,footer{color:#b0b0b0}ul.services>li{border-color:#333}
.s-operational{background:#0f2e1a;color:#81c995}.s-under_maintenance,.i-none,.i-maintenance{background:#132545;color:#aecbfa}.s-degraded_performance,.i-minor{background:#332700;color:#fdd663}.s-partial_outage,.i-major{background:#3a1f00;color:#fcad70}.s-major_outage,.i-critical{background:#3c1210;color:#f6aea9}
.open{border-color:#fcad70}.maintenance{border-color:#aecbfa}.d-nodata{fill:#5f6368}}
`

var funcs = template.FuncMap{
	// when and ago are the publisher's (see newPages): a time in the
	// runbook's zones, and how long before now it was.
	"when":   func(time.Time) string { return "" },
	"ago":    func(time.Time) string { return "" },
	"window": func(a, b time.Time) string { return "" },
	"title":  titleCase,
	// safe marks HTML rendered by templates.Markdown, which escapes
	// everything the responder typed.
	"safe":  func(s string) template.HTML { return template.HTML(s) }, // #nosec G203
	"icon":  icon,
	"words": publishers.StateWords,
	"names": func(ss []publishers.Service) string {
		n := make([]string, len(ss))
		for i, s := range ss {
			n[i] = s.Name
		}
		return strings.Join(n, ", ")
	},
	"impact": func(s string) string {
		switch s {
		case "none":
			return "no impact"
		case "maintenance":
			return s
		}
		return s + " impact"
	},
	"latest": func(e Entry) *EntryUpdate {
		if len(e.Updates) == 0 {
			return nil
		}
		return &e.Updates[0]
	},
}

// icons are one distinct shape per state, so that a state never shows by
// colour alone; its word always stands beside it.
var icons = map[string]string{
	publishers.Operational:         `<circle cx="8" cy="8" r="7.5"/><path d="M4.3 8.3l2.4 2.4 5-5" fill="none" stroke="#fff" stroke-width="2"/>`,
	publishers.UnderMaintenance:    `<path d="M8 .3L15.7 8 8 15.7.3 8z"/><path d="M8 7v5M8 4v1.6" stroke="#fff" stroke-width="1.8"/>`,
	publishers.DegradedPerformance: `<circle cx="8" cy="8" r="7.5"/><path d="M4 8h8" stroke="#fff" stroke-width="2"/>`,
	publishers.PartialOutage:       `<path d="M8 .8l7.6 14H.4z"/><path d="M8 5.5V10m0 1.5V13" stroke="#fff" stroke-width="1.8"/>`,
	publishers.MajorOutage:         `<path d="M5 .5h6L15.5 5v6L11 15.5H5L.5 11V5z"/><path d="M5.3 5.3l5.4 5.4m0-5.4l-5.4 5.4" stroke="#fff" stroke-width="2"/>`,
}

func icon(state string) template.HTML {
	shape, ok := icons[state]
	if !ok {
		shape = icons[publishers.Operational]
	}
	return template.HTML(`<svg class="icon" viewBox="0 0 16 16" aria-hidden="true" focusable="false">` + shape + `</svg>`) // #nosec G203: fixed markup
}

var indexTmpl = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("index").Funcs(funcs).Parse(layout + `{{define "window"}}{{$e := .}}<article>
<h3><a href="incidents/{{.ID}}.html">{{.Title}}</a></h3>
<p class="meta"><span class="tag i-maintenance">{{.Label .Status}}</span> · {{window .Maintenance.Start .Maintenance.End}}</p>
{{with .Services}}<ul class="affected">{{range .}}<li>{{.Name}}: {{template "state" ($e.StateOf .ID)}}</li>{{end}}</ul>{{end}}
{{with latest .}}<div class="update">
{{safe .HTML}}
</div>{{end}}
<p class="meta">Posted on {{when .OpenedAt}}{{with latest .}}{{if gt .Number 1}} · last updated {{ago .At}}{{end}}{{end}}</p>
</article>
{{end}}{{template "top" .}}
<h1>{{.Org}} status</h1>
{{with .Data.Open}}<section class="open" aria-labelledby="open-h">
<h2 id="open-h">Open incidents</h2>
{{range .}}{{$e := .}}<article>
<h3><a href="incidents/{{.ID}}.html">{{.Title}}</a></h3>
<p class="meta"><span class="tag i-{{.Impact}}">{{impact .Impact}}</span> · since {{when .StartedAt}}</p>
{{with .Services}}<ul class="affected">{{range .}}<li>{{.Name}}: {{template "state" ($e.StateOf .ID)}}</li>{{end}}</ul>{{end}}
{{with latest .}}<div class="update">
<p class="upd"><strong>{{title .Status}}</strong> <span class="meta">· {{when .At}} · last updated {{ago .At}}</span></p>
{{safe .HTML}}
</div>{{end}}
</article>
{{end}}</section>
{{end}}{{with .Data.InProgress}}<section class="maintenance" aria-labelledby="inprogress-h">
<h2 id="inprogress-h">Maintenance in progress</h2>
{{range .}}{{template "window" .}}{{end}}</section>
{{end}}<p class="banner s-{{.Worst}}">{{icon .Worst}} {{.Banner}}</p>
<h2>Services</h2>
{{if .Services}}<ul class="services">
{{range .Services}}<li>
<div class="row"><span class="name">{{.Name}}</span>{{template "state" .State}}</div>
<svg class="bars" role="img" aria-label="{{.Label}}" viewBox="0 0 448 34" preserveAspectRatio="none">{{range .Days}}<rect class="d-{{.Class}}" x="{{.X}}" y="0" width="3" height="34"><title>{{.Title}}</title></rect>{{end}}</svg>
<p class="legend"><span>90 days ago</span><span>{{.Uptime}}</span><span>Today</span></p>
</li>
{{end}}</ul>
<ul class="states" aria-label="What the states mean">{{range .Legend}}<li>{{template "state" .}}</li>{{end}}</ul>
{{else}}<p>No services are listed yet.</p>
{{end}}{{with .Data.Scheduled}}<section class="maintenance" aria-labelledby="scheduled-h">
<h2 id="scheduled-h">Scheduled Maintenance</h2>
{{range .}}{{template "window" .}}{{end}}</section>
{{end}}<h2>Past incidents</h2>
{{range .Past}}<h3>{{.Date}}</h3>
{{range .Incidents}}<article>
<h4><a href="incidents/{{.ID}}.html">{{.Title}}</a> <span class="tag i-{{.Impact}}">{{impact .Impact}}</span>{{if .Open}} <span class="meta">· open, last updated {{ago .LastUpdate}}</span>{{end}}</h4>
{{range .Updates}}{{template "update" .}}{{end}}
{{if .RFOURL}}<p><a href="incidents/{{.ID}}-rfo.html">Reason For Outage</a></p>
{{end}}</article>
{{else}}<p>No incidents reported.</p>
{{end}}{{end}}<p><a href="history/index.html">← Incident history</a></p>
{{template "bottom" .}}`))
})

var incidentTmpl = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("incident").Funcs(funcs).Parse(layout + `{{template "top" .}}
<h1>{{.Inc.Title}}</h1>
<p class="meta"><span class="tag">{{title .Inc.Status}}</span>{{with .Inc.Services}} · {{names .}}{{end}}</p>
{{if .Inc.ResolvedAt.IsZero}}{{with .Inc.Services}}<ul class="affected">{{range .}}<li>{{.Name}}: {{template "state" (index $.Inc.States .ID)}}</li>{{end}}</ul>{{end}}{{end}}
{{.Body}}
<p><a href="../index.html">← Current status</a> · <a href="../history/index.html">Incident history</a></p>
{{template "bottom" .}}`))
})

var rfoTmpl = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("rfo").Funcs(funcs).Parse(layout + `{{template "top" .}}
<h1>{{.PageTitle}}</h1>
<p class="meta"><a href="{{.Inc.ID}}.html">{{.Inc.Title}}: every update</a></p>
{{.Body}}
{{template "bottom" .}}`))
})

// pages are the publisher's own copies of the templates, with its when and
// ago.
type pages struct{ index, incident, rfo, month, months *template.Template }

// newPages returns the publisher's templates, parsed on first use: a
// command that never writes the page never pays for them.
func newPages(when func(time.Time) string, window func(a, b time.Time) string, now func() time.Time) func() *pages {
	f := template.FuncMap{"when": when, "window": window, "ago": func(t time.Time) string { return ago(now().Sub(t)) }}
	clone := func(t *template.Template) *template.Template { return template.Must(t.Clone()).Funcs(f) }
	return sync.OnceValue(func() *pages {
		return &pages{index: clone(indexTmpl()), incident: clone(incidentTmpl()), rfo: clone(rfoTmpl()), month: clone(monthTmpl()), months: clone(monthsTmpl())}
	})
}

type view struct {
	PageTitle string
	Org       string
	Root      string // "" or "../": links are relative, so the site works from file://
	Generated string
	Refresh   int
	Feeds     []feedLink // the services' feeds
	Subscribe string     // mailto: or http(s) URL of the email list

	// index
	Data     *SiteData
	Worst    string
	Banner   string
	Services []serviceRow
	Legend   []string
	Past     []pastDay

	// incident and RFO pages
	Inc  publishers.Incident
	Body template.HTML

	// history
	Month  *monthView
	Months []monthLink
}

type feedLink struct{ Name, Title, Href string }

type pastDay struct {
	Date      string
	Incidents []Entry
}

// base is the view every page starts from.
func (p *Publisher) base(title, root string, d *SiteData) view {
	v := view{PageTitle: title, Org: p.org, Root: root, Generated: p.when(p.now()), Refresh: p.refresh}
	if d != nil {
		v.Generated = p.when(d.Now)
		v.Subscribe = subscribeURL(d.Subscribe)
		for _, s := range d.Services {
			v.Feeds = append(v.Feeds, feedLink{Name: s.Name, Title: p.org + " status: " + s.Name, Href: serviceFeed(s.ID)})
		}
	}
	return v
}

// subscribeURL makes the email list's subscribe address a link: a mailto:
// for an address, an http(s) URL as it is; anything else is not shown.
func subscribeURL(s string) string {
	s = strings.TrimSpace(s)
	switch {
	case strings.HasPrefix(s, "https://"), strings.HasPrefix(s, "http://"), strings.HasPrefix(s, "mailto:"):
		return s
	case strings.Contains(s, "@") && !strings.ContainsAny(s, " <>:/"):
		return "mailto:" + s
	}
	return ""
}

// ago says how long ago something was, in the words "last updated" takes.
func ago(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d/time.Hour))
	}
	return fmt.Sprintf("%d days ago", int(d/(24*time.Hour)))
}

// writeIndex renders index.html.
func (p *Publisher) writeIndex(d *SiteData, w *files) error {
	v := p.base(p.org+" status", "", d)
	v.Data, v.Worst = d, d.worstState()
	v.Banner = banner(v.Worst)
	v.Legend = []string{publishers.Operational, publishers.DegradedPerformance, publishers.PartialOutage, publishers.MajorOutage, publishers.UnderMaintenance}
	for _, s := range d.Services {
		v.Services = append(v.Services, row(s, d.Zone))
	}
	v.Past = past(d)
	return p.renderTo("index.html", p.pages().index, v, w)
}

// past groups the incidents of the last PastDays days by the day they
// started, newest first, every day shown.
func past(d *SiteData) []pastDay {
	now := d.Now.In(d.Zone)
	var out []pastDay
	for k := range PastDays {
		start := time.Date(now.Year(), now.Month(), now.Day()-k, 0, 0, 0, 0, d.Zone)
		end := time.Date(start.Year(), start.Month(), start.Day()+1, 0, 0, 0, 0, d.Zone)
		day := pastDay{Date: start.Format("Mon 2 Jan 2006")}
		for _, e := range d.historic() {
			if !e.StartedAt.Before(start) && e.StartedAt.Before(end) {
				day.Incidents = append(day.Incidents, e)
			}
		}
		out = append(out, day)
	}
	return out
}

func (p *Publisher) renderTo(rel string, t *template.Template, v view, w *files) error {
	return p.renderIn(p.dir, rel, t, v, w)
}

// renderIn renders v into dir/rel (the site, or a build's staging folder).
func (p *Publisher) renderIn(dir, rel string, t *template.Template, v view, w *files) error {
	var b bytes.Buffer
	if err := t.Execute(&b, v); err != nil {
		return err
	}
	return w.write(dir, rel, b.Bytes())
}

// pageView is an incident page's view.
func (p *Publisher) pageView(pg *Page, inc publishers.Incident) view {
	v := p.base(pg.Title, "../", nil)
	v.Inc, v.Body = inc, template.HTML(pg.HTML) // #nosec: rendered by templates.Markdown, responder text escaped
	for _, s := range p.services {
		v.Feeds = append(v.Feeds, feedLink{Name: s.Name, Title: p.org + " status: " + s.Name, Href: serviceFeed(s.ID)})
	}
	return v
}

// renderPageBytes renders an incident's page (or RFO page) for a build.
func (p *Publisher) renderPageBytes(t *template.Template, pg *Page, inc publishers.Incident) ([]byte, error) {
	var b bytes.Buffer
	if err := t.Execute(&b, p.pageView(pg, inc)); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func (p *Publisher) writePage(rel string, t *template.Template, pg *Page, inc publishers.Incident, w *files) error {
	return p.renderTo(rel, t, p.pageView(pg, inc), w)
}

// titleCase writes a status for people: "identified" -> "Identified",
// "in_progress" -> "In progress".
func titleCase(s string) string {
	if s == "" {
		return s
	}
	s = strings.ReplaceAll(s, "_", " ")
	return strings.ToUpper(s[:1]) + s[1:]
}
