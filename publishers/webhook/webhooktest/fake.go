// Package webhooktest is a webhook receiver on loopback. In its default mode
// it is a team's own tool, and a careful one: it wants a bearer token (and
// the X-Source header), decodes the documented document strictly,
// deduplicates on Idempotency-Key (a repeated key answers the first
// delivery's id) and answers 201 with an id and a URL. In Slack mode it
// behaves like a Slack incoming webhook: no auth header (the URL is the
// secret), "text" required, "ok" in plain text. Faults are injected per
// request (see Server.Fail, Hang, Malformed, DropAnswer).
package webhooktest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/incident-cli/incident/publishers/fakeservice"
)

// Defaults.
const (
	DefaultToken = "w3bhook-bearer-token-0123456789"
	DefaultPath  = "/hooks/incident/"
	// SlackPath is the secret part of the Slack-mode webhook URL.
	SlackPath = "/services/T000/B000/XXXXsecretXXXX"
)

// Options configure a Server; the zero value works.
type Options struct {
	Token     string               // the bearer token the receiver wants (DefaultToken)
	Path      string               // the hook's path (DefaultPath); it may hold a secret of its own
	Slack     bool                 // behave like a Slack incoming webhook at SlackPath
	UserAgent string               // the User-Agent requests must carry ("" for any "incident/...")
	Reporter  fakeservice.Reporter // gets protocol problems; when it has Cleanup(func()) (a *testing.T), Close is registered there
}

// Server is the fake receiver.
type Server struct {
	*fakeservice.Faults
	URL     string // the server's base URL
	HookURL string // URL + the hook's path (SlackPath in Slack mode)
	Token   string

	ua    string
	path  string
	slack bool

	mu    sync.Mutex
	token string
	docs  []Delivery
	byKey map[string]int
	keys  []string // Idempotency-Key of every request
}

// Document is the documented schema; decoding with DisallowUnknownFields
// keeps the docs and the code in step.
type Document struct {
	Kind     string            `json:"kind"`
	Key      string            `json:"key"`
	Title    string            `json:"title"`
	Text     string            `json:"text"`
	Link     string            `json:"link"`
	Texts    map[string]string `json:"texts"`
	ThreadID string            `json:"thread_id"`
	ParentID string            `json:"parent_id"`
	Incident struct {
		ID        string `json:"id"`
		Title     string `json:"title"`
		Status    string `json:"status"`
		Severity  string `json:"severity"`
		Services  []struct{ ID, Name string }
		Accounts  int       `json:"accounts"`
		StartedAt time.Time `json:"started_at"`
		// Maintenance is a scheduled maintenance window's (nil for an incident).
		Maintenance *struct {
			Start time.Time `json:"start"`
			End   time.Time `json:"end"`
		} `json:"maintenance"`
	} `json:"incident"`
	Update struct {
		Number  int       `json:"number"`
		Status  string    `json:"status"`
		Message string    `json:"message"`
		At      time.Time `json:"at"`
		Author  string    `json:"author"`
	} `json:"update"`
}

// Delivery is a document the receiver took.
type Delivery struct {
	Document
	ID             string // the id answered: evt_N
	IdempotencyKey string
}

// NewServer starts a receiver on loopback.
func NewServer(o Options) *Server {
	if o.Token == "" && !o.Slack {
		o.Token = DefaultToken
	}
	if o.Path == "" {
		o.Path = DefaultPath
	}
	if o.Slack {
		o.Path = SlackPath
	}
	s := &Server{Faults: fakeservice.New(o.Reporter), Token: o.Token, token: o.Token, ua: o.UserAgent, path: o.Path, slack: o.Slack, byKey: map[string]int{}}
	s.URL = s.Serve(s.serve)
	s.HookURL = s.URL + o.Path
	return s
}

// SetToken changes the token the receiver wants (a rotated token).
func (s *Server) SetToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.token = token
}

// Deliveries returns every document taken, in order (a repeated
// Idempotency-Key is not taken again).
func (s *Server) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.docs)
}

// Keys returns the Idempotency-Key of every request, repeats included.
func (s *Server) Keys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.keys)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.CheckUserAgent(r, s.ua)
	if r.Header.Get("Content-Type") != "application/json" || r.Method != http.MethodPost {
		s.Problemf("%s %s: Content-Type %q", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = append(s.keys, r.Header.Get("Idempotency-Key"))
	if s.slack {
		s.serveSlack(w, r, body)
		return
	}
	if r.URL.Path != s.path {
		writeJSON(w, 404, map[string]string{"error": "no such hook"})
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+s.token || r.Header.Get("X-Source") != "incident" {
		writeJSON(w, 401, map[string]string{"error": "missing or invalid bearer token"})
		return
	}
	var doc Document
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		writeJSON(w, 400, map[string]string{"error": err.Error()})
		return
	}
	if doc.Kind != "update" && doc.Kind != "rfo" || doc.Key == "" || doc.Incident.ID == "" || doc.Update.Number == 0 {
		writeJSON(w, 422, map[string]any{"errors": []string{"kind, key, incident.id and update.number are required"}})
		return
	}
	key := r.Header.Get("Idempotency-Key")
	if i, ok := s.byKey[key]; ok {
		writeJSON(w, 200, map[string]any{"id": s.docs[i].ID, "url": fmt.Sprintf("https://hooks.example/events/%d", i+1)})
		return
	}
	d := Delivery{Document: doc, ID: fmt.Sprintf("evt_%d", len(s.docs)+1), IdempotencyKey: key}
	s.docs = append(s.docs, d)
	s.byKey[key] = len(s.docs) - 1
	writeJSON(w, 201, map[string]any{"id": d.ID, "url": fmt.Sprintf("https://hooks.example/events/%d", len(s.docs))})
}

// serveSlack answers like hooks.slack.com.
func (s *Server) serveSlack(w http.ResponseWriter, r *http.Request, body []byte) {
	w.Header().Set("Content-Type", "text/html")
	if r.URL.Path != SlackPath {
		w.WriteHeader(404)
		_, _ = w.Write([]byte("no_service"))
		return
	}
	var msg struct{ Text string }
	if json.Unmarshal(body, &msg) != nil || msg.Text == "" {
		w.WriteHeader(400)
		_, _ = w.Write([]byte("invalid_payload"))
		return
	}
	var doc Document
	_ = json.Unmarshal(body, &doc)
	s.docs = append(s.docs, Delivery{Document: doc, IdempotencyKey: r.Header.Get("Idempotency-Key")})
	_, _ = w.Write([]byte("ok"))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
