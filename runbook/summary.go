package runbook

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"sync"
	"time"
)

// Summary is what list and status need of an incident.
type Summary struct {
	ID          string    `json:"id"`
	Title       string    `json:"title"`
	Status      string    `json:"status"`
	Severity    string    `json:"severity,omitempty"`
	Services    []string  `json:"services"`
	Accounts    int       `json:"accounts,omitempty"`
	StartedAt   time.Time `json:"started_at"`
	OpenedAt    time.Time `json:"opened_at"`
	ResolvedAt  time.Time `json:"resolved_at,omitzero"`
	LastPublic  time.Time `json:"last_public_update,omitzero"`
	Updates     int       `json:"updates"`
	Undelivered int       `json:"undelivered"`
	HasRFO      bool      `json:"rfo"`

	// Alerting (incidents an alert opened, and every incident alerts joined).
	Alerts      []string  `json:"alerts,omitempty"` // source/key of each alert
	Firing      int       `json:"firing,omitempty"` // alerts still firing
	FromAlert   bool      `json:"from_alert,omitempty"`
	AlertLabel  string    `json:"first_alert,omitempty"`   // "nodeping: IMAP check"
	AlertingAt  time.Time `json:"alerting_since,omitzero"` // when the first alert fired
	RecoveredAt time.Time `json:"alerts_recovered_at,omitzero"`
	AckedAt     time.Time `json:"acked_at,omitzero"`
	AckedBy     string    `json:"acked_by,omitempty"`
	AutoPostAt  time.Time `json:"auto_post_at,omitzero"` // when the automatic first update is due
	Private     bool      `json:"private,omitempty"`     // nothing published yet

	// Paging: until when stand-down pages and cancels may still be due
	// (the timers look at a closed incident until then), and the pagers
	// whose last page failed.
	PagingUntil  time.Time `json:"paging_until,omitzero"`
	PagersFailed []string  `json:"pagers_failed,omitempty"` // "phones: pushover: send to alice: ... (3 attempts)"
}

// Open reports whether the incident is neither resolved nor dismissed.
func (s Summary) Open() bool { return s.Status != Resolved && s.Status != Dismissed }

// Incident returns a minimal incident for cadence checks.
func (s Summary) Incident() *Incident {
	inc := &Incident{ID: s.ID, Status: s.Status, StartedAt: s.StartedAt, OpenedAt: s.OpenedAt}
	if !s.LastPublic.IsZero() {
		inc.Updates = []*Update{{Event: Event{At: s.LastPublic}, Number: s.Updates}}
	}
	return inc
}

// Summarize computes an incident's summary.
func Summarize(inc *Incident) Summary {
	s := Summary{ID: inc.ID, Title: inc.Title, Status: inc.Status, Severity: inc.Severity, Services: inc.Services,
		Accounts: inc.Accounts, StartedAt: inc.StartedAt, OpenedAt: inc.OpenedAt, ResolvedAt: inc.ResolvedAt,
		LastPublic: inc.LastPublic(), Updates: len(inc.PublicUpdates()), Undelivered: inc.Undelivered(),
		HasRFO:    len(inc.Updates) > len(inc.PublicUpdates()),
		FromAlert: inc.FromAlert, Firing: len(inc.Firing()), RecoveredAt: inc.RecoveredAt(), AckedAt: inc.AckedAt, AckedBy: inc.AckedBy,
		Private: inc.Private()}
	for _, a := range inc.Alerts {
		s.Alerts = append(s.Alerts, a.ID())
	}
	if a := inc.FirstAlert(); a != nil {
		s.AlertLabel, s.AlertingAt = a.Label(), a.FiredAt
	}
	if at, ok := inc.AutoPostAt(); ok {
		s.AutoPostAt = at
	}
	s.PagingUntil, s.PagersFailed = pagingSummary(inc)
	return s
}

// cacheStamp is the stamp a cache entry computed at start may carry: the
// folder's stamp (see folderStamp), or 0 (never valid) when its times are so
// recent that another event could still be added within the same clock tick
// without changing them (file times come from a coarse clock).
func cacheStamp(stamp int64, newest, start time.Time) int64 {
	if start.Sub(newest) < 2*time.Second {
		return 0
	}
	return stamp
}

// summaryCache is a rebuildable cache of summaries, kept in the user's state
// directory, never in the runbook: an entry is valid while its incident
// folder's stamp is unchanged (adding an event file changes it, and so does
// a restore that keeps the old modification time).
type summaryCache struct {
	Version int                      `json:"version"`
	Entries map[string]cachedSummary `json:"entries"`
}

type cachedSummary struct {
	Stamp   int64   `json:"stamp"`
	Summary Summary `json:"summary"`
}

const summaryCacheVersion = 6

// Summaries returns every incident's summary, newest first, reading only the
// incidents that changed since the cache was written.
func (r *Runbook) Summaries() ([]Summary, error) {
	ids, err := r.Store.IDs()
	if err != nil {
		return nil, err
	}
	path := filepath.Join(r.StateDir, "summaries.json")
	var cache summaryCache
	if b, err := os.ReadFile(path); err == nil {
		_ = json.Unmarshal(b, &cache)
	}
	if cache.Version != summaryCacheVersion || cache.Entries == nil {
		cache = summaryCache{Version: summaryCacheVersion, Entries: map[string]cachedSummary{}}
	}
	changed := len(cache.Entries) != len(ids)
	start := time.Now()
	out := make([]Summary, 0, len(ids))
	type miss struct {
		id     string
		stamp  int64
		newest time.Time
	}
	var misses []miss
	for _, id := range ids {
		st, err := os.Stat(filepath.Join(r.Store.Dir, id))
		if err != nil {
			continue
		}
		stamp, newest := folderStamp(st)
		if c, ok := cache.Entries[id]; ok && c.Stamp == stamp {
			out = append(out, c.Summary)
			continue
		}
		misses = append(misses, miss{id, stamp, newest})
	}
	// Incidents not in the cache are read on every core.
	loaded := make([]Summary, len(misses))
	errs := make([]error, len(misses))
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(runtime.GOMAXPROCS(0), max(len(misses), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				inc, err := r.Store.Load(misses[i].id)
				if errors.Is(err, ErrUnknownIncident) {
					loaded[i].ID = "" // an empty folder: not an incident
					continue
				}
				if err != nil {
					errs[i] = err
					continue
				}
				loaded[i] = Summarize(inc)
			}
		}()
	}
	for i := range misses {
		next <- i
	}
	close(next)
	wg.Wait()
	for i, m := range misses {
		if errs[i] != nil {
			return nil, errs[i]
		}
		if loaded[i].ID == "" {
			continue
		}
		cache.Entries[m.id] = cachedSummary{Stamp: cacheStamp(m.stamp, m.newest, start), Summary: loaded[i]}
		changed = true
		out = append(out, loaded[i])
	}
	if changed {
		for id := range cache.Entries {
			if !r.Store.Exists(id) {
				delete(cache.Entries, id)
			}
		}
		if b, err := json.Marshal(cache); err == nil && os.MkdirAll(r.StateDir, 0o700) == nil {
			_ = writeCache(r.StateDir, "summaries.json", b)
		}
	}
	r.writeOpenIndex(ids, cache)
	sort.Slice(out, func(i, j int) bool {
		if !out[i].OpenedAt.Equal(out[j].OpenedAt) {
			return out[i].OpenedAt.After(out[j].OpenedAt)
		}
		return out[i].ID > out[j].ID
	})
	return out, nil
}

// openIndex is a small second cache for the commands that run every minute
// (status) or only need open incidents: every incident's stamp, in id
// order, and the open incidents' summaries.
type openIndex struct {
	Version int       `json:"version"`
	IDs     []string  `json:"ids"`
	Stamps  []int64   `json:"stamps"`
	Open    []Summary `json:"open"`
}

func (r *Runbook) writeOpenIndex(ids []string, cache summaryCache) {
	idx := openIndex{Version: summaryCacheVersion, IDs: ids, Stamps: make([]int64, len(ids)), Open: []Summary{}}
	for i, id := range ids {
		c := cache.Entries[id]
		idx.Stamps[i] = c.Stamp
		if c.Summary.Open() {
			idx.Open = append(idx.Open, c.Summary)
		}
	}
	if b, err := json.Marshal(idx); err == nil && os.MkdirAll(r.StateDir, 0o700) == nil {
		_ = writeCache(r.StateDir, "open.json", b)
	}
}

// OpenSummaries returns the open incidents' summaries, newest first. While
// no incident changed since the index was written it reads one small file
// and stats each incident folder; otherwise it falls back to Summaries.
func (r *Runbook) OpenSummaries() ([]Summary, error) {
	ids, err := r.Store.IDs()
	if err != nil {
		return nil, err
	}
	var idx openIndex
	if b, err := os.ReadFile(filepath.Join(r.StateDir, "open.json")); err == nil && json.Unmarshal(b, &idx) == nil &&
		idx.Version == summaryCacheVersion && slices.Equal(idx.IDs, ids) {
		fresh := true
		for i, id := range ids {
			st, err := os.Stat(filepath.Join(r.Store.Dir, id))
			if err != nil || idx.Stamps[i] == 0 {
				fresh = false
				break
			}
			if stamp, _ := folderStamp(st); stamp != idx.Stamps[i] {
				fresh = false
				break
			}
		}
		if fresh {
			return idx.Open, nil
		}
	}
	all, err := r.Summaries()
	if err != nil {
		return nil, err
	}
	var open []Summary
	for _, s := range all {
		if s.Open() {
			open = append(open, s)
		}
	}
	return open, nil
}
