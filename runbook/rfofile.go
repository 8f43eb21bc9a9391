package runbook

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/text"

	"github.com/incident-cli/incident/templates"
)

// MaxRFOFile is the largest RFO file ParseRFO reads.
const MaxRFOFile = 1 << 20

// RFOSection is one section of an RFO written as a file: its heading, level
// (2 or 3; 0 for text before the first heading), the known section it names
// (templates.SectionSummary ...; "" for any other) and its Markdown as
// written.
type RFOSection struct {
	Heading string `toml:"heading,omitempty"`
	Level   int    `toml:"level,omitempty"`
	Kind    string `toml:"kind,omitempty"`
	Body    string `toml:"body"`
}

// rfoSynonyms are what headings say (in lower case, without numbering or
// a final colon) for each known section.
var rfoSynonyms = map[string][]string{
	templates.SectionSummary:       {"summary", "overview", "executive summary", "incident summary", "what happened"},
	templates.SectionImpact:        {"impact", "customer impact", "user impact", "impact on customers"},
	templates.SectionRootCause:     {"root cause", "root causes", "cause", "causes", "root cause analysis", "why it happened"},
	templates.SectionMitigation:    {"mitigation", "resolution", "what we did", "remediation", "mitigation and resolution"},
	templates.SectionFollowUp:      {"follow-up", "follow up", "followup", "follow-ups", "follow-up actions", "action items", "next steps", "what we are changing", "what we're changing", "what we will change", "what we're doing next"},
	templates.SectionTimeline:      {"timeline", "time line", "chronology", "sequence of events"},
	templates.SectionCommunication: {"how we communicated", "communication", "communications"},
}

// rfoKinds maps each synonym to its section.
var rfoKinds = func() map[string]string {
	m := map[string]string{}
	for kind, names := range rfoSynonyms {
		for _, n := range names {
			m[n] = kind
		}
	}
	return m
}()

var (
	headingNumber = regexp.MustCompile(`^(\d+(\.\d+)*[.)]?|[ivx]+[.)])\s+`)
	headingSpace  = regexp.MustCompile(`\s+`)
)

// rfoKind returns the known section a heading names, or "".
func rfoKind(heading string) string {
	h := strings.ToLower(strings.TrimSpace(heading))
	h = strings.ReplaceAll(h, "’", "'")
	h = headingNumber.ReplaceAllString(h, "")
	h = headingSpace.ReplaceAllString(strings.TrimRight(h, ":. "), " ")
	if k, ok := rfoKinds[h]; ok {
		return k
	}
	for _, sep := range []string{":", " - ", " – ", " — "} { // "Root cause: the worker limit"
		if before, _, ok := strings.Cut(h, sep); ok {
			return rfoKinds[strings.TrimSpace(before)]
		}
	}
	return ""
}

// kindName is how notes name a known section.
var kindName = map[string]string{
	templates.SectionSummary: "the summary", templates.SectionImpact: "the impact", templates.SectionRootCause: "the root cause",
	templates.SectionMitigation: "what we did", templates.SectionFollowUp: "what we are changing", templates.SectionTimeline: "the timeline",
	templates.SectionCommunication: "how we communicated",
}

// ParseRFO reads an RFO written in Markdown, from the file name (for
// messages). Every ## and ### section is kept in the file's order with its
// Markdown as written (a # heading counts as ##; one that opens the file
// and is its only one is the report's title, which the post has already).
// Headings that name a known section, case-insensitively and with common
// synonyms ("Mitigation", "Resolution", "What we did"; "Follow-up",
// "Action items", "Next steps"; "Root cause", "Cause"; "Customer impact";
// "Overview"), fill the matching fields, so templates and checklists can
// place them. Text before the first heading is the summary when no section
// is (and a file with no heading at all is all summary). The file's own
// "## Timeline" replaces the generated one; without one, base's generated
// timeline is kept. The notes say what became of each section, for
// --dry-run and the preview. Only input that cannot be a report is an
// error: an empty file, one not in UTF-8, one over 1 MiB.
func (r *Runbook) ParseRFO(name, src string, base RFOText) (RFOText, []string, error) {
	if len(src) > MaxRFOFile {
		return base, nil, fmt.Errorf("%s: the file is over 1 MiB, the most an RFO may have; shorten it", name)
	}
	if !utf8.ValidString(src) {
		line, col := badUTF8(src)
		return base, nil, fmt.Errorf("%s:%d:%d: the file is not UTF-8; save it as UTF-8 and run the command again", name, line, col)
	}
	src = strings.TrimPrefix(src, "\ufeff")
	if strings.TrimSpace(src) == "" {
		return base, nil, fmt.Errorf("%s: the file is empty; write the report in Markdown, with ## headings for its sections", name)
	}
	t := RFOText{Timeline: base.Timeline}
	var notes []string
	heads := headings([]byte(src))
	from := 0 // where the report begins
	if len(heads) > 0 && heads[0].level == 1 && strings.TrimSpace(src[:heads[0].start]) == "" && countLevel(heads, 1) == 1 {
		notes = append(notes, fmt.Sprintf("%s:%d: %q is the report's title: the RFO post has its own, so it is left out", name, heads[0].line, "# "+heads[0].text))
		from = heads[0].bodyStart
		heads = heads[1:]
	}
	hasSummary := false
	for _, h := range heads {
		hasSummary = hasSummary || rfoKind(h.plain) == templates.SectionSummary
	}
	end := len(src)
	if len(heads) > 0 {
		end = heads[0].start
	}
	if pre := sectionBody(src[from:end]); pre != "" {
		s := RFOSection{Body: pre}
		if !hasSummary {
			s.Heading, s.Level, s.Kind = "Summary", 2, templates.SectionSummary
			if len(heads) == 0 {
				notes = append(notes, name+": the file has no ## heading: all of it is the summary")
			} else {
				notes = append(notes, name+": the text before the first heading is the summary")
			}
		} else {
			notes = append(notes, name+": the text before the first heading is kept at the top")
		}
		t.Sections = append(t.Sections, s)
	}
	for i, h := range heads {
		end := len(src)
		if i+1 < len(heads) {
			end = heads[i+1].start
		}
		s := RFOSection{Heading: h.text, Level: max(h.level, 2), Kind: rfoKind(h.plain), Body: sectionBody(src[h.bodyStart:end])}
		where := fmt.Sprintf("%s:%d: %q", name, h.line, strings.Repeat("#", s.Level)+" "+h.plain)
		switch {
		case s.Kind == templates.SectionTimeline:
			notes = append(notes, where+" replaces the generated timeline")
		case s.Kind != "":
			notes = append(notes, where+" is "+kindName[s.Kind])
		default:
			notes = append(notes, where+" is kept as written")
		}
		t.Sections = append(t.Sections, s)
	}
	t.fillFields()
	if t.section(templates.SectionTimeline) < 0 {
		notes = append(notes, name+": no ## Timeline: the timeline generated from the record is added")
	}
	if t.section(templates.SectionCommunication) < 0 {
		notes = append(notes, name+": the communication figures are added as \"## How we communicated\"")
	}
	return t, notes, nil
}

// heading is one ATX or setext heading of level 1 to 3 at the top level of
// a Markdown document.
type heading struct {
	level            int
	text, plain      string // the heading's Markdown, and its plain text
	start, bodyStart int    // where its first line begins, and where the text after it does
	line             int    // 1-based
}

// headings finds the section headings of src with goldmark's parser, so a
// "##" in a code block or a list item is no heading.
func headings(src []byte) []heading {
	doc := goldmark.New().Parser().Parse(text.NewReader(src))
	var out []heading
	for n := doc.FirstChild(); n != nil; n = n.NextSibling() {
		h, ok := n.(*ast.Heading)
		if !ok || h.Level > 3 || h.Lines().Len() == 0 {
			continue
		}
		first, last := h.Lines().At(0), h.Lines().At(h.Lines().Len()-1)
		start := bytes.LastIndexByte(src[:first.Start], '\n') + 1
		bodyStart := lineEnd(src, last.Stop)
		if t := bytes.TrimLeft(src[start:first.Start], " \t"); len(t) == 0 || t[0] != '#' {
			bodyStart = lineEnd(src, bodyStart) // setext: the underline
		}
		var md []string
		for i := 0; i < h.Lines().Len(); i++ {
			seg := h.Lines().At(i)
			md = append(md, strings.TrimSpace(string(seg.Value(src))))
		}
		out = append(out, heading{level: h.Level, text: strings.Join(md, " "), plain: plainText(h, src),
			start: start, bodyStart: bodyStart, line: bytes.Count(src[:start], []byte("\n")) + 1})
	}
	return out
}

// lineEnd returns the index after the end of the line holding i.
func lineEnd(src []byte, i int) int {
	if i >= len(src) {
		return len(src)
	}
	if k := bytes.IndexByte(src[i:], '\n'); k >= 0 {
		return i + k + 1
	}
	return len(src)
}

// plainText is a heading's text without its emphasis, links and code marks.
func plainText(n ast.Node, src []byte) string {
	var b strings.Builder
	_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch c := c.(type) {
		case *ast.Text:
			b.Write(c.Segment.Value(src))
			if c.SoftLineBreak() || c.HardLineBreak() {
				b.WriteByte(' ')
			}
		case *ast.String:
			b.Write(c.Value)
		case *ast.RawHTML:
			return ast.WalkSkipChildren, nil
		}
		return ast.WalkContinue, nil
	})
	return strings.TrimSpace(b.String())
}

func countLevel(hs []heading, level int) int {
	n := 0
	for _, h := range hs {
		if h.level == level {
			n++
		}
	}
	return n
}

// sectionBody is a section's Markdown as written, without the blank lines
// around it (the first line keeps its indentation: it may be code).
func sectionBody(s string) string {
	for {
		line, rest, ok := strings.Cut(s, "\n")
		if !ok || strings.TrimSpace(line) != "" {
			break
		}
		s = rest
	}
	return strings.TrimRight(s, " \t\r\n")
}

// badUTF8 returns the line and column (in bytes, 1-based) of the first byte
// of src that is not UTF-8.
func badUTF8(src string) (line, col int) {
	line, start := 1, 0
	for i := 0; i < len(src); {
		r, size := utf8.DecodeRuneInString(src[i:])
		if r == utf8.RuneError && size == 1 {
			return line, i - start + 1
		}
		if r == '\n' {
			line, start = line+1, i+1
		}
		i += size
	}
	return line, len(src) - start + 1
}
