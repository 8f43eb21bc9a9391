// Package mastodontest is a Mastodon instance on loopback, as far as the
// mastodon channel uses it: GET /api/v2/instance, verify_credentials and
// POST /api/v1/statuses, with Mastodon's bearer-token authentication,
// validations, Idempotency-Key handling (a repeated key answers the status
// the first request made) and bodies. Faults are injected per request (see
// Server.Fail, Hang, Malformed, DropAnswer).
package mastodontest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/rivo/uniseg"

	"github.com/incident-cli/incident/publishers/fakeservice"
)

// Defaults.
const (
	DefaultToken = "m4stodon-access-token-0123456789"
	DefaultLimit = 500
	// FirstID is the id of the first status minus one.
	FirstID = 113500000000000000
)

// Options configure a Server; the zero value works.
type Options struct {
	Token     string               // the access token the instance accepts (DefaultToken)
	Limit     int                  // configuration.statuses.max_characters (DefaultLimit)
	UserAgent string               // the User-Agent requests must carry ("" for any "incident/...")
	Reporter  fakeservice.Reporter // gets protocol problems; when it has Cleanup(func()) (a *testing.T), Close is registered there
}

// Server is the fake instance.
type Server struct {
	*fakeservice.Faults
	URL   string
	Token string

	ua string

	mu       sync.Mutex
	token    string
	limit    int
	statuses []Status
	byKey    map[string]int // Idempotency-Key -> index in statuses
	keys     []string       // the Idempotency-Key of every status POST
	nextID   int64
}

// Status is a status the instance holds.
type Status struct {
	ID, Text, InReplyTo, Visibility, Language string
	IdempotencyKey                            string // the key of the request that made it
}

// NewServer starts an instance on loopback.
func NewServer(o Options) *Server {
	if o.Token == "" {
		o.Token = DefaultToken
	}
	if o.Limit == 0 {
		o.Limit = DefaultLimit
	}
	s := &Server{Faults: fakeservice.New(o.Reporter), Token: o.Token, token: o.Token, limit: o.Limit, ua: o.UserAgent,
		byKey: map[string]int{}, nextID: FirstID}
	s.URL = s.Serve(s.serve)
	return s
}

// SetToken changes the token the instance accepts (a revoked token).
func (s *Server) SetToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.token = token
}

// SetLimit changes the instance's max_characters.
func (s *Server) SetLimit(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limit = n
}

// Statuses returns every status, oldest first.
func (s *Server) Statuses() []Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.statuses)
}

// Keys returns the Idempotency-Key of every status POST received, repeats included.
func (s *Server) Keys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.keys)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.CheckUserAgent(r, s.ua)
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/api/v2/instance":
		WriteJSON(w, 200, map[string]any{
			"domain": "mastodon.example", "title": "Mastodon", "version": "4.3.0",
			"configuration": map[string]any{"statuses": map[string]any{
				"max_characters": s.limit, "max_media_attachments": 4, "characters_reserved_per_url": 23,
			}},
		})
	case !s.authorized(w, r):
	case r.Method == http.MethodGet && r.URL.Path == "/api/v1/accounts/verify_credentials":
		WriteJSON(w, 200, account())
	case r.Method == http.MethodPost && r.URL.Path == "/api/v1/statuses":
		s.postStatus(w, r)
	default:
		WriteJSON(w, 404, map[string]string{"error": "Record not found"})
	}
}

// authorized checks the bearer token as Doorkeeper does.
func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	if r.Header.Get("Authorization") != "Bearer "+s.token {
		WriteJSON(w, 401, map[string]string{"error": "The access token is invalid"})
		return false
	}
	return true
}

var visibilityRE = regexp.MustCompile(`^(public|unlisted|private|direct)$`)

func (s *Server) postStatus(w http.ResponseWriter, r *http.Request) {
	if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		s.Problemf("POST /api/v1/statuses: Content-Type %q", ct)
	}
	if err := r.ParseForm(); err != nil {
		WriteJSON(w, 400, map[string]string{"error": err.Error()})
		return
	}
	key := r.Header.Get("Idempotency-Key")
	s.keys = append(s.keys, key)
	if i, ok := s.byKey[key]; ok && key != "" {
		WriteJSON(w, 200, render(s.statuses[i]))
		return
	}
	st := Status{Text: r.PostForm.Get("status"), InReplyTo: r.PostForm.Get("in_reply_to_id"),
		Visibility: r.PostForm.Get("visibility"), Language: r.PostForm.Get("language"), IdempotencyKey: key}
	if st.Visibility == "" {
		st.Visibility = "public"
	}
	switch {
	case strings.TrimSpace(st.Text) == "":
		WriteJSON(w, 422, map[string]string{"error": "Validation failed: Text can't be blank"})
		return
	case length(st.Text) > s.limit:
		WriteJSON(w, 422, map[string]string{"error": fmt.Sprintf("Validation failed: Text character limit of %d exceeded", s.limit)})
		return
	case !visibilityRE.MatchString(st.Visibility):
		WriteJSON(w, 422, map[string]string{"error": fmt.Sprintf("'%s' is not a valid visibility", st.Visibility)})
		return
	}
	if st.InReplyTo != "" && s.find(st.InReplyTo) < 0 {
		WriteJSON(w, 404, map[string]string{"error": "Record not found"})
		return
	}
	s.nextID++
	st.ID = fmt.Sprint(s.nextID)
	s.statuses = append(s.statuses, st)
	if key != "" {
		s.byKey[key] = len(s.statuses) - 1
	}
	WriteJSON(w, 200, render(st))
}

func (s *Server) find(id string) int {
	for i, st := range s.statuses {
		if st.ID == id {
			return i
		}
	}
	return -1
}

// render is Mastodon's Status entity, as much of it as clients read.
func render(st Status) map[string]any {
	var reply any
	if st.InReplyTo != "" {
		reply = st.InReplyTo
	}
	return map[string]any{
		"id": st.ID, "created_at": "2026-11-27T10:15:00.000Z", "in_reply_to_id": reply, "in_reply_to_account_id": nil,
		"sensitive": false, "spoiler_text": "", "visibility": st.Visibility, "language": st.Language,
		"uri":     "https://mastodon.example/users/status/statuses/" + st.ID,
		"url":     "https://mastodon.example/@status/" + st.ID,
		"content": "<p>" + st.Text + "</p>", "account": account(), "media_attachments": []any{},
		"mentions": []any{}, "tags": []any{}, "emojis": []any{}, "card": nil, "poll": nil,
	}
}

func account() map[string]any {
	return map[string]any{"id": "109", "username": "status", "acct": "status", "display_name": "Example Mail status",
		"url": "https://mastodon.example/@status", "created_at": "2022-11-01T00:00:00.000Z"}
}

var urlRE = regexp.MustCompile(`https?://\S+`)

// length is the fake's own, simpler rule: URLs as 23, graphemes.
func length(s string) int {
	return uniseg.GraphemeClusterCount(urlRE.ReplaceAllString(s, strings.Repeat("x", 23)))
}

// WriteJSON writes v as a JSON answer.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
