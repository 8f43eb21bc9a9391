package static

import (
	"slices"
	"time"

	"github.com/incident-cli/incident/publishers"
)

// Site is status.json: the machine-readable state of the page. Its schema is
// stable: fields are only ever added.
type Site struct {
	Organization string         `json:"organization"`
	URL          string         `json:"url,omitempty"`
	Generated    time.Time      `json:"generated"`
	Status       string         `json:"status"` // operational, degraded, outage
	Services     []ServiceState `json:"services"`
	Incidents    []Entry        `json:"incidents"` // open first, then recent history, newest first
}

// ServiceState is one service's current state.
type ServiceState struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Status string `json:"status"` // operational, degraded, outage, recovering
}

// Entry is one incident on the page.
type Entry struct {
	ID         string               `json:"id"`
	Title      string               `json:"title"`
	Status     string               `json:"status"`
	Severity   string               `json:"severity,omitempty"`
	Services   []publishers.Service `json:"services"`
	Accounts   int                  `json:"accounts,omitempty"`
	StartedAt  time.Time            `json:"started_at"`
	OpenedAt   time.Time            `json:"opened_at"`
	ResolvedAt *time.Time           `json:"resolved_at,omitempty"`
	URL        string               `json:"url"`
	RFOURL     string               `json:"rfo_url,omitempty"`
	Updates    []EntryUpdate        `json:"updates"` // newest first
}

// EntryUpdate is one public update.
type EntryUpdate struct {
	Number  int       `json:"number"`
	Status  string    `json:"status"`
	Message string    `json:"message"`
	HTML    string    `json:"html"`
	At      time.Time `json:"at"`
}

func entryOf(inc publishers.Incident, url string) Entry {
	e := Entry{ID: inc.ID, Title: inc.Title, Status: inc.Status, Severity: inc.Severity,
		Services: inc.Services, Accounts: inc.Accounts, StartedAt: inc.StartedAt, OpenedAt: inc.OpenedAt, URL: url}
	if e.Services == nil {
		e.Services = []publishers.Service{}
	}
	if !inc.ResolvedAt.IsZero() {
		t := inc.ResolvedAt
		e.ResolvedAt = &t
	}
	for i := len(inc.Updates) - 1; i >= 0; i-- {
		u := inc.Updates[i]
		e.Updates = append(e.Updates, EntryUpdate{Number: u.Number, Status: u.Status, Message: u.Message, HTML: u.HTML, At: u.At})
	}
	return e
}

func (s *Site) find(id string) *Entry {
	for i := range s.Incidents {
		if s.Incidents[i].ID == id {
			return &s.Incidents[i]
		}
	}
	return nil
}

func (s *Site) upsert(e Entry) {
	if old := s.find(e.ID); old != nil {
		*old = e
	} else {
		s.Incidents = append(s.Incidents, e)
	}
	s.trim()
}

// trim keeps every open incident and the History most recent resolved ones.
func (s *Site) trim() {
	sortEntries(s.Incidents)
	kept := s.Incidents[:0]
	resolved := 0
	for _, e := range s.Incidents {
		if e.ResolvedAt != nil {
			resolved++
			if resolved > History {
				continue
			}
		}
		kept = append(kept, e)
	}
	s.Incidents = kept
}

// Open returns the open incidents.
func (s *Site) Open() []Entry {
	var out []Entry
	for _, e := range s.Incidents {
		if e.ResolvedAt == nil {
			out = append(out, e)
		}
	}
	return out
}

// History returns the resolved incidents kept.
func (s *Site) History() []Entry {
	var out []Entry
	for _, e := range s.Incidents {
		if e.ResolvedAt != nil {
			out = append(out, e)
		}
	}
	return out
}

var rank = map[string]int{"operational": 0, "recovering": 1, "degraded": 2, "outage": 3}

// computeServices sets each service's state from the open incidents naming
// it. Services an incident names that the runbook does not list are shown too.
func (s *Site) computeServices(services []publishers.Service) {
	s.Services = nil
	seen := map[string]bool{}
	add := func(sv publishers.Service) {
		if !seen[sv.ID] {
			seen[sv.ID] = true
			s.Services = append(s.Services, ServiceState{ID: sv.ID, Name: sv.Name, Status: "operational"})
		}
	}
	for _, sv := range services {
		add(sv)
	}
	for _, e := range s.Open() {
		for _, sv := range e.Services {
			add(sv)
			i := slices.IndexFunc(s.Services, func(x ServiceState) bool { return x.ID == sv.ID })
			st := "degraded"
			switch {
			case e.Status == "monitoring":
				st = "recovering"
			case e.Severity == "critical":
				st = "outage"
			}
			if rank[st] > rank[s.Services[i].Status] {
				s.Services[i].Status = st
			}
		}
	}
	if s.Services == nil {
		s.Services = []ServiceState{}
	}
	if s.Incidents == nil {
		s.Incidents = []Entry{}
	}
}

func overall(svcs []ServiceState) string {
	worst := "operational"
	for _, s := range svcs {
		if rank[s.Status] > rank[worst] {
			worst = s.Status
		}
	}
	if worst == "recovering" {
		return "degraded"
	}
	return worst
}
