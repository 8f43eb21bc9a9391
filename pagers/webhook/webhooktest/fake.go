// Package webhooktest is a receiver of the webhook pager's pages on
// loopback, the way a careful bridge (Matrix, an SMS gateway) would take
// them: it wants a bearer token, decodes the documented body strictly (an
// unknown field is a 400), checks what a page must hold, deduplicates on
// Idempotency-Key (a repeated key answers the first page's id without
// taking it again) and answers 201 {"id": "page_N"}. In Plain mode it
// answers "ok" in plain text instead, as many gateways do. Faults are
// injected per request (see fakeservice.Faults). It uses nothing from
// package testing.
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
	DefaultToken = "p4ger-bearer-token-0123456789"
	DefaultPath  = "/hooks/pages"
)

// Options configure a Server; the zero value works.
type Options struct {
	Token     string               // the bearer token the receiver wants (DefaultToken)
	Path      string               // the hook's path (DefaultPath)
	Plain     bool                 // answer 200 "ok" in plain text, without an id
	UserAgent string               // the User-Agent requests must carry ("" for any "incident/...")
	Reporter  fakeservice.Reporter // gets protocol problems; when it has Cleanup(func()) (a *testing.T), Close is registered there
}

// Document is the documented body; decoding with DisallowUnknownFields
// keeps the docs and the code in step.
type Document struct {
	Kind       string    `json:"kind"`
	Key        string    `json:"key"`
	Incident   string    `json:"incident"`
	Title      string    `json:"title"`
	Severity   string    `json:"severity"`
	Services   []string  `json:"services"`
	Since      time.Time `json:"since"`
	Summary    string    `json:"summary"`
	Level      int       `json:"level"`
	Urgent     bool      `json:"urgent"`
	Person     string    `json:"person"`
	Handle     string    `json:"handle"`
	Subject    string    `json:"subject"`
	Text       string    `json:"text"`
	AckCommand string    `json:"ack_command"`
	AckedBy    string    `json:"acked_by"`
	AckedAt    time.Time `json:"acked_at"`
	At         time.Time `json:"at"`
}

// Delivery is a page the receiver took.
type Delivery struct {
	Document
	ID             string // the id answered: page_N
	IdempotencyKey string
}

// Server is the fake receiver.
type Server struct {
	*fakeservice.Faults
	URL     string // the server's base URL
	HookURL string // URL + the hook's path

	o Options

	mu    sync.Mutex
	docs  []Delivery
	byKey map[string]int
	keys  []string // Idempotency-Key of every request
}

// NewServer starts a receiver on loopback.
func NewServer(o Options) *Server {
	if o.Token == "" {
		o.Token = DefaultToken
	}
	if o.Path == "" {
		o.Path = DefaultPath
	}
	s := &Server{Faults: fakeservice.New(o.Reporter), o: o, byKey: map[string]int{}}
	s.URL = s.Serve(s.serve)
	s.HookURL = s.URL + o.Path
	return s
}

// Deliveries returns every page taken, in order (a repeated key is taken once).
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

var kinds = []string{"alert", "ack", "test", "manual"}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.CheckUserAgent(r, s.o.UserAgent)
	if r.Header.Get("Content-Type") != "application/json" {
		s.Problemf("%s %s: Content-Type %q", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := r.Header.Get("Idempotency-Key")
	s.keys = append(s.keys, key)
	if r.Method != http.MethodPost || r.URL.Path != s.o.Path {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such hook"})
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+s.o.Token {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "missing or invalid bearer token"})
		return
	}
	var doc Document
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	var missing []string
	for _, c := range []struct {
		bad  bool
		what string
	}{
		{!slices.Contains(kinds, doc.Kind), "kind (alert, ack, test or manual)"},
		{doc.Key == "" || doc.Key != key, "key (equal to Idempotency-Key)"},
		{doc.Incident == "", "incident"},
		{doc.Text == "" && doc.Subject == "", "subject or text"},
		{doc.At.IsZero(), "at"},
		{doc.Kind == "ack" && (doc.AckedBy == "" || doc.AckedAt.IsZero()), "acked_by and acked_at (ack pages)"},
		{doc.Handle != "" && doc.Person == "", "person (with a handle)"},
	} {
		if c.bad {
			missing = append(missing, c.what)
		}
	}
	if len(missing) > 0 {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"errors": missing})
		return
	}
	if i, ok := s.byKey[key]; ok {
		s.answer(w, http.StatusOK, s.docs[i].ID)
		return
	}
	d := Delivery{Document: doc, ID: fmt.Sprintf("page_%d", len(s.docs)+1), IdempotencyKey: key}
	s.docs = append(s.docs, d)
	s.byKey[key] = len(s.docs) - 1
	s.answer(w, http.StatusCreated, d.ID)
}

func (s *Server) answer(w http.ResponseWriter, status int, id string) {
	if s.o.Plain {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("ok"))
		return
	}
	writeJSON(w, status, map[string]string{"id": id})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
