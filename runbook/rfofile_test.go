package runbook

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/incident-cli/incident/internal/golden"
	"github.com/incident-cli/incident/templates"
)

// TestRFOFromFileGolden renders reports written as files, of the shapes
// teams write (testdata/rfo): a provider's long narrative report with its
// own headings, ### sub-sections, lists of figures and a table; synonyms of
// the known headings; no heading at all; the report's own timeline; setext
// headings, code blocks and quotes holding "##". Each golden file holds the
// notes --dry-run shows, then the RFO post.
func TestRFOFromFileGolden(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "rfo", "*.md"))
	if len(files) < 5 {
		t.Fatalf("testdata/rfo holds %d reports", len(files))
	}
	for _, file := range files {
		name := filepath.Base(file)
		t.Run(name, func(t *testing.T) {
			rb, id := recordedIncident(t)
			inc, err := rb.Store.Load(id)
			if err != nil {
				t.Fatal(err)
			}
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			text, notes, err := rb.ParseRFO(name, string(src), rb.DraftRFO(inc))
			if err != nil {
				t.Fatal(err)
			}
			res, err := rb.PublishRFO(context.Background(), id, text, RFOOptions{PublishOptions: PublishOptions{DryRun: true}})
			if err != nil {
				t.Fatal(err)
			}
			post := res.Rendered[0].Text
			golden.Assert(t, "rfo-from-"+name, strings.Join(notes, "\n")+"\n---\n"+res.Rendered[0].Title+"\n\n"+post)
			// Every section's Markdown is in the post as written (with
			// "<" as "&lt;", as in all typed text).
			for _, s := range text.Sections {
				if body := strings.ReplaceAll(s.Body, "<", "&lt;"); !strings.Contains(post, body) {
					t.Errorf("section %q is not in the post as written:\n%s", s.Heading, s.Body)
				}
			}
			// Sections keep the file's order.
			last := -1
			for _, s := range text.Sections {
				if s.Body == "" {
					continue
				}
				i := strings.Index(post, strings.ReplaceAll(s.Body, "<", "&lt;"))
				if i < last {
					t.Errorf("section %q moved before the one above it", s.Heading)
				}
				last = i
			}
		})
	}
}

// TestParseRFOSections checks what becomes of headings: kinds, levels,
// order, the generated sections, and the known fields.
func TestParseRFOSections(t *testing.T) {
	rb, _ := recordedIncident(t)
	base := RFOText{Timeline: []TimelineLine{{Text: "generated"}}}
	tests := []struct {
		name, src string
		kinds     []string // kind of each section, "-" for none
		levels    []int
		field     func(RFOText) string
		want      string
		timeline  bool // the generated timeline is kept
	}{
		{"known headings", "## Summary\nS\n## Root cause\nR\n## What we did\nM\n## What we are changing\nF\n",
			[]string{"summary", "root_cause", "mitigation", "follow_up"}, []int{2, 2, 2, 2}, func(t RFOText) string { return t.RootCause }, "R", true},
		{"synonyms, any case", "## OVERVIEW\nS\n## Resolution\nM\n## Action Items:\nF\n## Customer impact\nI\n",
			[]string{"summary", "mitigation", "follow_up", "impact"}, []int{2, 2, 2, 2}, func(t RFOText) string { return t.FollowUp }, "F", true},
		{"numbered, with a subtitle", "## 2. Root cause: the worker limit\nR\n## iv) Next steps\nF\n",
			[]string{"root_cause", "follow_up"}, []int{2, 2}, func(t RFOText) string { return t.RootCause }, "R", true},
		{"sub-sections belong to the field", "## Follow-up\nIntro.\n### Alerts\nA\n### Limits\nL\n## Other\nO\n",
			[]string{"follow_up", "-", "-", "-"}, []int{2, 3, 3, 2}, func(t RFOText) string { return t.FollowUp }, "Intro.\n\n### Alerts\n\nA\n\n### Limits\n\nL", true},
		{"own timeline", "## Summary\nS\n## Timeline\n- at 10: x\n",
			[]string{"summary", "timeline"}, []int{2, 2}, func(t RFOText) string { return t.Summary }, "S", true},
		{"no heading", "Just text.\n\nMore.\n",
			[]string{"summary"}, []int{2}, func(t RFOText) string { return t.Summary }, "Just text.\n\nMore.", true},
		{"text before the headings, and a summary", "Intro.\n## Summary\nS\n",
			[]string{"-", "summary"}, []int{0, 2}, func(t RFOText) string { return t.Summary }, "S", true},
		{"level 1 headings are sections", "# Summary\nS\n# Cause\nR\n",
			[]string{"summary", "root_cause"}, []int{2, 2}, func(t RFOText) string { return t.RootCause }, "R", true},
		{"a title", "# RFO: IMAP outage\n\n## Mitigation\nM\n",
			[]string{"mitigation"}, []int{2}, func(t RFOText) string { return t.Summary }, "", true},
		{"#### stays in the text", "## Summary\nS\n#### Detail\nD\n",
			[]string{"summary"}, []int{2}, func(t RFOText) string { return t.Summary }, "S\n#### Detail\nD", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, notes, err := rb.ParseRFO("rfo.md", tc.src, base)
			if err != nil {
				t.Fatal(err)
			}
			var kinds []string
			var levels []int
			for _, s := range got.Sections {
				k := s.Kind
				if k == "" {
					k = "-"
				}
				kinds, levels = append(kinds, k), append(levels, s.Level)
			}
			if !slices.Equal(kinds, tc.kinds) || !slices.Equal(levels, tc.levels) {
				t.Errorf("kinds %v levels %v, want %v %v", kinds, levels, tc.kinds, tc.levels)
			}
			if f := tc.field(got); f != tc.want {
				t.Errorf("field = %q, want %q", f, tc.want)
			}
			if len(got.Missing()) != 0 {
				t.Errorf("a report from a file misses %v", got.Missing())
			}
			if (len(got.Timeline) == 1) != tc.timeline {
				t.Errorf("timeline = %v", got.Timeline)
			}
			if len(notes) == 0 {
				t.Error("no notes")
			}
			if slices.Contains(kinds, templates.SectionTimeline) != strings.Contains(strings.Join(notes, "\n"), "replaces the generated timeline") {
				t.Errorf("notes do not say whether the timeline is replaced: %q", notes)
			}
		})
	}
}

// TestParseRFOErrors: only what cannot be a report is an error, naming the
// file (and the line), and nothing else is.
func TestParseRFOErrors(t *testing.T) {
	rb, _ := recordedIncident(t)
	for _, tc := range []struct{ src, want string }{
		{"", "rfo.md: the file is empty"},
		{" \n\t\n", "rfo.md: the file is empty"},
		{"## Summary\nok\n\xff bad\n", "rfo.md:3:1: the file is not UTF-8"},
		{"## Sum\xe2\x82mary\n", "rfo.md:1:7: the file is not UTF-8"},
		{strings.Repeat("x", MaxRFOFile+1), "rfo.md: the file is over 1 MiB"},
	} {
		if _, _, err := rb.ParseRFO("rfo.md", tc.src, RFOText{}); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("ParseRFO(%.20q) = %v, want %q", tc.src, err, tc.want)
		}
	}
	for _, src := range []string{"## Summry\nx\n", "##\n", "text", "\ufeff## Summary\nx", "# Only a title\n", strings.Repeat("y", MaxRFOFile)} {
		if _, _, err := rb.ParseRFO("rfo.md", src, RFOText{}); err != nil {
			t.Errorf("ParseRFO(%.20q): %v", src, err)
		}
	}
}

// TestRFOSectionsRecordedAsWritten: a report's Markdown survives the
// record byte for byte (CRLF, tabs, trailing spaces of a line break,
// non-ASCII), and the fields of an RFO follow its sections.
func TestRFOSectionsRecordedAsWritten(t *testing.T) {
	rb, id := recordedIncident(t)
	src := "## Summary\r\n\r\nLine one  \r\nline two\twith a tab, «quotes», 日本語, emoji 👩🏽‍💻\r\n\r\n## Custom\r\n\r\n| a | b |\r\n|---|---|\r\n| 1 | 2 |\r\n"
	text, _, err := rb.ParseRFO("rfo.md", src, RFOText{})
	if err != nil {
		t.Fatal(err)
	}
	if err := rb.SaveRFODraft(id, text); err != nil {
		t.Fatal(err)
	}
	inc, err := rb.Store.Load(id)
	if err != nil {
		t.Fatal(err)
	}
	got := rb.DraftRFO(inc)
	if !slices.Equal(got.Sections, text.Sections) {
		t.Fatalf("recorded sections\n%+v\nwant\n%+v", got.Sections, text.Sections)
	}
	if want := "Line one  \r\nline two\twith a tab, «quotes», 日本語, emoji 👩🏽‍💻"; got.Sections[0].Body != want || got.Summary != want {
		t.Errorf("summary = %q, want %q", got.Sections[0].Body, want)
	}
	got.Set(templates.SectionRootCause, "An attack.")
	if got.RootCause != "An attack." || got.Sections[len(got.Sections)-1].Heading != "Root cause" {
		t.Errorf("Set root cause: %+v", got)
	}
	got.Set(templates.SectionSummary, "New summary.")
	if got.Summary != "New summary." || got.Sections[0].Body != "New summary." {
		t.Errorf("Set summary: %+v", got)
	}
}

// TestRFOOldRecordLoads: an RFO recorded before reports had sections
// loads, and renders as it did.
func TestRFOOldRecordLoads(t *testing.T) {
	rb, id := recordedIncident(t)
	old := `kind = "rfo-draft"
at = 2026-11-28T08:00:00Z
by = "bob"

[rfo]
summary = "Logins failed."
root_cause = "An attack."
mitigation = "Blocked it."
follow_up = "Limits."

[[rfo.timeline]]
at = 2026-11-27T22:38:00Z
text = "The problem began."
`
	if err := os.WriteFile(filepath.Join(rb.Store.Dir, id, "20261128T080000.000000000Z-rfo-draft-oldold.toml"), []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	inc, err := rb.Store.Load(id)
	if err != nil {
		t.Fatal(err)
	}
	text := rb.DraftRFO(inc)
	if text.Summary != "Logins failed." || len(text.Sections) != 0 || len(text.Timeline) != 1 || len(text.Missing()) != 0 {
		t.Fatalf("old draft = %+v", text)
	}
	res, err := rb.PublishRFO(context.Background(), id, text, RFOOptions{PublishOptions: PublishOptions{DryRun: true}})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## Summary\n\nLogins failed.\n", "## Root cause\n\nAn attack.\n", "## Timeline\n\n- Fri 27 Nov 23:38 CET (22:38 UTC): The problem began.\n", "## How we communicated\n"} {
		if !strings.Contains(res.Rendered[0].Text, want) {
			t.Errorf("old RFO renders without %q:\n%s", want, res.Rendered[0].Text)
		}
	}
}
