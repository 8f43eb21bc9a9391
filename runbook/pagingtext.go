package runbook

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/incident-cli/incident/pagers"
)

// PagerDisplay is how people read a pager's medium: by its type ("IRC",
// "email", "Pushover", "SMS", "phone call"), or its name for a webhook
// (whatever it bridges to) and a pager no longer configured.
func (r *Runbook) PagerDisplay(pager string, receipts []pagers.Receipt) string {
	pg := r.Pager(pager)
	if pg == nil {
		return pager
	}
	switch pg.Type {
	case "twilio":
		for _, rec := range receipts {
			if rec.Meta["mode"] == "call" {
				return "phone call"
			}
		}
		return "SMS"
	case "webhook":
		return pg.Name
	}
	return pagerTypes()[pg.Type].display
}

// Whom says whom a page went to: its person, the people its receipts
// name, or the pager's whole audience ("everyone on ops-irc").
func (p *PageState) Whom() string {
	switch {
	case p.Person != "":
		return p.Person
	case len(p.Reached) > 0:
		return strings.Join(p.Reached, ", ")
	}
	return "everyone on " + p.Pager
}

// pagingTimeline is the paging part of an RFO timeline: each minute's
// pages in one line ("Paged alice by IRC and email."), and the first
// acknowledgement made other than by publishing ("Acknowledged by alice
// (Pushover).").
func (r *Runbook) pagingTimeline(inc *Incident) []TimelineLine {
	type group struct {
		at    time.Time
		whom  []string
		media map[string][]string
	}
	var groups []*group
	pages := slices.Clone(inc.Pages)
	// By the minute they went out, then in the order they were planned
	// (pages go out side by side, so their results come in any order).
	slices.SortStableFunc(pages, func(a, b *PageState) int {
		if c := a.SentAt.Truncate(time.Minute).Compare(b.SentAt.Truncate(time.Minute)); c != 0 {
			return c
		}
		return a.FirstAt.Compare(b.FirstAt)
	})
	for _, p := range pages {
		if p.Kind != PageAlert && p.Kind != PageManual || !p.Delivered() {
			continue
		}
		at := p.SentAt.Truncate(time.Minute)
		var g *group
		if n := len(groups); n > 0 && groups[n-1].at.Equal(at) {
			g = groups[n-1]
		} else {
			g = &group{at: at, media: map[string][]string{}}
			groups = append(groups, g)
		}
		who := p.Whom()
		if !slices.Contains(g.whom, who) {
			g.whom = append(g.whom, who)
		}
		if m := r.PagerDisplay(p.Pager, p.Receipts); !slices.Contains(g.media[who], m) {
			g.media[who] = append(g.media[who], m)
		}
	}
	var out []TimelineLine
	for _, g := range groups {
		parts := make([]string, len(g.whom))
		for i, who := range g.whom {
			parts[i] = who + " by " + andList(g.media[who])
		}
		out = append(out, TimelineLine{At: g.at, Text: "Paged " + strings.Join(parts, "; ") + "."})
	}
	if inc.Acked() && inc.AckHow != "published an update" && (inc.FromAlert || len(inc.Pages) > 0) {
		how := ""
		switch inc.AckHow {
		case "":
		case "cli":
			how = " (incident ack)"
		default:
			how = " (" + r.howName(inc.AckHow) + ")"
		}
		out = append(out, TimelineLine{At: inc.AckedAt, Text: fmt.Sprintf("Acknowledged by %s%s.", inc.AckedBy, how)})
	}
	return out
}

// howName names the way an acknowledgement came: a pager type's display
// name ("Pushover"), or the word recorded.
func (r *Runbook) howName(how string) string {
	if t, ok := pagerTypes()[how]; ok {
		return t.display
	}
	return how
}

// andList joins "a", "a and b", "a, b and c".
func andList(xs []string) string {
	switch len(xs) {
	case 0:
		return ""
	case 1:
		return xs[0]
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " and " + xs[len(xs)-1]
}

// AlertToAck is the time from an incident's first alert to its first
// acknowledgement; ok is false when either is missing.
func AlertToAck(inc *Incident) (time.Duration, bool) {
	a := inc.FirstAlert()
	if a == nil || !inc.Acked() {
		return 0, false
	}
	from := a.FiredAt
	if from.IsZero() || from.After(inc.AckedAt) {
		from = inc.OpenedAt
	}
	return inc.AckedAt.Sub(from).Round(time.Second), true
}
