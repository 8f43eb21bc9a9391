package runbook

import (
	"fmt"
	"path"
	"strings"

	"github.com/incident-cli/incident/publishers"
	"github.com/incident-cli/incident/templates"
)

// Rendered is one channel's text for one update.
type Rendered struct {
	Channel    string `json:"channel"`
	Type       string `json:"type"`
	StatusPage bool   `json:"status_page"`
	Template   string `json:"template"`
	Title      string `json:"title,omitempty"`
	Text       string `json:"text"`
	HTML       string `json:"-"`
	Length     int    `json:"length"`
	Limit      int    `json:"limit,omitempty"` // 0: no limit
}

// Over reports whether the text is over the channel's limit.
func (x *Rendered) Over() bool { return x.Limit > 0 && x.Length > x.Limit }

// RenderError lists every render failure and over-limit text of an update;
// nothing was published or recorded.
type RenderError struct{ Problems []string }

func (e *RenderError) Error() string {
	return strings.Join(e.Problems, "\n") + "\nnothing was published; fix the template or shorten the text, then run the command again (--dry-run previews every channel)"
}

// upto returns the incident as it stood right after update u: the events up
// to u's, folded, plus every delivery result (for thread receipts).
func upto(inc *Incident, u *Update) *Incident {
	var evs []Event
	for _, e := range inc.Events {
		evs = append(evs, e)
		if e.ID == u.Event.ID {
			break
		}
	}
	return Fold(inc.ID, evs)
}

// data builds the template data for update u of inc (inc folded up to u).
func (r *Runbook) data(inc *Incident, u *Update, url string) *templates.Data {
	d := &templates.Data{Organization: r.Config.Organization, URL: url, Cadence: r.Config.Cadence.Duration}
	d.Incident = templates.Incident{ID: inc.ID, Title: inc.Title, Status: inc.Status, Severity: inc.Severity,
		Accounts: inc.Accounts, StartedAt: inc.StartedAt, OpenedAt: inc.OpenedAt, ResolvedAt: inc.ResolvedAt}
	for _, s := range inc.Services {
		d.Incident.Services = append(d.Incident.Services, templates.Service{ID: s, Name: r.ServiceName(s)})
	}
	for _, rel := range r.Related(inc) {
		d.Incident.Related = append(d.Incident.Related, templates.Related{ID: rel.ID, Title: rel.Title, URL: localLink(rel.URL), StartedAt: rel.StartedAt})
	}
	for _, x := range inc.PublicUpdates() {
		tu := templates.Update{Number: x.Number, Status: x.Event.Status, Message: x.Event.Message, Author: x.Event.By, At: x.Event.At}
		d.Updates = append(d.Updates, tu)
		if x == u || x.Event.ID == u.Event.ID {
			d.Update = tu
		}
	}
	if u.RFO {
		d.Update = templates.Update{Status: inc.Status, Message: u.Event.Message, Author: u.Event.By, At: u.Event.At}
	}
	if m := inc.Maintenance; m != nil {
		d.Incident.Maintenance = &templates.Maintenance{Start: m.Start, End: m.End, Phase: phaseOf(inc, u)}
	}
	for _, a := range inc.Alerts {
		d.Alerts = append(d.Alerts, templates.Alert{Source: a.Source, Name: a.Name, Summary: a.Summary, FiredAt: a.FiredAt, Firing: a.Firing})
	}
	return d
}

// renderStatus renders the status page's post for update u.
func (r *Runbook) renderStatus(inc *Incident, u *Update, rfoURL string) (Rendered, error) {
	ch := r.StatusPage
	x := Rendered{Channel: ch.Name, Type: ch.Type, StatusPage: true, Template: templates.StatusFile}
	d := r.data(inc, u, "")
	d.RFOURL = rfoURL
	if rest, ok := strings.CutPrefix(rfoURL, "file://"); ok {
		// A page read from disk links to its neighbour relatively (Markdown
		// drops file: links, and the folder may move).
		d.RFOURL = path.Base(rest)
	}
	var err error
	if x.Title, err = r.Templates.Render(templates.TitleFile, d); err != nil {
		return x, err
	}
	x.Title = strings.TrimSpace(x.Title)
	if x.Text, err = r.Templates.Render(templates.StatusFile, d); err != nil {
		return x, err
	}
	if x.HTML, err = templates.Markdown(x.Text); err != nil {
		return x, err
	}
	x.Length, x.Limit = measure(ch.Pub, x.Text)
	return x, nil
}

// renderLink renders a link channel's text for update u, linking to url.
func (r *Runbook) renderLink(ch *Channel, inc *Incident, u *Update, url string) (Rendered, error) {
	x := Rendered{Channel: ch.Name, Type: ch.Type, Template: ch.Template}
	d := r.data(inc, u, url)
	if u.RFO {
		d = r.rfoData(inc, u, url)
	}
	d.Channel = ch.Name
	var err error
	if x.Title, err = r.Templates.Render(templates.TitleFile, d); err != nil {
		return x, err
	}
	x.Title = strings.TrimSpace(x.Title)
	if x.Text, err = r.Templates.Render(ch.Template, d); err != nil {
		return x, err
	}
	x.Text = strings.TrimRight(x.Text, "\n")
	if url != "" && !strings.Contains(x.Text, url) {
		return x, fmt.Errorf("%s: the text does not contain the link to the status page ({{ .URL }}); every link channel must point to it", ch.Template)
	}
	if h, ok := ch.Pub.(publishers.HTMLWanted); ok && h.WantsHTML() {
		if x.HTML, err = templates.Markdown(x.Text); err != nil {
			return x, err
		}
	}
	x.Length, x.Limit = measure(ch.Pub, x.Text)
	return x, nil
}

func measure(p publishers.Publisher, text string) (n, limit int) {
	if c, ok := p.(publishers.Counter); ok {
		return c.Length(text)
	}
	return len([]rune(text)), 0
}

// renderAll renders every channel for update u and checks every limit. url
// is the best-known link (the status post's URL, or its predicted one).
func (r *Runbook) renderAll(inc *Incident, u *Update, url string) ([]Rendered, error) {
	var out []Rendered
	var problems []string
	sp, err := r.renderStatus(inc, u, "")
	if err != nil {
		problems = append(problems, fmt.Sprintf("%s: %v", sp.Channel, err))
	}
	out = append(out, sp)
	for _, ch := range r.Links {
		x, err := r.renderLink(ch, inc, u, url)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", ch.Name, err))
		}
		out = append(out, x)
	}
	for _, x := range out {
		if x.Over() {
			problems = append(problems, fmt.Sprintf("%s: the text is %d characters, over the %s limit of %d: shorten the message or the template %s", x.Channel, x.Length, x.Type, x.Limit, x.Template))
		}
	}
	if problems != nil {
		return out, &RenderError{Problems: problems}
	}
	return out, nil
}

// postIncident converts an incident for channels.
func (r *Runbook) postIncident(inc *Incident) publishers.Incident {
	pi := r.briefIncident(inc)
	for i := range pi.Updates {
		pi.Updates[i].HTML, _ = templates.Markdown(pi.Updates[i].Message)
		pi.Updates[i].Markdown = templates.MarkdownText(pi.Updates[i].Message)
	}
	return pi
}

// briefIncident is postIncident without the updates' HTML.
func (r *Runbook) briefIncident(inc *Incident) publishers.Incident {
	pi := publishers.Incident{ID: inc.ID, Title: inc.Title, Status: inc.Status, Severity: inc.Severity,
		Accounts: inc.Accounts, StartedAt: inc.StartedAt, OpenedAt: inc.OpenedAt, ResolvedAt: inc.ResolvedAt,
		States: map[string]string{}}
	if m := inc.Maintenance; m != nil {
		pi.Maintenance = &publishers.Maintenance{Start: m.Start, End: m.End}
	}
	for _, s := range inc.Services {
		pi.Services = append(pi.Services, publishers.Service{ID: s, Name: r.ServiceName(s)})
		pi.States[s] = inc.StateOf(s)
	}
	pi.Related = r.Related(inc)
	for _, u := range inc.PublicUpdates() {
		pi.Updates = append(pi.Updates, publishers.Update{Number: u.Number, Status: u.Event.Status,
			Message: u.Event.Message, At: u.Event.At, Author: u.Event.By, States: u.States})
	}
	return pi
}

// SuggestMessage renders the message the compose form starts with, for an
// incident (nil for a new one) moving to status with the given services.
func (r *Runbook) SuggestMessage(inc *Incident, status string, services []string) string {
	if inc == nil {
		inc = &Incident{Status: status}
	}
	x := *inc
	x.Status = status
	if services != nil {
		x.Services = services
	}
	u := &Update{Event: Event{ID: "~suggest", Status: status}}
	d := r.data(&x, u, "")
	d.Update = templates.Update{Status: status}
	s, err := r.Templates.Render(templates.MessageFile, d)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(s)
}
