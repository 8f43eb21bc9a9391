package checklists

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

// fakeHandler records what the walk asked and recorded.
type fakeHandler struct {
	published []string
	recorded  []Outcome
	failOn    string // item id whose Record fails (an interrupted walk)
}

func (h *fakeHandler) Publish(ctx context.Context, it Item) (string, error) {
	h.published = append(h.published, it.ID)
	return "update #1", nil
}

func (h *fakeHandler) Record(ctx context.Context, o Outcome) error {
	if o.Item.ID == h.failOn {
		return ErrAborted
	}
	h.recorded = append(h.recorded, o)
	return nil
}

func (h *fakeHandler) Field(field string) (string, []Choice, func(string) error) {
	if field == "severity" {
		return "", []Choice{{"minor", "minor"}, {"major", "major"}, {"critical", "critical"}}, nil
	}
	return "", nil, nil
}

// accessible feeds the walk one byte at a time: huh's accessible prompts
// each read through their own scanner, which would otherwise swallow the
// lines meant for the next prompt.
func accessible(input string) (Forms, *strings.Builder) {
	var out strings.Builder
	return Forms{In: iotest.OneByteReader(strings.NewReader(input)), Out: &out, Accessible: true}, &out
}

func TestWalkOpenInformsCustomersFirst(t *testing.T) {
	cl, err := Load("", "open")
	if err != nil {
		t.Fatal(err)
	}
	if cl.Items[0].Action != Publish || cl.Items[0].Title != "Inform customers" {
		t.Fatalf("first item = %+v", cl.Items[0])
	}
	h := &fakeHandler{}
	// escalate: 1 (Done); monitoring: 2 (Skip) + reason; started-at: empty;
	// accounts: 1200; note: text.
	fs, out := accessible("1\n2\nno access to grafana\n\n1200\nimap1 load 40\n")
	if err := Walk(context.Background(), cl, nil, h, fs); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(h.published, []string{"inform-customers"}) {
		t.Errorf("published %v", h.published)
	}
	var got []string
	for _, o := range h.recorded {
		got = append(got, o.Item.ID+"="+o.Outcome+":"+o.Value+o.Text)
	}
	want := []string{"inform-customers=published:update #1", "escalate=done:", "check-monitoring=skipped:no access to grafana",
		"started-at=skipped:", "accounts=entered:1200", "first-findings=noted:imap1 load 40"}
	if !slices.Equal(got, want) {
		t.Errorf("recorded\n %q\nwant\n %q", got, want)
	}
	if i := strings.Index(out.String(), "Step 1 of 6: Inform customers"); i < 0 || i > strings.Index(out.String(), "Step 2 of 6") {
		t.Errorf("step 1 not shown first:\n%s", out)
	}
}

func TestWalkResumesAtFirstUnfinishedItem(t *testing.T) {
	cl, _ := Load("", "open")
	// The first walk is interrupted while recording the accounts step.
	h := &fakeHandler{failOn: "accounts"}
	fs, _ := accessible("1\n1\n\n300\n")
	err := Walk(context.Background(), cl, nil, h, fs)
	if !errors.Is(err, ErrAborted) {
		t.Fatalf("err = %v", err)
	}
	done := map[string]bool{}
	for _, o := range h.recorded {
		done[o.Item.ID] = true
	}
	// Run again: only the unfinished items are asked.
	h2 := &fakeHandler{}
	fs, out := accessible("300\nfound it\n")
	if err := Walk(context.Background(), cl, done, h2, fs); err != nil {
		t.Fatal(err)
	}
	if len(h2.published) != 0 {
		t.Errorf("published again on resume: %v", h2.published)
	}
	if strings.Contains(out.String(), "Step 1 of 6") || !strings.Contains(out.String(), "Step 5 of 6") {
		t.Errorf("resume did not start at step 5:\n%s", out)
	}
	if len(h2.recorded) != 2 || h2.recorded[0].Value != "300" {
		t.Errorf("recorded %+v", h2.recorded)
	}
}

func TestWalkEOFKeepsDefaults(t *testing.T) {
	cl, _ := Load("", "update")
	h := &fakeHandler{}
	fs, _ := accessible("")
	if err := Walk(context.Background(), cl, nil, h, fs); err != nil {
		t.Fatal(err)
	}
	if len(h.recorded) != len(cl.Items) {
		t.Errorf("recorded %d of %d", len(h.recorded), len(cl.Items))
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		phase, src, want string
	}{
		{"open", "[[item]]\nid='a'\ntitle='A'\naction='confirm'\n[[item]]\nid='b'\ntitle='B'\naction='publish'\n", "must be a publish item"},
		{"update", "[[item]]\nid='a'\ntitle='A'\naction='dance'\n", "unknown action"},
		{"update", "[[item]]\nid='a'\ntitle='A'\naction='input'\nfield='mood'\n", "input needs field"},
		{"update", "[[item]]\nid='a'\ntitle='A'\naction='publish'\n[[item]]\nid='a'\ntitle='B'\naction='note'\n", "used twice"},
		{"update", "[[item]]\nid='a'\ntitle='A'\naction='publish'\ntitel='x'\n", "unknown key"},
		{"close", "[[item]]\nid='a'\ntitle='A'\naction='note'\n", "no publish item"},
	}
	for _, tt := range tests {
		dir := t.TempDir()
		writeFile(t, dir+"/"+tt.phase+".toml", tt.src)
		_, err := Load(dir, tt.phase)
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), dir) {
			t.Errorf("%s: err = %v, want %q naming the file", tt.phase, err, tt.want)
		}
	}
	for _, p := range Phases {
		if _, err := Load("", p); err != nil {
			t.Errorf("default %s: %v", p, err)
		}
	}
}

var _ io.Reader = iotest.OneByteReader(nil)

// pagingHandler is a fakeHandler that can page: the first page fails
// when fail is set.
type pagingHandler struct {
	fakeHandler
	paged []string
	fail  bool
}

func (h *pagingHandler) PageTargets(it Item) []Choice {
	return []Choice{{"phones:oncall (alice, on call now)", "phones:oncall"}, {"ops-irc", "ops-irc"}}
}

func (h *pagingHandler) Page(ctx context.Context, it Item, target, message string) (string, error) {
	if h.fail {
		h.fail = false
		return "", errors.New("phones: pushover: 500 Internal Server Error")
	}
	h.paged = append(h.paged, target+"|"+message)
	return target, nil
}

// The open checklist's page step pages through the handler, accessible
// line by line: Enter pages the first choice; a failed page offers the
// choice again; "done" records that they were reached another way; without
// pagers it is asked like a confirm.
func TestWalkPageStep(t *testing.T) {
	cl, _ := Load("", "open")
	escalate := &Checklist{Phase: "update", Source: "test", Items: []Item{cl.Items[1]}}
	if escalate.Items[0].Action != Page {
		t.Fatalf("the open checklist's escalate step is %q", escalate.Items[0].Action)
	}
	cases := []struct {
		name, input string
		fail        bool
		want        string // outcome:value:text
		paged       []string
	}{
		{"enter pages the first", "\njoin the call\n", false, "paged:phones:oncall:join the call", []string{"phones:oncall|join the call"}},
		{"second choice", "2\n\n", false, "paged:ops-irc:", []string{"ops-irc|"}},
		{"failed then another", "1\nhelp\n2\nhelp\n", true, "paged:ops-irc:help", []string{"ops-irc|help"}},
		{"done another way", "3\n", false, "done::", nil},
		{"skip", "4\nbob is here already\n", false, "skipped::bob is here already", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := &pagingHandler{fail: tc.fail}
			fs, out := accessible(tc.input)
			if err := Walk(context.Background(), escalate, nil, h, fs); err != nil {
				t.Fatal(err)
			}
			o := h.recorded[0]
			if got := o.Outcome + ":" + o.Value + ":" + o.Text; got != tc.want {
				t.Errorf("recorded %q, want %q\n%s", got, tc.want, out)
			}
			if !slices.Equal(h.paged, tc.paged) {
				t.Errorf("paged %q, want %q", h.paged, tc.paged)
			}
			if tc.fail && !strings.Contains(out.String(), "paging failed: phones: pushover: 500") {
				t.Errorf("the failure was not shown:\n%s", out)
			}
		})
	}
	h := &fakeHandler{}
	fs, _ := accessible("1\n")
	if err := Walk(context.Background(), escalate, nil, h, fs); err != nil || h.recorded[0].Outcome != "done" {
		t.Errorf("without pagers: %v %+v", err, h.recorded)
	}
}
