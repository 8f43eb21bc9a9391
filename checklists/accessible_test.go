package checklists

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/charmbracelet/huh"
)

// TestAccessibleMultiSelect: in accessible mode an empty line keeps the
// selection shown (as Enter does in the TUI), a number picks or drops a
// choice, anything else is refused with what to type; and nothing meant
// for the next prompt is read ahead.
func TestAccessibleMultiSelect(t *testing.T) {
	choices := []Choice{{"IMAP/POP", "imap"}, {"Outgoing mail (SMTP)", "smtp"}, {"Webmail", "webmail"}}
	tests := []struct {
		name, input string
		selected    []string
		want        []string
		shows       []string
	}{
		{"Enter keeps the default", "\nnext\n", []string{"smtp"}, []string{"smtp"},
			[]string{"  2. [x] Outgoing mail (SMTP)", "Enter alone keeps this selection (Outgoing mail (SMTP)): "}},
		{"Enter keeps none", "\nnext\n", nil, []string{}, []string{"Enter alone keeps this selection (none): "}},
		{"pick, drop, keep", "1\n3\n1\n\nnext\n", []string{"smtp"}, []string{"smtp", "webmail"},
			[]string{"  1. [x] IMAP/POP", "keeps this selection (Outgoing mail (SMTP), Webmail): "}},
		{"huh's 0 confirms too", "2\n0\nnext\n", nil, []string{"smtp"}, nil},
		{"invalid answers ask again", "4\nimap\n-1\n\nnext\n", []string{"imap"}, []string{"imap"},
			[]string{"Invalid: type a number from 1 to 3, or nothing to keep this selection"}},
		{"the end of the input keeps it", "", []string{"imap"}, []string{"imap"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs, out := accessible(tc.input)
			var got []string
			if err := fs.Run(context.Background(), huh.NewGroup(fs.MultiSelect("Affected services", choices, tc.selected, &got))); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("selected %q, want %q", got, tc.want)
			}
			for _, s := range tc.shows {
				if !strings.Contains(out.String(), s) {
					t.Errorf("the prompt does not show %q:\n%s", s, out)
				}
			}
			if strings.Contains(out.String(), "Invalid: must be a number") {
				t.Errorf("huh's own prompt ran:\n%s", out)
			}
			if strings.HasSuffix(tc.input, "next\n") {
				next := ""
				if err := fs.Run(context.Background(), huh.NewGroup(huh.NewInput().Title("Next").Value(&next))); err != nil || next != "next" {
					t.Errorf("the next prompt read %q (%v): the picker read ahead", next, err)
				}
			}
		})
	}
}

// TestAccessiblePromptsSayWhatEnterDoes: every accessible prompt of the
// open checklist takes an empty line and says what it does with it.
func TestAccessiblePromptsSayWhatEnterDoes(t *testing.T) {
	cl, err := Load("", "open")
	if err != nil {
		t.Fatal(err)
	}
	h := &fakeHandler{}
	fs, out := accessible("\n\n\n\n\n") // an empty line for each item after the publish step
	if err := Walk(context.Background(), cl, nil, h, fs); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range h.recorded {
		got = append(got, o.Item.ID+"="+o.Outcome)
	}
	want := []string{"inform-customers=published", "escalate=done", "check-monitoring=done", "started-at=skipped", "accounts=skipped", "first-findings=skipped"}
	if !slices.Equal(got, want) {
		t.Errorf("recorded %q, want %q", got, want)
	}
	for _, s := range []string{"Call the on-call colleague (Enter: Done)", "When did the problem begin? (like 09:40, 2026-11-27 09:40 or 25m ago; Enter skips)",
		"Estimate accounts affected (a number; Enter skips)", "Note the first findings (private; Enter skips)"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("no prompt %q in:\n%s", s, out)
		}
	}
	if (Forms{}).Hint("Title", "Enter skips") != "Title" {
		t.Error("the TUI got an accessible hint")
	}
}
