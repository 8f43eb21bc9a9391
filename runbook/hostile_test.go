package runbook

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/incident-cli/incident/publishers"
)

// TestFailedEventIsCapped: a channel's error of 900 KB (a service's HTML
// error page, passed on whole) is recorded cut to publishers.MaxRecorded,
// so the failed event stays small on every retry.
func TestFailedEventIsCapped(t *testing.T) {
	huge := strings.Repeat("<p>Service Unavailable</p>", 900<<10/26)
	social := &fakeChannel{answers: []error{publishers.Permanent(errors.New("post: 503: " + huge))}}
	rb := testRunbook(t, map[string]*fakeChannel{"social": social})
	res := open(t, rb)
	if res.Failed() != 1 {
		t.Fatalf("results %+v: want the social channel failed", res.Channels)
	}
	inc, err := rb.Store.Load(res.Incident.ID)
	if err != nil {
		t.Fatal(err)
	}
	failed := 0
	for _, e := range inc.Events {
		if e.Kind != KindFailed {
			continue
		}
		failed++
		if len(e.Error) > publishers.MaxRecorded+len("…") || !strings.HasPrefix(e.Error, "post: 503: <p>Service") || !strings.HasSuffix(e.Error, "…") {
			t.Errorf("recorded error of %d bytes: %.80q…", len(e.Error), e.Error)
		}
		st, err := os.Stat(filepath.Join(rb.Store.Dir, inc.ID, e.ID+".toml"))
		if err != nil || st.Size() > 2<<10 {
			t.Errorf("the failed event file is %d bytes (%v), want about 1 KiB", st.Size(), err)
		}
	}
	if failed != 1 {
		t.Errorf("%d failed events recorded, want 1", failed)
	}
	if len(res.Channels) < 2 || len(res.Channels[1].Error) > publishers.MaxRecorded+64 {
		t.Errorf("the error shown is not capped either: %d bytes", len(res.Channels[1].Error))
	}
}
