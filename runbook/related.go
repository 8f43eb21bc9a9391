package runbook

import (
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/incident-cli/incident/publishers"
)

// RecurrenceWindow is how recently an incident on one of the same services
// must have been resolved for `incident open` to ask whether the new one
// is a recurrence of it. (An incident back within hours is reopened
// instead: `incident reopen`.)
const RecurrenceWindow = 14 * 24 * time.Hour

// RecurrenceCandidates returns the incidents resolved within the last 14
// days that share a service with services, most recently resolved first,
// at most n of them.
func (r *Runbook) RecurrenceCandidates(services []string, n int) ([]Summary, error) {
	if len(services) == 0 {
		return nil, nil
	}
	sums, err := r.Summaries()
	if err != nil {
		return nil, err
	}
	now := r.Now()
	var out []Summary
	for _, s := range sums {
		if s.Open() || now.Sub(s.ResolvedAt) > RecurrenceWindow || !slices.ContainsFunc(s.Services, func(id string) bool { return slices.Contains(services, id) }) {
			continue
		}
		out = append(out, s)
	}
	slices.SortStableFunc(out, func(a, b Summary) int { return b.ResolvedAt.Compare(a.ResolvedAt) })
	return out[:min(n, len(out))], nil
}

// CheckRelated checks that every id of --related names a recorded incident.
func (r *Runbook) CheckRelated(ids []string) error {
	for _, id := range ids {
		if strings.TrimSpace(id) == "" || !r.Store.Exists(id) {
			return fmt.Errorf("--related %q: no such incident; `incident list --all` shows their ids", id)
		}
	}
	return nil
}

// Related returns an incident's related incidents as channels see
// them: each one's title, start and status post (its receipt's URL). One
// that no longer loads is named by its id.
func (r *Runbook) Related(inc *Incident) []publishers.RelatedIncident {
	var out []publishers.RelatedIncident
	for _, id := range inc.Related {
		ri := publishers.RelatedIncident{ID: id, Title: id}
		if rel, err := r.Store.Load(id); err == nil {
			ri.Title, ri.StartedAt = rel.Title, rel.StartedAt
			if first, _ := rel.Thread(r.StatusPage.Name, true); first != nil {
				ri.URL = first.URL
			}
		}
		out = append(out, ri)
	}
	return out
}

// localLink makes a file:// URL relative: a page read from disk links to
// its neighbours that way (Markdown drops file: links, and the folder may
// move).
func localLink(url string) string {
	if rest, ok := strings.CutPrefix(url, "file://"); ok {
		return path.Base(rest)
	}
	return url
}
