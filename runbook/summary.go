package runbook

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
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
	StatusSince time.Time `json:"status_since,omitzero"` // the first public update of the current status
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
	Spans       []Span    `json:"spans,omitempty"`       // the services' states over time, for the status page's timelines

	// Maintenance is set for a scheduled maintenance window.
	Maintenance *MaintenanceSummary `json:"maintenance,omitempty"`

	// Paging: until when stand-down pages and cancels may still be due
	// (the timers look at a closed incident until then), and the pagers
	// whose last page failed.
	PagingUntil  time.Time `json:"paging_until,omitzero"`
	PagersFailed []string  `json:"pagers_failed,omitempty"` // "phones: pushover: send to alice: ... (3 attempts)"
}

// Open reports whether the incident is neither resolved nor dismissed (nor,
// for a maintenance window, completed or cancelled).
func (s Summary) Open() bool { return !closedStatus(s.Status) && s.Status != Dismissed }

// Incident returns a minimal incident for cadence checks.
func (s Summary) Incident() *Incident {
	inc := &Incident{ID: s.ID, Status: s.Status, StartedAt: s.StartedAt, OpenedAt: s.OpenedAt}
	if m := s.Maintenance; m != nil {
		inc.Maintenance = &Maintenance{Start: m.Start, End: m.End, Phase: m.Phase}
	}
	if !s.LastPublic.IsZero() {
		inc.Updates = []*Update{{Event: Event{At: s.LastPublic}, Number: s.Updates}}
	}
	return inc
}

// Summarize computes an incident's summary.
func Summarize(inc *Incident) Summary {
	s := Summary{ID: inc.ID, Title: inc.Title, Status: inc.Status, Severity: inc.Severity, Services: inc.Services,
		Accounts: inc.Accounts, StartedAt: inc.StartedAt, OpenedAt: inc.OpenedAt, ResolvedAt: inc.ResolvedAt,
		LastPublic: inc.LastPublic(), StatusSince: inc.StatusSince(), Updates: len(inc.PublicUpdates()), Undelivered: inc.Undelivered(),
		HasRFO: len(inc.Updates) > len(inc.PublicUpdates()), Spans: Spans(inc),
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
	if m := inc.Maintenance; m != nil {
		s.Maintenance = &MaintenanceSummary{Start: m.Start, End: m.End, Phase: m.Phase, RemindedAt: m.RemindedAt}
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

const summaryCacheVersion = 10 // 5: alerts, 6: spans, 7: status_since, 8: the open index of incidents folders, 9: maintenance, 10: paging

// Summaries returns every incident's summary, newest first, reading only the
// incidents that changed since the cache was written.
func (r *Runbook) Summaries() ([]Summary, error) { return r.summaries(nil) }

// summaries is Summaries with fresh entries for the cache, computed by the
// caller from records it read (a site build reads every changed one): each
// holds while its folder's stamp does, like any cache entry.
func (r *Runbook) summaries(fresh map[string]cachedSummary) ([]Summary, error) {
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
	for id, c := range fresh {
		if old, ok := cache.Entries[id]; c.Stamp != 0 && (!ok || old.Stamp != c.Stamp) {
			cache.Entries[id] = c
			changed = true
		}
	}
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
	r.writeOpenIndex(cache, start)
	sort.Slice(out, func(i, j int) bool {
		if !out[i].OpenedAt.Equal(out[j].OpenedAt) {
			return out[i].OpenedAt.After(out[j].OpenedAt)
		}
		return out[i].ID > out[j].ID
	})
	return out, nil
}

// openIndex is a small second cache for the commands that run every minute
// (status) or only need open incidents: the open incidents' summaries, and
// what tells whether it still holds. It is read without looking at the
// other incidents: an incident's folder changes only when an event file
// arrives, and a resolved incident changes what status shows only by
// becoming open again, which a new event file in it does. So the index
// holds while
//   - the incidents/ folder has the same modification time (no incident
//     added or removed),
//   - each open incident's folder has (no event added to it),
//   - the git index has, when the runbook is in a git work tree (no pull,
//     merge or checkout brought event files in),
//   - and this machine wrote no event since (Store.Append removes it).
//
// An event file put into a resolved incident's folder by hand, outside
// git and the tool, shows after the next of those changes, or at once in
// `incident list --all`, which checks every folder.
type openIndex struct {
	Version int       `json:"version"`
	Dir     int64     `json:"dir"`    // incidents/ folder's stamp (see cacheStamp)
	Git     int64     `json:"git"`    // the git index's stamp; 0 outside git
	Open    []Summary `json:"open"`   // the open incidents
	Stamps  []int64   `json:"stamps"` // their folders' stamps, in the order of Open
}

// openIndexFile is the index's name in the state directory.
const openIndexFile = "open.json"

func (r *Runbook) writeOpenIndex(cache summaryCache, start time.Time) {
	st, err := os.Stat(r.Store.Dir)
	if err != nil {
		return
	}
	ds, dn := folderStamp(st)
	idx := openIndex{Version: summaryCacheVersion, Dir: cacheStamp(ds, dn, start), Git: gitStamp(r.Dir, start), Open: []Summary{}}
	if idx.Dir == 0 {
		return // the folder changed just now: the index could not tell a change within the same clock tick
	}
	ids := make([]string, 0, len(cache.Entries))
	for id, c := range cache.Entries {
		if c.Summary.Open() {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	for _, id := range ids {
		c := cache.Entries[id]
		idx.Open = append(idx.Open, c.Summary)
		idx.Stamps = append(idx.Stamps, c.Stamp)
	}
	if b, err := json.Marshal(idx); err == nil && os.MkdirAll(r.StateDir, 0o700) == nil {
		_ = writeCache(r.StateDir, openIndexFile, b)
	}
}

// OpenSummaries returns the open incidents' summaries, newest first. While
// the open index holds (see openIndex) it reads that one small file and
// stats the incidents folder, the git index and each open incident's
// folder; otherwise it falls back to Summaries, which writes the index.
func (r *Runbook) OpenSummaries() ([]Summary, error) {
	if open, ok := r.readOpenIndex(); ok {
		return open, nil
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

func (r *Runbook) readOpenIndex() ([]Summary, bool) {
	var idx openIndex
	b, err := os.ReadFile(filepath.Join(r.StateDir, openIndexFile))
	if err != nil || json.Unmarshal(b, &idx) != nil || idx.Version != summaryCacheVersion || len(idx.Stamps) != len(idx.Open) || idx.Dir == 0 {
		return nil, false
	}
	st, err := os.Stat(r.Store.Dir)
	if err != nil || gitStamp(r.Dir, time.Time{}) != idx.Git {
		return nil, false
	}
	if stamp, _ := folderStamp(st); stamp != idx.Dir {
		return nil, false
	}
	for i, s := range idx.Open {
		st, err := os.Stat(filepath.Join(r.Store.Dir, s.ID))
		if err != nil || idx.Stamps[i] == 0 {
			return nil, false
		}
		if stamp, _ := folderStamp(st); stamp != idx.Stamps[i] {
			return nil, false
		}
	}
	sort.Slice(idx.Open, func(i, j int) bool {
		if !idx.Open[i].OpenedAt.Equal(idx.Open[j].OpenedAt) {
			return idx.Open[i].OpenedAt.After(idx.Open[j].OpenedAt)
		}
		return idx.Open[i].ID > idx.Open[j].ID
	})
	return idx.Open, true
}

// dropOpenIndex removes the open index: this process wrote an event, which
// may reopen a resolved incident (see openIndex).
func (s *Store) dropOpenIndex() {
	if s.CacheDir != "" {
		_ = os.Remove(filepath.Join(s.CacheDir, openIndexFile))
	}
}

// gitStamp is the stamp of the git index of the work tree holding dir:
// git rewrites it whenever a pull, merge or checkout changes the work tree.
// 0 outside a work tree; -1 when its time is too recent to trust (see
// cacheStamp; start zero: when reading, the time as it is).
func gitStamp(dir string, start time.Time) int64 {
	for d := dir; ; {
		dotgit := filepath.Join(d, ".git")
		if fi, err := os.Stat(dotgit); err == nil {
			index := filepath.Join(dotgit, "index")
			if !fi.IsDir() { // a linked work tree or submodule: "gitdir: PATH"
				b, err := os.ReadFile(dotgit)
				if err != nil {
					return -1
				}
				g := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(string(b)), "gitdir:"))
				if !filepath.IsAbs(g) {
					g = filepath.Join(d, g)
				}
				index = filepath.Join(g, "index")
			}
			st, err := os.Stat(index)
			switch {
			case err != nil:
				return -1 // a repository without an index yet: every commit changes that
			case start.IsZero():
				return st.ModTime().UnixNano() ^ st.Size()
			case cacheStamp(1, st.ModTime(), start) == 0:
				return -1
			}
			return st.ModTime().UnixNano() ^ st.Size()
		}
		parent := filepath.Dir(d)
		if parent == d {
			return 0
		}
		d = parent
	}
}
