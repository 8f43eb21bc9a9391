package runbook

import (
	"runtime"
	"sync"

	"github.com/incident-cli/incident/publishers/static"
)

// BuildSite renders the whole static status page from every incident's
// record, on every core. It returns the number of incident pages written.
func (r *Runbook) BuildSite(s *static.Publisher) (int, error) {
	ids, err := r.Store.IDs()
	if err != nil {
		return 0, err
	}
	b, err := s.NewBuilder()
	if err != nil {
		return 0, err
	}
	work := make(chan string)
	var (
		wg      sync.WaitGroup
		once    sync.Once
		failure error
	)
	fail := func(err error) { once.Do(func() { failure = err }) }
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range work {
				pg, ok, err := r.page(id)
				if err == nil && ok {
					err = b.Add(pg)
				}
				if err != nil {
					fail(err)
				}
			}
		}()
	}
	for _, id := range ids {
		work <- id
	}
	close(work)
	wg.Wait()
	if failure != nil {
		b.Abort()
		return 0, failure
	}
	return b.Pages(), b.Finish()
}

// page renders one incident's status post (and RFO) for the static site.
func (r *Runbook) page(id string) (static.Page, bool, error) {
	inc, err := r.Store.Load(id)
	if err != nil {
		return static.Page{}, false, err
	}
	ups := inc.PublicUpdates()
	if len(ups) == 0 {
		return static.Page{}, false, nil
	}
	rfoURL := ""
	var rfo *static.Page
	if u := lastRFO(inc); u != nil {
		x, err := r.renderRFOStatus(upto(inc, u), u)
		if err != nil {
			return static.Page{}, false, err
		}
		rfo = &static.Page{Title: x.Title, HTML: x.HTML}
		rfoURL = r.rfoURL(inc)
	}
	x, err := r.renderStatus(inc, ups[len(ups)-1], rfoURL)
	if err != nil {
		return static.Page{}, false, err
	}
	return static.Page{Incident: r.postIncident(inc), Title: x.Title, HTML: x.HTML, RFO: rfo}, true, nil
}

func lastRFO(inc *Incident) *Update {
	var last *Update
	for _, u := range inc.Updates {
		if u.RFO {
			last = u
		}
	}
	return last
}
