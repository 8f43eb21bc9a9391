package static

import (
	"html/template"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// The incident history: history/index.html lists the months, newest first;
// history/YYYY-MM.html lists one month's incidents (by the day they
// started, in the runbook's primary zone), newest first.

var monthTmpl = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("month").Funcs(funcs).Parse(layout + `{{template "top" .}}
<h1>Incident history</h1>
<h2>{{.Month.Name}}</h2>
{{with .Month.Incidents}}<ul class="history">
{{range .}}<li><a href="../incidents/{{.ID}}.html">{{.Title}}</a> <span class="tag i-{{.Impact}}">{{impact .Impact}}</span><br>
<span class="meta">{{if .Maintenance}}{{window .Maintenance.Start .Maintenance.End}} · {{.Label .Status}}{{else}}{{when .StartedAt}}{{with .ResolvedAt}} to {{when .}}{{else}} · still open{{end}}{{end}}{{with .Services}} · {{names .}}{{end}}{{if and .Open (not .LastUpdate.IsZero)}} · last updated {{ago .LastUpdate}}{{end}}</span>{{if .RFOURL}} · <a href="../incidents/{{.ID}}-rfo.html">Reason For Outage</a>{{end}}</li>
{{end}}</ul>
{{else}}<p>No incidents reported.</p>
{{end}}<p>{{with .Month.Prev}}<a href="{{.}}.html">← {{$.Month.PrevName}}</a> · {{end}}<a href="index.html">Every month</a>{{with .Month.Next}} · <a href="{{.}}.html">{{$.Month.NextName}} →</a>{{end}}</p>
{{template "bottom" .}}`))
})

var monthsTmpl = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("months").Funcs(funcs).Parse(layout + `{{template "top" .}}
<h1>Incident history</h1>
{{with .Months}}<ul>
{{range .}}<li><a href="{{.Key}}.html">{{.Name}}</a> <span class="meta">· {{.Count}} incident{{if ne .Count 1}}s{{end}}</span></li>
{{end}}</ul>
{{else}}<p>No incidents reported.</p>
{{end}}<p><a href="../index.html">← Current status</a></p>
{{template "bottom" .}}`))
})

type monthView struct {
	Key, Name      string
	Prev, PrevName string // the month before with incidents ("" none)
	Next, NextName string
	Incidents      []Entry
}

type monthLink struct {
	Key, Name string
	Count     int
	from      int // its incidents are SiteData.Incidents[from:from+Count]
}

// monthOf is the key of the month t falls in: "2026-11".
func monthOf(t time.Time, zone *time.Location) string { return t.In(zone).Format("2006-01") }

func monthName(key string) string {
	t, err := time.Parse("2006-01", key)
	if err != nil {
		return key
	}
	return t.Format("January 2006")
}

// months lists the months that have incidents, newest first (the incidents
// are newest first already); from indexes d.historic(), which leaves out
// maintenance still to come.
func months(d *SiteData) []monthLink {
	var out []monthLink
	for i, e := range d.historic() {
		k := monthOf(e.StartedAt, d.Zone)
		if n := len(out); n > 0 && out[n-1].Key == k {
			out[n-1].Count++
			continue
		}
		out = append(out, monthLink{Key: k, Name: monthName(k), Count: 1, from: i})
	}
	return out
}

// writeMonth writes history/KEY.html into the site.
func (p *Publisher) writeMonth(d *SiteData, key string, w *files) error {
	return p.renderMonth(p.dir, d, key, months(d), w)
}

func (p *Publisher) renderMonth(dir string, d *SiteData, key string, ms []monthLink, w *files) error {
	return p.renderIn(dir, filepath.Join("history", key+".html"), p.pages().month, p.monthPage(d, key, ms), w)
}

// monthPage is the view of history/KEY.html.
func (p *Publisher) monthPage(d *SiteData, key string, ms []monthLink) view {
	m := &monthView{Key: key, Name: monthName(key)}
	for i, x := range ms {
		if x.Key != key {
			continue
		}
		if i+1 < len(ms) {
			m.Prev, m.PrevName = ms[i+1].Key, ms[i+1].Name
		}
		if i > 0 {
			m.Next, m.NextName = ms[i-1].Key, ms[i-1].Name
		}
		m.Incidents = d.historic()[x.from : x.from+x.Count]
	}
	v := p.base("Incident history: "+m.Name+" · "+p.org, "../", d)
	v.Month = m
	return v
}

// writeHistoryIndex writes history/index.html into the site.
func (p *Publisher) writeHistoryIndex(d *SiteData, w *files) error {
	return p.renderHistoryIndex(p.dir, d, months(d), w)
}

func (p *Publisher) renderHistoryIndex(dir string, d *SiteData, ms []monthLink, w *files) error {
	v := p.base("Incident history · "+p.org, "../", d)
	v.Months = ms
	return p.renderIn(dir, filepath.Join("history", "index.html"), p.pages().months, v, w)
}

// writeHistory renders every month and the index into a staging folder
// that replaces history/, so months left without incidents disappear.
func (p *Publisher) writeHistory(d *SiteData) error {
	stage, err := os.MkdirTemp(p.dir, ".build-history-")
	if err != nil {
		return err
	}
	ms := months(d)
	w := &files{}
	for _, m := range ms {
		if err := p.renderMonth(stage, d, m.Key, ms, w); err != nil {
			os.RemoveAll(stage)
			return err
		}
	}
	if err := p.renderHistoryIndex(stage, d, ms, w); err != nil {
		os.RemoveAll(stage)
		return err
	}
	defer os.RemoveAll(stage)
	return swapIn(filepath.Join(stage, "history"), filepath.Join(p.dir, "history"))
}
