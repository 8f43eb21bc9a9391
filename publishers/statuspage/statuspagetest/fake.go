// Package statuspagetest is the Atlassian Statuspage REST API v1 on
// loopback, as far as the statuspage channel uses it: the incidents
// (realtime, and scheduled maintenances with scheduled_for and
// scheduled_until), components and incident postmortems of one page,
// behind "Authorization: OAuth KEY", answering with Statuspage's documented
// bodies (errors are {"message": "..."}) and validations. Faults are injected per request (see
// Server.Fail, Hang, Malformed, DropAnswer; Inject with a Method and Path
// drops one particular write).
package statuspagetest

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/incident-cli/incident/publishers/fakeservice"
)

// Defaults.
const (
	DefaultAPIKey = "0123456789abcdef0123456789abcdef"
	DefaultPageID = "gytm4qzbx9t6"
)

// DefaultComponents are the page's components (id -> name) unless Options say otherwise.
var DefaultComponents = map[string]string{"cmp_imap": "IMAP/POP", "cmp_smtp": "SMTP"}

var (
	incidentStatuses    = []string{"investigating", "identified", "monitoring", "resolved"}
	maintenanceStatuses = []string{"scheduled", "in_progress", "verifying", "completed"}
	componentStatuses   = []string{"operational", "under_maintenance", "degraded_performance", "partial_outage", "major_outage"}
)

// Options configure a Server; the zero value works.
type Options struct {
	APIKey     string            // the key the page accepts (DefaultAPIKey)
	PageID     string            // the page's id (DefaultPageID)
	Components map[string]string // component id -> name (DefaultComponents)
	// Clock, when set, is the page's clock: it starts there and advances a
	// second per write. Zero: the real time.
	Clock     time.Time
	UserAgent string               // the User-Agent requests must carry ("" for any "incident/...")
	Reporter  fakeservice.Reporter // gets protocol problems; when it has Cleanup(func()) (a *testing.T), Close is registered there
}

// Server is the fake page.
type Server struct {
	*fakeservice.Faults
	URL    string
	APIKey string
	PageID string

	ua      string
	created time.Time

	mu          sync.Mutex
	key, pageID string
	comps       map[string]string
	clock       time.Time
	incidents   []*incident
	postmortems map[string]*Postmortem
}

type incident struct {
	ID, Name, Status, Impact, Shortlink string
	Metadata                            map[string]any
	Components                          map[string]string
	Updates                             []map[string]any // newest first
	Scheduled                           *Scheduled
}

// Incident is an incident the page holds.
type Incident struct {
	ID, Name, Status, Impact, Shortlink string
	Metadata                            map[string]any    // {"incident": {"id": ..., "key": ...}}: the idempotency marker
	Components                          map[string]string // component id -> status
	Updates                             []Update          // newest first, as Statuspage lists them
	Scheduled                           *Scheduled        // set for a scheduled maintenance
}

// Scheduled is what makes an incident a scheduled maintenance: its window
// and the options of Statuspage's own reminder and automatic transitions
// (nil: not given, which Statuspage takes as its defaults).
type Scheduled struct {
	For, Until                                 time.Time
	RemindPrior, AutoInProgress, AutoCompleted *bool
	AutoToMaintenance, AutoToOperational       *bool
}

// Update is one incident update.
type Update struct {
	ID, Status, Body, CreatedAt string
}

// Postmortem is an incident's postmortem.
type Postmortem struct {
	Body, BodyDraft, PublishedAt string
	Notified                     int // how many times subscribers were notified
}

// NewServer starts a page on loopback.
func NewServer(o Options) *Server {
	if o.APIKey == "" {
		o.APIKey = DefaultAPIKey
	}
	if o.PageID == "" {
		o.PageID = DefaultPageID
	}
	if o.Components == nil {
		o.Components = DefaultComponents
	}
	s := &Server{Faults: fakeservice.New(o.Reporter), APIKey: o.APIKey, PageID: o.PageID, ua: o.UserAgent,
		key: o.APIKey, pageID: o.PageID, comps: maps.Clone(o.Components), clock: o.Clock, created: o.Clock,
		postmortems: map[string]*Postmortem{}}
	if s.created.IsZero() {
		s.created = time.Now().UTC()
	}
	s.URL = s.Serve(s.serve)
	return s
}

// SetAPIKey changes the key the page accepts.
func (s *Server) SetAPIKey(key string) { s.with(func() { s.key = key }) }

// SetPageID changes the page's id (requests for another page get 404).
func (s *Server) SetPageID(id string) { s.with(func() { s.pageID = id }) }

// RemoveComponent deletes a component from the page.
func (s *Server) RemoveComponent(id string) { s.with(func() { delete(s.comps, id) }) }

// SetClock sets the page's clock (it then advances a second per write).
func (s *Server) SetClock(t time.Time) { s.with(func() { s.clock = t }) }

func (s *Server) with(fn func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fn()
}

// Incidents returns every incident, oldest first.
func (s *Server) Incidents() []Incident {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Incident
	for _, inc := range s.incidents {
		x := Incident{ID: inc.ID, Name: inc.Name, Status: inc.Status, Impact: inc.Impact, Shortlink: inc.Shortlink,
			Metadata: maps.Clone(inc.Metadata), Components: maps.Clone(inc.Components), Scheduled: inc.Scheduled}
		for _, u := range inc.Updates {
			x.Updates = append(x.Updates, Update{ID: u["id"].(string), Status: u["status"].(string), Body: u["body"].(string), CreatedAt: u["created_at"].(string)})
		}
		out = append(out, x)
	}
	return out
}

// Postmortem returns the postmortem of an incident, if it has one.
func (s *Server) Postmortem(incidentID string) (Postmortem, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if pm := s.postmortems[incidentID]; pm != nil {
		return *pm, true
	}
	return Postmortem{}, false
}

// tick is the time of a write.
func (s *Server) tick() time.Time {
	if s.clock.IsZero() {
		return time.Now()
	}
	s.clock = s.clock.Add(time.Second)
	return s.clock
}

func spError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"message":%q}`, msg)
}

var spRoute = regexp.MustCompile(`^/v1/pages/([^/]+)/(components|incidents)(?:/([^/]+))?(/postmortem(?:/publish)?)?$`)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.CheckUserAgent(r, s.ua)
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.Header.Get("Authorization") != "OAuth "+s.key {
		spError(w, 401, "Could not authenticate")
		return
	}
	m := spRoute.FindStringSubmatch(r.URL.Path)
	if m == nil || m[1] != s.pageID {
		spError(w, 404, "The requested resource could not be found.")
		return
	}
	if r.Method != http.MethodGet && !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		spError(w, 400, "Content-Type must match the body")
		return
	}
	coll, id, sub := m[2], m[3], m[4]
	switch {
	case coll == "components" && id == "" && r.Method == http.MethodGet:
		var out []map[string]any
		for _, cid := range slices.Sorted(maps.Keys(s.comps)) {
			out = append(out, map[string]any{"id": cid, "name": s.comps[cid], "status": "operational", "page_id": s.pageID})
		}
		spJSON(w, 200, out)
	case coll == "incidents" && id == "" && r.Method == http.MethodGet:
		s.list(w, r)
	case coll == "incidents" && id == "" && r.Method == http.MethodPost:
		s.write(w, r, nil)
	case coll == "incidents" && sub == "" && (r.Method == http.MethodPatch || r.Method == http.MethodGet):
		inc := s.find(id)
		if inc == nil {
			spError(w, 404, "The requested resource could not be found.")
		} else if r.Method == http.MethodGet {
			spJSON(w, 200, s.render(inc))
		} else {
			s.write(w, r, inc)
		}
	case coll == "incidents" && sub != "":
		s.postmortem(w, r, id, sub)
	default:
		spError(w, 405, "Method not allowed")
	}
}

func (s *Server) find(id string) *incident {
	for _, inc := range s.incidents {
		if inc.ID == id {
			return inc
		}
	}
	return nil
}

func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	q := strings.ToLower(r.URL.Query().Get("q"))
	out := []map[string]any{}
	for i := len(s.incidents) - 1; i >= 0; i-- { // newest first
		inc := s.incidents[i]
		text := strings.ToLower(inc.Name + " " + inc.Status)
		for _, u := range inc.Updates {
			text += " " + strings.ToLower(u["body"].(string))
		}
		if q == "" || strings.Contains(text, q) {
			out = append(out, s.render(inc))
		}
	}
	spJSON(w, 200, out)
}

// write creates (inc nil) or updates an incident, validating the body as the
// API documents it.
func (s *Server) write(w http.ResponseWriter, r *http.Request, inc *incident) {
	var req struct {
		Incident *struct {
			Name           *string           `json:"name"`
			Status         string            `json:"status"`
			Body           string            `json:"body"`
			ImpactOverride string            `json:"impact_override"`
			ComponentIDs   []string          `json:"component_ids"`
			Components     map[string]string `json:"components"`
			Metadata       map[string]any    `json:"metadata"`
			// scheduled maintenance
			ScheduledFor      *string `json:"scheduled_for"`
			ScheduledUntil    *string `json:"scheduled_until"`
			RemindPrior       *bool   `json:"scheduled_remind_prior"`
			AutoInProgress    *bool   `json:"scheduled_auto_in_progress"`
			AutoCompleted     *bool   `json:"scheduled_auto_completed"`
			AutoToMaintenance *bool   `json:"auto_transition_to_maintenance_state"`
			AutoToOperational *bool   `json:"auto_transition_to_operational_state"`
		} `json:"incident"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Incident == nil {
		spError(w, 400, "Bad request")
		return
	}
	in := req.Incident
	// A scheduled maintenance is made by creating it with a maintenance
	// status; it keeps maintenance statuses, as a realtime incident keeps
	// realtime ones.
	maintenance := inc != nil && inc.Scheduled != nil || inc == nil && slices.Contains(maintenanceStatuses, in.Status)
	statuses := incidentStatuses
	if maintenance {
		statuses = maintenanceStatuses
	}
	var sched *Scheduled
	if maintenance && inc == nil {
		var msg string
		if sched, msg = scheduledOf(in.ScheduledFor, in.ScheduledUntil); msg != "" {
			spError(w, 422, msg)
			return
		}
		sched.RemindPrior, sched.AutoInProgress, sched.AutoCompleted = in.RemindPrior, in.AutoInProgress, in.AutoCompleted
		sched.AutoToMaintenance, sched.AutoToOperational = in.AutoToMaintenance, in.AutoToOperational
	}
	switch {
	case inc == nil && (in.Name == nil || *in.Name == ""):
		spError(w, 422, "Name can't be blank")
		return
	case in.Name != nil && utf8.RuneCountInString(*in.Name) > 255:
		spError(w, 422, "Name is too long (maximum is 255 characters)")
		return
	case in.Status != "" && !slices.Contains(statuses, in.Status):
		spError(w, 422, "Status is not included in the list")
		return
	case !maintenance && (in.ScheduledFor != nil || in.ScheduledUntil != nil):
		spError(w, 422, "Scheduled for can only be set on a scheduled incident")
		return
	case utf8.RuneCountInString(in.Body) > 25000:
		spError(w, 422, "Body is too long (maximum is 25000 characters)")
		return
	case in.ImpactOverride != "" && !slices.Contains([]string{"none", "minor", "major", "critical"}, in.ImpactOverride):
		spError(w, 422, "Impact override is not included in the list")
		return
	}
	for _, cid := range in.ComponentIDs {
		if _, ok := s.comps[cid]; !ok {
			spError(w, 422, "Component "+cid+" does not exist")
			return
		}
	}
	for cid, st := range in.Components {
		if _, ok := s.comps[cid]; !ok || !slices.Contains(componentStatuses, st) || !slices.Contains(in.ComponentIDs, cid) {
			spError(w, 422, "Components are invalid")
			return
		}
	}
	for _, v := range in.Metadata {
		if _, ok := v.(map[string]any); !ok {
			spError(w, 422, "Metadata top-level values must be objects")
			return
		}
	}
	status := 200
	if inc == nil {
		n := len(s.incidents) + 1
		inc = &incident{ID: fmt.Sprintf("p31zjtct2jer%02d", n), Status: "investigating", Impact: "none",
			Shortlink: fmt.Sprintf("http://stspg.io/abc%02d", n), Metadata: in.Metadata, Components: map[string]string{}, Scheduled: sched}
		if sched != nil {
			inc.Impact = "maintenance"
		}
		s.incidents = append(s.incidents, inc)
		status = 201
	}
	if status != 201 {
		// Metadata given on an update replaces those namespaces.
		if inc.Metadata == nil && len(in.Metadata) > 0 {
			inc.Metadata = map[string]any{}
		}
		for k, v := range in.Metadata {
			inc.Metadata[k] = v
		}
	}
	if in.Name != nil {
		inc.Name = *in.Name
	}
	if in.Status != "" {
		inc.Status = in.Status
	}
	if in.ImpactOverride != "" {
		inc.Impact = in.ImpactOverride
	}
	for cid, st := range in.Components {
		inc.Components[cid] = st
	}
	if in.Body != "" || status == 201 {
		u := map[string]any{"id": fmt.Sprintf("upd%d", len(inc.Updates)+1), "incident_id": inc.ID, "status": inc.Status,
			"body": in.Body, "created_at": s.tick().In(time.FixedZone("", -6*3600)).Format("2006-01-02T15:04:05.000-07:00")}
		inc.Updates = append([]map[string]any{u}, inc.Updates...)
	}
	spJSON(w, status, s.render(inc))
}

// scheduledOf reads a new scheduled maintenance's window, or says what is
// wrong with it.
func scheduledOf(from, until *string) (*Scheduled, string) {
	if from == nil || *from == "" {
		return nil, "Scheduled for can't be blank"
	}
	if until == nil || *until == "" {
		return nil, "Scheduled until can't be blank"
	}
	f, err1 := time.Parse(time.RFC3339, *from)
	u, err2 := time.Parse(time.RFC3339, *until)
	switch {
	case err1 != nil:
		return nil, "Scheduled for is not a valid date"
	case err2 != nil:
		return nil, "Scheduled until is not a valid date"
	case !u.After(f):
		return nil, "Scheduled until must be after scheduled for"
	}
	return &Scheduled{For: f, Until: u}, ""
}

func (s *Server) postmortem(w http.ResponseWriter, r *http.Request, id, sub string) {
	if s.find(id) == nil {
		spError(w, 404, "The requested resource could not be found.")
		return
	}
	pm := s.postmortems[id]
	switch {
	case sub == "/postmortem" && r.Method == http.MethodGet:
		if pm == nil {
			spError(w, 404, "The requested resource could not be found.")
			return
		}
	case sub == "/postmortem" && r.Method == http.MethodPut:
		var req struct {
			Postmortem *struct {
				BodyDraft *string `json:"body_draft"`
			} `json:"postmortem"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Postmortem == nil || req.Postmortem.BodyDraft == nil {
			spError(w, 400, "Bad request")
			return
		}
		if pm == nil {
			pm = &Postmortem{}
			s.postmortems[id] = pm
		}
		pm.BodyDraft = *req.Postmortem.BodyDraft
	case sub == "/postmortem/publish" && r.Method == http.MethodPut:
		var req struct {
			Postmortem struct {
				NotifySubscribers *bool `json:"notify_subscribers"`
				NotifyTwitter     *bool `json:"notify_twitter"`
			} `json:"postmortem"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || pm == nil || pm.BodyDraft == "" {
			spError(w, 422, "Postmortem body draft can't be blank")
			return
		}
		if req.Postmortem.NotifyTwitter != nil && *req.Postmortem.NotifyTwitter {
			s.Problemf("postmortem published with notify_twitter = true")
		}
		if req.Postmortem.NotifySubscribers != nil && *req.Postmortem.NotifySubscribers {
			pm.Notified++
		}
		pm.Body, pm.PublishedAt = pm.BodyDraft, s.tick().UTC().Format(time.RFC3339)
	default:
		spError(w, 405, "Method not allowed")
		return
	}
	spJSON(w, 200, map[string]any{"body": pm.Body, "body_draft": pm.BodyDraft, "published_at": nullable(pm.PublishedAt),
		"notify_subscribers": pm.Notified > 0, "notify_twitter": false, "preview_key": "pk"})
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (s *Server) render(inc *incident) map[string]any {
	var comps []map[string]any
	for _, cid := range slices.Sorted(maps.Keys(inc.Components)) {
		comps = append(comps, map[string]any{"id": cid, "name": s.comps[cid], "status": inc.Components[cid]})
	}
	out := map[string]any{
		"id": inc.ID, "name": inc.Name, "status": inc.Status, "impact": inc.Impact, "shortlink": inc.Shortlink,
		"page_id": s.pageID, "metadata": inc.Metadata, "incident_updates": inc.Updates, "components": comps,
		"created_at": s.created.Format(time.RFC3339), "resolved_at": nil, "postmortem_body": nil,
		"scheduled_for": nil, "scheduled_until": nil, "scheduled_remind_prior": false,
		"scheduled_auto_in_progress": false, "scheduled_auto_completed": false,
	}
	if sc := inc.Scheduled; sc != nil {
		out["scheduled_for"], out["scheduled_until"] = sc.For.UTC().Format(time.RFC3339), sc.Until.UTC().Format(time.RFC3339)
		for k, v := range map[string]*bool{"scheduled_remind_prior": sc.RemindPrior, "scheduled_auto_in_progress": sc.AutoInProgress,
			"scheduled_auto_completed": sc.AutoCompleted} {
			out[k] = v != nil && *v
		}
	}
	return out
}

func spJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
