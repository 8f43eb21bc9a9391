package runbook

import (
	"runtime"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/incident-cli/incident/publishers"
	"github.com/incident-cli/incident/publishers/static"
)

// connectSite gives the static status page its source of site data: it is
// called under the site's lock at every publish and at the end of a full
// build, so what the shared pages show always comes from the records.
func (r *Runbook) connectSite() {
	if s, ok := r.StatusPage.Pub.(*static.Publisher); ok {
		s.SetSource(func() (*static.SiteData, error) { return r.SiteData(s) })
	}
}

// SiteData computes what the static page's shared files show, from the
// incidents' summaries (the services' timelines, every incident's title and
// dates) and, one incident at a time, the full record of only those shown
// with their updates: the open ones, the static.History most recent, those
// of the last static.PastDays days, and those holding the newest
// static.FeedEntries updates of each feed. Private incidents (no public
// update) are left out.
func (r *Runbook) SiteData(s *static.Publisher) (*static.SiteData, error) {
	return r.siteData(s, nil, r.Store)
}

// siteData is SiteData with summaries the caller has just computed from the
// records (a site build's), which the summary cache takes while their
// folders' stamps hold, and the records of the incidents shown with their
// updates read through st (a full build's has no cache: it would write a
// cache file for each, read only by the next build).
func (r *Runbook) siteData(s *static.Publisher, fresh map[string]cachedSummary, st *Store) (*static.SiteData, error) {
	sums, err := r.summaries(fresh)
	if err != nil {
		// A damaged record elsewhere (list and show report it) must not
		// stop this update from reaching the page: read what can be read.
		sums = r.readableSummaries()
	}
	now := pageNow(r.Now(), sums)
	d := &static.SiteData{Now: now, Zone: r.Zones[0], Services: r.Timelines(sums, now), Subscribe: r.subscribeAddress()}
	var public []Summary
	for _, sm := range sums {
		if sm.Updates > 0 {
			public = append(public, sm)
		}
	}
	sort.SliceStable(public, func(i, j int) bool {
		if !public[i].StartedAt.Equal(public[j].StartedAt) {
			return public[i].StartedAt.After(public[j].StartedAt)
		}
		return public[i].ID > public[j].ID
	})
	entry := func(sm Summary) (*static.Entry, error) {
		inc, err := st.Load(sm.ID)
		if err != nil {
			return nil, nil // removed, or damaged, since the summaries were read: shown without its updates
		}
		e := static.EntryOf(r.postIncident(inc), s.URLFor(sm.ID, publishers.KindUpdate))
		return &e, nil
	}
	past := now.Add(-time.Duration(static.PastDays+1) * 24 * time.Hour)
	resolved := 0
	var shown []Summary
	for _, sm := range public {
		show := sm.Open() || sm.StartedAt.After(past)
		if !sm.Open() && resolved < static.History {
			show = true
			resolved++
		}
		if show {
			shown = append(shown, sm)
		}
	}
	loaded, err := loadEntries(shown, entry)
	if err != nil {
		return nil, err
	}
	load := func(sm Summary) (*static.Entry, error) {
		if e, ok := loaded[sm.ID]; ok {
			return e, nil
		}
		e, err := entry(sm)
		if e != nil {
			loaded[sm.ID] = e
		}
		return e, err
	}
	if err := feedIncidents(public, "", load); err != nil {
		return nil, err
	}
	for _, tl := range d.Services {
		if err := feedIncidents(public, tl.ID, load); err != nil {
			return nil, err
		}
	}
	for _, sm := range public {
		e, ok := loaded[sm.ID]
		if !ok {
			x := r.summaryEntry(sm, s.URLFor(sm.ID, publishers.KindUpdate))
			e = &x
		}
		if sm.HasRFO {
			e.RFOURL = s.URLFor(sm.ID, publishers.KindRFO)
		}
		d.Incidents = append(d.Incidents, *e)
	}
	return d, nil
}

// loadEntries loads the incidents' entries on every core.
func loadEntries(sums []Summary, entry func(Summary) (*static.Entry, error)) (map[string]*static.Entry, error) {
	entries := make([]*static.Entry, len(sums))
	errs := make([]error, len(sums))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), max(len(sums), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				entries[i], errs[i] = entry(sums[i])
			}
		}()
	}
	for i := range sums {
		next <- i
	}
	close(next)
	wg.Wait()
	out := make(map[string]*static.Entry, len(sums))
	for i, sm := range sums {
		if errs[i] != nil {
			return nil, errs[i]
		}
		if entries[i] != nil {
			out[sm.ID] = entries[i]
		}
	}
	return out, nil
}

// feedIncidents loads the incidents holding the newest static.FeedEntries
// updates of the incidents affecting service ("" for all): in order of
// their last update, until the next one's last update is older than the
// feed's oldest entry.
func feedIncidents(public []Summary, service string, load func(Summary) (*static.Entry, error)) error {
	var order []Summary
	for _, sm := range public {
		if service == "" || slices.Contains(sm.Services, service) {
			order = append(order, sm)
		}
	}
	sort.SliceStable(order, func(i, j int) bool { return order[i].LastPublic.After(order[j].LastPublic) })
	var times []time.Time // the newest update times seen, newest first
	for _, sm := range order {
		if len(times) >= static.FeedEntries && sm.LastPublic.Before(times[static.FeedEntries-1]) {
			break
		}
		e, err := load(sm)
		if err != nil || e == nil {
			if err != nil {
				return err
			}
			continue
		}
		for _, u := range e.Updates {
			times = append(times, u.At)
		}
		sort.Slice(times, func(i, j int) bool { return times[i].After(times[j]) })
		times = times[:min(len(times), static.FeedEntries)]
	}
	return nil
}

// summaryEntry is an incident shown without its updates (in the history).
func (r *Runbook) summaryEntry(sm Summary, url string) static.Entry {
	e := static.Entry{ID: sm.ID, Title: sm.Title, Status: sm.Status, Severity: sm.Severity, Accounts: sm.Accounts,
		StartedAt: sm.StartedAt, OpenedAt: sm.OpenedAt, LastUpdate: sm.LastPublic, URL: url, Services: []publishers.Service{}}
	for _, id := range sm.Services {
		e.Services = append(e.Services, publishers.Service{ID: id, Name: r.ServiceName(id)})
	}
	if !sm.ResolvedAt.IsZero() {
		t := sm.ResolvedAt
		e.ResolvedAt = &t
	}
	return e
}

// readableSummaries summarizes every incident that can be read, leaving
// out those whose record is damaged.
func (r *Runbook) readableSummaries() []Summary {
	ids, _ := r.Store.IDs()
	var out []Summary
	for _, id := range ids {
		if inc, err := r.Store.Load(id); err == nil {
			out = append(out, Summarize(inc))
		}
	}
	return out
}

// subscribeAddress is where the page says people can subscribe by email:
// the first link channel that offers it.
func (r *Runbook) subscribeAddress() string {
	for _, ch := range r.Links {
		if s, ok := ch.Pub.(publishers.Subscriber); ok {
			if a := s.Subscribe(); a != "" {
				return a
			}
		}
	}
	return ""
}

// pageNow is the time the page shows the state at: the clock's, but never
// before a change on record. An event is stamped after the newest event it
// saw (the log follows causality), so on a machine whose clock is behind
// another's, or when the clock has not moved since, the update being
// published can be a moment "in the future": the page must show it.
func pageNow(now time.Time, sums []Summary) time.Time {
	for _, s := range sums {
		for _, t := range []time.Time{s.LastPublic, s.StatusSince, s.ResolvedAt} {
			if t.After(now) {
				now = t
			}
		}
		for _, sp := range s.Spans {
			if sp.From.After(now) {
				now = sp.From
			}
			if sp.To.After(now) && sp.To.Before(s.LastPublic.Add(time.Second)) {
				now = sp.To
			}
		}
	}
	return now
}
