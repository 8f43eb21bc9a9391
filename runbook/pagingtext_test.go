package runbook

import (
	"strings"
	"testing"
	"time"
)

// The RFO timeline shows who was paged, when and by what, and the first
// acknowledgement; the figures gain the time from the first alert to it.
func TestTimelineShowsPages(t *testing.T) {
	g := newPagingRig(t, pagingTOML)
	id := g.alert(t)
	noErrors(t, g.at(t, 0))
	noErrors(t, g.at(t, 5*time.Minute))
	g.po.mu.Lock()
	g.po.acked["r1"] = "alice"
	g.po.mu.Unlock()
	noErrors(t, g.at(t, 6*time.Minute))
	inc, _ := g.rb.Store.Load(id)
	var got []string
	for _, l := range g.rb.Timeline(inc) {
		got = append(got, l.At.In(g.rb.Zones[0]).Format("15:04")+" "+l.Text)
	}
	want := []string{
		"13:03 We opened an incident.",
		"13:03 Paged everyone on ops-irc by IRC; alice by email.",
		"13:08 Paged alice by Pushover.",
		"13:09 Acknowledged by alice (Pushover).",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("timeline:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if f := g.rb.Figures(inc); f.AlertToAck != 6*time.Minute {
		t.Errorf("alert to ack = %s", f.AlertToAck)
	}
}
