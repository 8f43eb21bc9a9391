package statuspage

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/incident-cli/incident/publishers/publisherstest"
)

// fakeStatuspage is the Statuspage REST API v1 as far as this channel uses
// it: incidents, components and postmortems of one page, behind
// "Authorization: OAuth KEY", answering with Statuspage's documented bodies
// (errors are {"message": "..."}).
type fakeStatuspage struct {
	t      *testing.T
	srv    *httptest.Server
	key    string
	pageID string
	comps  map[string]string // component id -> name

	mu          sync.Mutex
	now         time.Time // the fake's clock; advances a second per write
	incidents   []*spIncident
	postmortems map[string]*spPostmortem
	requests    []string

	fail func(w http.ResponseWriter, r *http.Request) bool // answer instead of the real handler when true
	drop string                                            // "METHOD path-suffix": perform that write once, then drop the connection
	hang bool
}

type spIncident struct {
	ID, Name, Status, Impact, Shortlink string
	Metadata                            map[string]any
	Components                          map[string]string
	Updates                             []map[string]any // newest first
}

type spPostmortem struct {
	Body, BodyDraft, PublishedAt string
	Notified                     int
}

func newFakeStatuspage(t *testing.T) *fakeStatuspage {
	f := &fakeStatuspage{
		t: t, key: "0123456789abcdef0123456789abcdef", pageID: "gytm4qzbx9t6",
		comps:       map[string]string{"cmp_imap": "IMAP/POP", "cmp_smtp": "SMTP"},
		now:         publisherstest.Now.Add(time.Minute),
		postmortems: map[string]*spPostmortem{},
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func spError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"message":%q}`, msg)
}

var spRoute = regexp.MustCompile(`^/v1/pages/([^/]+)/(components|incidents)(?:/([^/]+))?(/postmortem(?:/publish)?)?$`)

func (f *fakeStatuspage) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests = append(f.requests, r.Method+" "+r.URL.Path)
	fail, hang, key, pageID := f.fail, f.hang, f.key, f.pageID
	f.mu.Unlock()
	if hang {
		<-r.Context().Done()
		return
	}
	if fail != nil && fail(w, r) {
		return
	}
	if r.Header.Get("Authorization") != "OAuth "+key || r.Header.Get("User-Agent") != "incident/test" {
		spError(w, 401, "Could not authenticate")
		return
	}
	m := spRoute.FindStringSubmatch(r.URL.Path)
	if m == nil || m[1] != pageID {
		spError(w, 404, "The requested resource could not be found.")
		return
	}
	if r.Method != http.MethodGet && !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		spError(w, 400, "Content-Type must match the body")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	coll, id, sub := m[2], m[3], m[4]
	switch {
	case coll == "components" && id == "" && r.Method == http.MethodGet:
		var out []map[string]any
		for _, cid := range sortedKeys(f.comps) {
			out = append(out, map[string]any{"id": cid, "name": f.comps[cid], "status": "operational", "page_id": f.pageID})
		}
		spJSON(w, 200, out)
	case coll == "incidents" && id == "" && r.Method == http.MethodGet:
		f.list(w, r)
	case coll == "incidents" && id == "" && r.Method == http.MethodPost:
		f.write(w, r, nil)
	case coll == "incidents" && sub == "" && (r.Method == http.MethodPatch || r.Method == http.MethodGet):
		inc := f.find(id)
		if inc == nil {
			spError(w, 404, "The requested resource could not be found.")
		} else if r.Method == http.MethodGet {
			spJSON(w, 200, f.render(inc))
		} else {
			f.write(w, r, inc)
		}
	case coll == "incidents" && sub != "":
		f.postmortem(w, r, id, sub)
	default:
		spError(w, 405, "Method not allowed")
	}
}

func (f *fakeStatuspage) find(id string) *spIncident {
	for _, inc := range f.incidents {
		if inc.ID == id {
			return inc
		}
	}
	return nil
}

func (f *fakeStatuspage) list(w http.ResponseWriter, r *http.Request) {
	q := strings.ToLower(r.URL.Query().Get("q"))
	out := []map[string]any{}
	for i := len(f.incidents) - 1; i >= 0; i-- { // newest first
		inc := f.incidents[i]
		text := strings.ToLower(inc.Name + " " + inc.Status)
		for _, u := range inc.Updates {
			text += " " + strings.ToLower(u["body"].(string))
		}
		if q == "" || strings.Contains(text, q) {
			out = append(out, f.render(inc))
		}
	}
	spJSON(w, 200, out)
}

// write creates (inc nil) or updates an incident, validating the body as the
// API documents it.
func (f *fakeStatuspage) write(w http.ResponseWriter, r *http.Request, inc *spIncident) {
	var req struct {
		Incident *struct {
			Name           *string           `json:"name"`
			Status         string            `json:"status"`
			Body           string            `json:"body"`
			ImpactOverride string            `json:"impact_override"`
			ComponentIDs   []string          `json:"component_ids"`
			Components     map[string]string `json:"components"`
			Metadata       map[string]any    `json:"metadata"`
		} `json:"incident"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Incident == nil {
		spError(w, 400, "Bad request")
		return
	}
	in := req.Incident
	switch {
	case inc == nil && (in.Name == nil || *in.Name == ""):
		spError(w, 422, "Name can't be blank")
		return
	case in.Name != nil && utf8.RuneCountInString(*in.Name) > 255:
		spError(w, 422, "Name is too long (maximum is 255 characters)")
		return
	case in.Status != "" && !slices.Contains(incidentStatuses, in.Status):
		spError(w, 422, "Status is not included in the list")
		return
	case utf8.RuneCountInString(in.Body) > 25000:
		spError(w, 422, "Body is too long (maximum is 25000 characters)")
		return
	case in.ImpactOverride != "" && !slices.Contains([]string{"none", "minor", "major", "critical"}, in.ImpactOverride):
		spError(w, 422, "Impact override is not included in the list")
		return
	}
	for _, cid := range in.ComponentIDs {
		if _, ok := f.comps[cid]; !ok {
			spError(w, 422, "Component "+cid+" does not exist")
			return
		}
	}
	for cid, st := range in.Components {
		if _, ok := f.comps[cid]; !ok || !slices.Contains(componentStatuses, st) || !slices.Contains(in.ComponentIDs, cid) {
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
		n := len(f.incidents) + 1
		inc = &spIncident{ID: fmt.Sprintf("p31zjtct2jer%02d", n), Status: "investigating", Impact: "none",
			Shortlink: fmt.Sprintf("http://stspg.io/abc%02d", n), Metadata: in.Metadata, Components: map[string]string{}}
		f.incidents = append(f.incidents, inc)
		status = 201
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
		f.now = f.now.Add(time.Second)
		u := map[string]any{"id": fmt.Sprintf("upd%d", len(inc.Updates)+1), "incident_id": inc.ID, "status": inc.Status,
			"body": in.Body, "created_at": f.now.In(time.FixedZone("", -6*3600)).Format("2006-01-02T15:04:05.000-07:00")}
		inc.Updates = append([]map[string]any{u}, inc.Updates...)
	}
	if f.dropWrite(r) {
		panic(http.ErrAbortHandler)
	}
	spJSON(w, status, f.render(inc))
}

func (f *fakeStatuspage) dropWrite(r *http.Request) bool {
	method, suffix, _ := strings.Cut(f.drop, " ")
	if f.drop != "" && r.Method == method && strings.HasSuffix(r.URL.Path, suffix) {
		f.drop = ""
		return true
	}
	return false
}

func (f *fakeStatuspage) postmortem(w http.ResponseWriter, r *http.Request, id, sub string) {
	if f.find(id) == nil {
		spError(w, 404, "The requested resource could not be found.")
		return
	}
	pm := f.postmortems[id]
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
			pm = &spPostmortem{}
			f.postmortems[id] = pm
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
			f.t.Errorf("postmortem published with notify_twitter = true")
		}
		if req.Postmortem.NotifySubscribers != nil && *req.Postmortem.NotifySubscribers {
			pm.Notified++
		}
		f.now = f.now.Add(time.Second)
		pm.Body, pm.PublishedAt = pm.BodyDraft, f.now.Format(time.RFC3339)
		if f.dropWrite(r) {
			panic(http.ErrAbortHandler)
		}
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

func (f *fakeStatuspage) render(inc *spIncident) map[string]any {
	var comps []map[string]any
	for _, cid := range sortedKeys(inc.Components) {
		comps = append(comps, map[string]any{"id": cid, "name": f.comps[cid], "status": inc.Components[cid]})
	}
	return map[string]any{
		"id": inc.ID, "name": inc.Name, "status": inc.Status, "impact": inc.Impact, "shortlink": inc.Shortlink,
		"page_id": f.pageID, "metadata": inc.Metadata, "incident_updates": inc.Updates, "components": comps,
		"created_at": publisherstest.Now.Format(time.RFC3339), "resolved_at": nil, "postmortem_body": nil,
	}
}

func spJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// set changes the fake's knobs and state while requests may be in flight.
func (f *fakeStatuspage) set(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn()
}

func (f *fakeStatuspage) count(prefix string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, r := range f.requests {
		if strings.HasPrefix(r, prefix) {
			n++
		}
	}
	return n
}
