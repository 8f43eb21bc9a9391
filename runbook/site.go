package runbook

import (
	"github.com/incident-cli/incident/publishers/static"
)

// BuildSite renders the whole static status page from every incident's
// record. It returns the number of incident pages written.
func (r *Runbook) BuildSite(s *static.Publisher) (int, error) {
	ids, err := r.Store.IDs()
	if err != nil {
		return 0, err
	}
	pages := make([]static.Page, 0, len(ids))
	for _, id := range ids {
		inc, err := r.Store.Load(id)
		if err != nil {
			return 0, err
		}
		ups := inc.PublicUpdates()
		if len(ups) == 0 {
			continue
		}
		x, err := r.renderStatus(inc, ups[len(ups)-1], "")
		if err != nil {
			return 0, err
		}
		pages = append(pages, static.Page{Incident: r.postIncident(inc), Title: x.Title, HTML: x.HTML})
	}
	return len(pages), s.Build(pages)
}
