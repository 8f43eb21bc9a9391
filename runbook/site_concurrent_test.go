package runbook

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/incident-cli/incident/publishers/static"
)

// TestConcurrentPublishesKeepEveryUpdate: two responders publish updates on
// two incidents at the same moment, through two runbooks (as two processes
// would: two stores, two static pages, one site folder), 20 rounds. After
// each round index.html, status.json and feed.atom hold both updates: the
// site's lock makes each publish write the shared files from records that
// include the other's update, never from a stale read.
func TestConcurrentPublishesKeepEveryUpdate(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ConfigFile), []byte("organization = \"Example Mail\"\nzones = [\"UTC\"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	state := t.TempDir()
	var books [2]*Runbook
	var ids [2]string
	ctx := context.Background()
	for i := range books {
		rb, err := Open(Location{Dir: dir}, Options{Getenv: func(string) string { return "" }, StateDir: state})
		if err != nil {
			t.Fatal(err)
		}
		books[i] = rb
		res, err := rb.Publish(ctx, "", Draft{Via: "open", Title: fmt.Sprintf("Incident %c", 'A'+i), Services: []string{"imap"},
			Status: Investigating, Message: "Opened."}, PublishOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = res.Incident.ID
	}
	// The worst interleaving, every round: A's page has read the records
	// (computed its site data) and is about to write when B records its
	// update and publishes. A then waits for B's page to take the update
	// (at most a quarter of a second: with the lock, B cannot until A is
	// done). Without the lock B writes first, and A then overwrites the
	// shared files with data that lacks B's update.
	a := books[0].StatusPage.Pub.(*static.Publisher)
	var round int
	computed := make(chan struct{}, 1)
	a.SetSource(func() (*static.SiteData, error) {
		d, err := books[0].SiteData(a)
		computed <- struct{}{}
		deadline := time.Now().Add(250 * time.Millisecond)
		for time.Now().Before(deadline) {
			inc, err := books[1].Store.Load(ids[1])
			if err != nil {
				break
			}
			if u := inc.Updates[len(inc.Updates)-1]; u.Event.Message == msg(round, 1) && u.Deliveries[0].State == Sent {
				break
			}
			time.Sleep(time.Millisecond)
		}
		return d, err
	})
	site := a.Dir()
	for round = 1; round <= 20; round++ {
		var wg sync.WaitGroup
		for i, rb := range books {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if i == 1 {
					<-computed // A has read the records and waits for B's update to be recorded
				}
				res, err := rb.Publish(ctx, ids[i], Draft{Via: "update", Status: Identified, Message: msg(round, i)}, PublishOptions{})
				if err != nil {
					t.Error(err)
				} else if res.Failed() > 0 {
					t.Errorf("round %d: %+v", round, res.Channels)
				}
			}()
		}
		wg.Wait()
		index, _ := os.ReadFile(filepath.Join(site, "index.html"))
		feed, _ := os.ReadFile(filepath.Join(site, "feed.atom"))
		var status static.Site
		b, _ := os.ReadFile(filepath.Join(site, "status.json"))
		if err := json.Unmarshal(b, &status); err != nil {
			t.Fatal(err)
		}
		latest := map[string]string{}
		for _, e := range status.Incidents {
			latest[e.ID] = e.Updates[0].Message
		}
		for i := range books {
			m := msg(round, i)
			if !strings.Contains(string(index), m) || !strings.Contains(string(feed), m) || latest[ids[i]] != m {
				t.Fatalf("round %d: %q missing: index %v, feed %v, status.json has %q", round, m,
					strings.Contains(string(index), m), strings.Contains(string(feed), m), latest[ids[i]])
			}
		}
	}
}

func msg(round, i int) string { return fmt.Sprintf("Round %d, responder %c.", round, 'A'+i) }
