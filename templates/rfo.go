package templates

import "time"

// RFO is a Reason For Outage report.
type RFO struct {
	// Summary ... FollowUp are the known sections: written one by one, or
	// found in a report written as a file (see Sections).
	Summary, Impact, RootCause, Mitigation, FollowUp string
	// Sections is a report written as a file (incident rfo --from): its
	// sections in the file's order, each one's Markdown as written. Empty
	// for a report written section by section.
	Sections         []RFOSection
	Timeline         []TimelineEntry // generated from the record (and edited)
	FirstUpdateAfter time.Duration   // from start to first public update
	UpdateCount      int
	LongestGap       time.Duration // longest gap between public updates
	Cadence          time.Duration
	Duration         time.Duration // from start to resolution
	AlertToAck       time.Duration // from the first alert to the first acknowledgement (0: none)
}

// Kinds of RFO section: the known ones a heading can name (with synonyms),
// so templates and checklists can place them.
const (
	SectionSummary       = "summary"
	SectionImpact        = "impact"
	SectionRootCause     = "root_cause"
	SectionMitigation    = "mitigation"
	SectionFollowUp      = "follow_up"
	SectionTimeline      = "timeline"
	SectionCommunication = "communication"
)

// RFOSection is one section of an RFO.
type RFOSection struct {
	Heading string // the heading's Markdown, without the #s
	Level   int    // 2 (##) or 3 (###); 0 for text before the first heading
	Kind    string // one of the Section kinds, or "" for any other section
	Body    string // Markdown
	// Generated marks a section the report does not have, added from the
	// record: rfo.md.tmpl writes its content (the timeline, the
	// communication figures; an impact section gets the facts either way).
	Generated bool
}

// TimelineEntry is one line of an RFO timeline.
type TimelineEntry struct {
	At   time.Time
	Text string
}

// RFOParts returns the RFO's sections in the order rfo.md.tmpl shows them:
// a report from a file as written, else summary, impact, root cause, what
// we did and what we are changing; with what the record adds where the
// report has none of it: an impact section after the summary (the template
// puts the facts in any impact section), a summary when the incident is a
// recurrence (the template says so there), the timeline and the
// communication figures at the end.
func (d *Data) RFOParts() []RFOSection {
	r := d.RFO
	if r == nil {
		return nil
	}
	parts := r.Sections
	if len(parts) == 0 {
		for _, s := range []struct{ heading, kind, body string }{
			{"Summary", SectionSummary, r.Summary}, {"Impact", SectionImpact, r.Impact}, {"Root cause", SectionRootCause, r.RootCause},
			{"What we did", SectionMitigation, r.Mitigation}, {"What we are changing", SectionFollowUp, r.FollowUp},
		} {
			parts = append(parts, RFOSection{Heading: s.heading, Level: 2, Kind: s.kind, Body: s.body})
		}
	}
	has := func(kind string) int {
		for i, p := range parts {
			if p.Kind == kind {
				return i
			}
		}
		return -1
	}
	out := make([]RFOSection, 0, len(parts)+4)
	if has(SectionSummary) < 0 && len(d.Incident.Related) > 0 {
		out = append(out, RFOSection{Heading: "Summary", Level: 2, Kind: SectionSummary, Generated: true})
	}
	out = append(out, parts...)
	if has(SectionImpact) < 0 {
		at := 0 // after the summary, else after the text before the first heading
		for i, p := range out {
			if p.Kind == SectionSummary {
				at = i + 1
				break
			}
		}
		if at == 0 && len(out) > 0 && out[0].Level == 0 {
			at = 1
		}
		out = append(out[:at], append([]RFOSection{{Heading: "Impact", Level: 2, Kind: SectionImpact, Generated: true}}, out[at:]...)...)
	}
	if has(SectionTimeline) < 0 {
		out = append(out, RFOSection{Heading: "Timeline", Level: 2, Kind: SectionTimeline, Generated: true})
	}
	if has(SectionCommunication) < 0 {
		out = append(out, RFOSection{Heading: "How we communicated", Level: 2, Kind: SectionCommunication, Generated: true})
	}
	return out
}
