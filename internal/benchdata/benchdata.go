// Package benchdata generates a runbook with years of history for the
// benchmarks (bench/scale, bench/site and the runbook's site-build
// benchmark): resolved incidents of several updates each, written through
// the store as the tool writes them, every update delivered to the static
// status page.
package benchdata

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/incident-cli/incident/publishers"
	"github.com/incident-cli/incident/publishers/static"
	"github.com/incident-cli/incident/runbook"
)

// Base is when the first generated incident starts; incident i starts 19
// hours after incident i-1.
var Base = time.Date(2020, 1, 1, 8, 0, 0, 0, time.UTC)

// Runbook makes a runbook in dir (incident init's scaffold, static status
// page) unless one is there, and returns it opened with its state in
// stateDir and now as its clock (time.Now when nil).
func Runbook(dir, stateDir string, now func() time.Time) (*runbook.Runbook, error) {
	if _, err := os.Stat(filepath.Join(dir, runbook.ConfigFile)); err != nil {
		if _, err := runbook.Init(dir, false); err != nil {
			return nil, err
		}
	}
	loc, err := runbook.Find(dir, os.Getenv, dir)
	if err != nil {
		return nil, err
	}
	return runbook.Open(loc, runbook.Options{StateDir: stateDir, Now: now})
}

// Generate writes n resolved incidents of updates updates each into rb's
// store, on several goroutines: per incident an opened event, and per update
// an update event and its delivered event on the status page (1 + 2×updates
// event files). The status page must be the static one.
func Generate(rb *runbook.Runbook, n, updates int) error {
	page, ok := rb.StatusPage.Pub.(*static.Publisher)
	if !ok {
		return fmt.Errorf("benchdata: the runbook's status page is %q; the generator needs the static one", rb.StatusPage.Type)
	}
	work := make(chan int)
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				if err := one(rb, page, i, updates); err != nil {
					once.Do(func() { first = err })
				}
			}
		}()
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	return first
}

// one writes incident i. Each incident gets its own Store, so that the
// store's rule that a process's events never go back in time applies within
// the incident only and every incident keeps its own times.
func one(rb *runbook.Runbook, page *static.Publisher, i, updates int) error {
	_, err := Incident(rb, page, i, updates)
	return err
}

// Incident writes generated incident number i (resolved, of updates
// updates, starting 19 hours after number i-1) and returns its id.
func Incident(rb *runbook.Runbook, page *static.Publisher, i, updates int) (string, error) {
	st := &runbook.Store{Dir: rb.Store.Dir}
	at := Base.Add(time.Duration(i) * 19 * time.Hour)
	title := fmt.Sprintf("IMAP/POP login failures %d", i)
	acc := 100 + i
	id, unlock, err := st.Create(st.NewID(title, at), &runbook.Event{Kind: runbook.KindOpened, At: at, By: "alice", Host: "laptop", Title: title,
		Services: []string{"imap"}, Severity: "major", Accounts: &acc})
	if err != nil {
		return "", err
	}
	unlock()
	statuses := []string{runbook.Investigating, runbook.Identified, runbook.Monitoring}
	url := page.URLFor(id, publishers.KindUpdate)
	for u := range updates {
		status := statuses[min(u, 2)]
		if u == updates-1 {
			status = runbook.Resolved
		}
		t := at.Add(time.Duration(u) * 25 * time.Minute)
		upd := runbook.Event{Kind: runbook.KindUpdate, At: t, By: "alice", Host: "laptop", Status: status,
			Message:  fmt.Sprintf("Update %d: we are working on the IMAP servers; logins may fail for some customers.", u+1),
			Channels: []string{rb.StatusPage.Name}}
		if err := st.Append(id, &upd); err != nil {
			return "", err
		}
		d := runbook.Event{Kind: runbook.KindDelivered, At: t.Add(time.Second), By: "alice", Host: "laptop", Update: upd.ID,
			Channel: rb.StatusPage.Name, Receipt: &publishers.Receipt{ID: "incidents/" + id + ".html", URL: url, At: t.Add(time.Second)}}
		if err := st.Append(id, &d); err != nil {
			return "", err
		}
	}
	return id, nil
}
