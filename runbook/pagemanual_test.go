package runbook

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/incident-cli/incident/pagers"
	"github.com/incident-cli/incident/publishers"
)

// A page by hand goes to a pager, a person, the person on call or a
// level, is recorded (kind manual, with its message) and never repeated
// by the timers; a test page is recorded nowhere.
func TestPageByHand(t *testing.T) {
	g := newPagingRig(t, pagingTOML)
	id := g.alert(t)
	if err := g.rb.Escalation.Policies[0].Levels[0].Targets[0]; err.Pager != "ops-irc" {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, tc := range []struct {
		to, want string
	}{
		{"phones:oncall", "phones:alice"},
		{"2", "phones:alice"},
		{"mail", "mail:"},
		{"1", "ops-irc: mail:alice"},
	} {
		res, err := g.rb.PageByHand(ctx, id, tc.to, "the disk is full")
		if err != nil {
			t.Fatalf("%s: %v", tc.to, err)
		}
		var got []string
		for _, x := range res {
			if x.Error != "" {
				t.Errorf("%s: %s", tc.to, x.Error)
			}
			got = append(got, x.Pager+":"+x.Person)
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("--to %s paged %v, want %s", tc.to, got, tc.want)
		}
	}
	p := g.fakes["phones"].pages[0]
	if p.Kind != pagers.KindManual || p.Urgent || !strings.Contains(p.Text, "responder calls you in: the disk is full") {
		t.Errorf("page: %+v", p)
	}
	for _, bad := range []string{"phone", "phones:carol", "7", ""} {
		_, err := g.rb.PageByHand(ctx, id, bad, "")
		var ue *UsageError
		if !errors.As(err, &ue) {
			t.Errorf("--to %q: %v, want a usage error", bad, err)
		}
	}
	g.fakes["sms"].answers = []error{publishers.Permanent(errors.New("twilio: 21211 invalid number"))}
	res, err := g.rb.PageByHand(ctx, id, "sms:lead", "")
	if err != nil || len(res) != 1 || !strings.Contains(res[0].Error, "21211") {
		t.Fatalf("failing page by hand: %+v %v", res, err)
	}
	inc, _ := g.rb.Store.Load(id)
	manual := 0
	for _, p := range inc.Pages {
		if p.Kind == PageManual {
			manual++
		}
	}
	if manual != 6 {
		t.Errorf("%d manual pages recorded", manual)
	}
	before := g.counts()
	if _, err := g.rb.TestPage(ctx, "phones:bob", "drill"); err != nil {
		t.Fatal(err)
	}
	tp := g.fakes["phones"].pages[len(g.fakes["phones"].pages)-1]
	if tp.Kind != pagers.KindTest || tp.Person != "bob" || !strings.HasPrefix(tp.Subject, "[TEST]") {
		t.Errorf("test page: %+v", tp)
	}
	if inc2, _ := g.rb.Store.Load(id); len(inc2.Pages) != len(inc.Pages) {
		t.Errorf("the test page was recorded")
	}
	if before == g.counts() {
		t.Errorf("no test page went out")
	}
	// The ladder ran on independently: level 1 and no repeat of the manual pages.
	noErrors(t, g.at(t, 0))
	noErrors(t, g.at(t, 10*time.Minute))
	if got := g.fakes["sms"].sent(); len(got) != 0 {
		t.Errorf("sms: %v", got)
	}
}
