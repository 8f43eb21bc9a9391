// Package blueskytest is an AT Protocol PDS on loopback, as far as the
// bluesky channel uses it: sessions (createSession, refreshSession,
// getSession) and records (createRecord, getRecord of app.bsky.feed.post),
// with the PDS's own answers: bearer tokens checked as it does (an expired
// access token is 400 ExpiredToken, a used refresh token is revoked),
// records validated against the lexicon, record keys that must be TIDs,
// XRPC error bodies, and a second createRecord with a taken record key
// answered 500 InternalServerError, as today's PDS does
// (bluesky-social/atproto issue 3718). Faults are injected per request (see
// Server.Fail, Hang, Malformed, DropAnswer, RateLimit).
package blueskytest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rivo/uniseg"

	"github.com/incident-cli/incident/publishers/fakeservice"
)

// Defaults: the account and its app password.
const (
	DefaultHandle   = "examplemail.bsky.social"
	DefaultDID      = "did:plc:ewvi7nxzyoun6zhxrhs64oiz"
	DefaultPassword = "abcd-efgh-ijkl-mnop"
	// Collection is the only collection the PDS takes records in.
	Collection = "app.bsky.feed.post"
)

// Options configure a Server; the zero value works.
type Options struct {
	Handle, DID string               // the account (DefaultHandle, DefaultDID)
	Password    string               // the app password it accepts (DefaultPassword)
	UserAgent   string               // the User-Agent requests must carry ("" for any "incident/...")
	Reporter    fakeservice.Reporter // gets protocol problems; when it has Cleanup(func()) (a *testing.T), Close is registered there
}

// Server is the fake PDS.
type Server struct {
	*fakeservice.Faults
	URL                   string
	Handle, DID, Password string

	ua string

	mu        sync.Mutex
	password  string
	access    map[string]bool // live access tokens: true valid, false expired
	refresh   map[string]bool // live refresh tokens
	issued    []string        // every token handed out, for secret checks
	records   map[string]Record
	order     []string // record keys, oldest first
	logins    int      // createSession calls
	refreshes int      // successful refreshSession calls
	creates   []map[string]any
}

// Record is a record the repository holds.
type Record struct {
	Rkey, URI, CID string
	Value          map[string]any
}

// Text returns the post's text.
func (r Record) Text() string { s, _ := r.Value["text"].(string); return s }

// Reply returns the URIs of the post's reply root and parent ("" when it is
// no reply).
func (r Record) Reply() (root, parent string) {
	reply, _ := r.Value["reply"].(map[string]any)
	ref := func(k string) string {
		m, _ := reply[k].(map[string]any)
		s, _ := m["uri"].(string)
		return s
	}
	return ref("root"), ref("parent")
}

// NewServer starts a PDS on loopback.
func NewServer(o Options) *Server {
	def := func(v, d string) string {
		if v == "" {
			return d
		}
		return v
	}
	s := &Server{Faults: fakeservice.New(o.Reporter), ua: o.UserAgent,
		Handle: def(o.Handle, DefaultHandle), DID: def(o.DID, DefaultDID), Password: def(o.Password, DefaultPassword),
		access: map[string]bool{}, refresh: map[string]bool{}, records: map[string]Record{}}
	s.password = s.Password
	s.URL = s.Serve(s.serve)
	return s
}

// SetPassword changes the app password the PDS accepts (a revoked one).
func (s *Server) SetPassword(pw string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.password = pw
}

// Records returns the repository's records, oldest first.
func (s *Server) Records() []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Record, 0, len(s.order))
	for _, k := range s.order {
		out = append(out, s.records[k])
	}
	return out
}

// Record returns the record with key rkey.
func (s *Server) Record(rkey string) (Record, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.records[rkey]
	return r, ok
}

// PutRecord stores a record under rkey (another post that took the key);
// its URI is filled in when empty.
func (s *Server) PutRecord(rkey string, r Record) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r.Rkey = rkey
	if r.URI == "" {
		r.URI = "at://" + s.DID + "/" + Collection + "/" + rkey
	}
	if _, ok := s.records[rkey]; !ok {
		s.order = append(s.order, rkey)
	}
	s.records[rkey] = r
}

// Logins returns how many times createSession was called.
func (s *Server) Logins() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logins
}

// Refreshes returns how many refreshSession calls succeeded.
func (s *Server) Refreshes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refreshes
}

// ExpireAccess makes every access token expire, as two hours do.
func (s *Server) ExpireAccess() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k := range s.access {
		s.access[k] = false
	}
}

// RevokeRefresh revokes every refresh token.
func (s *Server) RevokeRefresh() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.refresh)
}

// AccessValid reports whether tok is a live, unexpired access token.
func (s *Server) AccessValid(tok string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.access[tok]
}

// Secrets returns the app password and every token the PDS issued.
func (s *Server) Secrets() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string{s.Password}, s.issued...)
}

// Creates returns the JSON bodies of every createRecord that passed
// validation, refused ones (a taken key) included.
func (s *Server) Creates() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.creates)
}

// RateLimit answers the next times requests 429 RateLimitExceeded with the
// PDS's ratelimit-* headers, the window resetting at reset.
func (s *Server) RateLimit(reset time.Time, times int) {
	s.Inject(fakeservice.Fault{Mode: fakeservice.Answer, Status: http.StatusTooManyRequests, Times: times,
		Body: `{"error":"RateLimitExceeded","message":"Rate Limit Exceeded"}`,
		Headers: map[string]string{"ratelimit-limit": "30", "ratelimit-remaining": "0",
			"ratelimit-reset": strconv.FormatInt(reset.Unix(), 10), "ratelimit-policy": "30;w=300"}})
}

// WriteError writes an XRPC error body.
func WriteError(w http.ResponseWriter, status int, name, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"error":%q,"message":%q}`, name, msg)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.CheckUserAgent(r, s.ua)
	nsid, ok := strings.CutPrefix(r.URL.Path, "/xrpc/")
	if !ok {
		http.Error(w, "Cannot "+r.Method+" "+r.URL.Path, http.StatusNotFound)
		return
	}
	method := map[string]string{
		"com.atproto.server.createSession":  http.MethodPost,
		"com.atproto.server.refreshSession": http.MethodPost,
		"com.atproto.server.getSession":     http.MethodGet,
		"com.atproto.repo.createRecord":     http.MethodPost,
		"com.atproto.repo.getRecord":        http.MethodGet,
	}[nsid]
	switch {
	case method == "":
		WriteError(w, http.StatusNotImplemented, "MethodNotImplemented", "Method Not Implemented")
	case r.Method != method:
		WriteError(w, http.StatusMethodNotAllowed, "InvalidRequest", "Incorrect HTTP method ("+r.Method+") expected "+method)
	case nsid == "com.atproto.server.createSession":
		s.createSession(w, r)
	case nsid == "com.atproto.server.refreshSession":
		s.refreshSession(w, r)
	case nsid == "com.atproto.server.getSession":
		if s.authorize(w, r) {
			writeJSON(w, map[string]any{"handle": s.Handle, "did": s.DID, "email": "ops@example.com", "emailConfirmed": true, "active": true})
		}
	case nsid == "com.atproto.repo.createRecord":
		if s.authorize(w, r) {
			s.createRecord(w, r)
		}
	default:
		s.getRecord(w, r)
	}
}

// newSession issues a token pair; s.mu is held.
func (s *Server) newSession() map[string]any {
	tok := func(kind string) string {
		b := make([]byte, 24)
		_, _ = rand.Read(b)
		return "eyJ0eXAiOiJ" + kind + "." + base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)
	}
	a, rf := tok("at+jwt"), tok("refresh+jwt")
	s.access[a], s.refresh[rf] = true, true
	s.issued = append(s.issued, a, rf)
	return map[string]any{"accessJwt": a, "refreshJwt": rf, "handle": s.Handle, "did": s.DID, "active": true,
		"didDoc": map[string]any{"id": s.DID, "alsoKnownAs": []string{"at://" + s.Handle}}}
}

func (s *Server) createSession(w http.ResponseWriter, r *http.Request) {
	var in map[string]any
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		WriteError(w, http.StatusBadRequest, "InvalidRequest", "Invalid JSON body")
		return
	}
	for _, k := range []string{"identifier", "password"} {
		if _, ok := in[k].(string); !ok {
			WriteError(w, http.StatusBadRequest, "InvalidRequest", fmt.Sprintf("Input must have the property %q", k))
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.logins++
	if (in["identifier"] != s.Handle && in["identifier"] != s.DID) || in["password"] != s.password {
		WriteError(w, http.StatusUnauthorized, "AuthenticationRequired", "Invalid identifier or password")
		return
	}
	writeJSON(w, s.newSession())
}

func (s *Server) refreshSession(w http.ResponseWriter, r *http.Request) {
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case tok == "":
		WriteError(w, http.StatusUnauthorized, "AuthenticationRequired", "Authentication Required")
	case s.access[tok]:
		WriteError(w, http.StatusBadRequest, "InvalidToken", "Invalid token type")
	case !s.refresh[tok]:
		WriteError(w, http.StatusBadRequest, "ExpiredToken", "Token has been revoked")
	default:
		delete(s.refresh, tok) // refresh tokens are single-use
		s.refreshes++
		writeJSON(w, s.newSession())
	}
}

// authorize checks the access token of a call that needs one.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	valid, live := s.access[tok]
	s.mu.Unlock()
	switch {
	case !ok || tok == "":
		WriteError(w, http.StatusUnauthorized, "AuthenticationRequired", "Authentication Required")
	case !live:
		WriteError(w, http.StatusUnauthorized, "InvalidToken", "Token could not be verified")
	case !valid:
		WriteError(w, http.StatusBadRequest, "ExpiredToken", "Token has expired")
	default:
		return true
	}
	return false
}

// TIDPattern is what a record key must look like: a TID (timestamp
// identifier), 13 characters of base32-sortable.
var TIDPattern = regexp.MustCompile(`^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$`)

func (s *Server) createRecord(w http.ResponseWriter, r *http.Request) {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		s.Problemf("POST %s: Content-Type %q", r.URL.Path, ct)
	}
	body, _ := io.ReadAll(r.Body)
	var in struct {
		Repo       string         `json:"repo"`
		Collection string         `json:"collection"`
		Rkey       string         `json:"rkey"`
		Record     map[string]any `json:"record"`
	}
	var raw map[string]any
	if json.Unmarshal(body, &in) != nil || json.Unmarshal(body, &raw) != nil {
		WriteError(w, http.StatusBadRequest, "InvalidRequest", "Invalid JSON body")
		return
	}
	switch {
	case in.Repo != s.DID && in.Repo != s.Handle:
		WriteError(w, http.StatusUnauthorized, "AuthenticationRequired", "Authentication Required")
		return
	case in.Collection != Collection:
		WriteError(w, http.StatusBadRequest, "InvalidRequest", "Input/collection must be a valid NSID of a known collection")
		return
	case !TIDPattern.MatchString(in.Rkey):
		WriteError(w, http.StatusBadRequest, "InvalidRequest", "Invalid record key for app.bsky.feed.post: must be a TID")
		return
	}
	if msg := validatePost(in.Record); msg != "" {
		WriteError(w, http.StatusBadRequest, "InvalidRequest", "Invalid app.bsky.feed.post record: "+msg)
		return
	}
	s.mu.Lock()
	s.creates = append(s.creates, raw)
	if _, taken := s.records[in.Rkey]; taken {
		s.mu.Unlock()
		WriteError(w, http.StatusInternalServerError, "InternalServerError", "Internal Server Error")
		return
	}
	sum := sha256.Sum256(body)
	rec := Record{Rkey: in.Rkey, URI: "at://" + s.DID + "/" + Collection + "/" + in.Rkey,
		CID: "bafyrei" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:])), Value: in.Record}
	s.records[in.Rkey] = rec
	s.order = append(s.order, in.Rkey)
	s.mu.Unlock()
	writeJSON(w, map[string]any{"uri": rec.URI, "cid": rec.CID, "validationStatus": "valid",
		"commit": map[string]string{"cid": "bafyreicommit", "rev": "3lbfmhtjwkc2k"}})
}

// validatePost checks a record against the app.bsky.feed.post lexicon (the
// parts the channel writes) and returns the PDS's complaint, or "".
func validatePost(rec map[string]any) string {
	text, ok := rec["text"].(string)
	switch {
	case rec["$type"] != Collection:
		return "Record/$type must be app.bsky.feed.post"
	case !ok:
		return `Record must have the property "text"`
	case uniseg.GraphemeClusterCount(text) > 300:
		return "Record/text must not be longer than 300 graphemes"
	case len(text) > 3000:
		return "Record/text must not be longer than 3000 characters"
	}
	created, _ := rec["createdAt"].(string)
	if _, err := time.Parse(time.RFC3339Nano, created); err != nil {
		return "Record/createdAt must be an valid atproto datetime (both RFC-3339 and ISO-8601)"
	}
	facets, _ := rec["facets"].([]any)
	for i, fa := range facets {
		var fc struct {
			Index struct {
				ByteStart *int `json:"byteStart"`
				ByteEnd   *int `json:"byteEnd"`
			} `json:"index"`
			Features []struct {
				Type string `json:"$type"`
				URI  string `json:"uri"`
			} `json:"features"`
		}
		b, _ := json.Marshal(fa)
		_ = json.Unmarshal(b, &fc)
		st, e := fc.Index.ByteStart, fc.Index.ByteEnd
		if st == nil || e == nil || *st < 0 || *e > len(text) || *st >= *e || len(fc.Features) == 0 {
			return fmt.Sprintf("Record/facets/%d/index must be a byte range of the text", i)
		}
		for _, ft := range fc.Features {
			if u, err := url.Parse(ft.URI); ft.Type != "app.bsky.richtext.facet#link" || err != nil || u.Scheme == "" {
				return fmt.Sprintf("Record/facets/%d/features must be a link with a uri", i)
			}
		}
	}
	if reply, ok := rec["reply"].(map[string]any); ok {
		for _, k := range []string{"root", "parent"} {
			ref, _ := reply[k].(map[string]any)
			uri, _ := ref["uri"].(string)
			cid, _ := ref["cid"].(string)
			if !strings.HasPrefix(uri, "at://") || cid == "" {
				return "Record/reply/" + k + " must be a strong reference (uri and cid)"
			}
		}
	}
	return ""
}

func (s *Server) getRecord(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	for _, k := range []string{"repo", "collection", "rkey"} {
		if q.Get(k) == "" {
			WriteError(w, http.StatusBadRequest, "InvalidRequest", fmt.Sprintf("Error: Params must have the property %q", k))
			return
		}
	}
	s.mu.Lock()
	rec, ok := s.records[q.Get("rkey")]
	s.mu.Unlock()
	uri := "at://" + q.Get("repo") + "/" + q.Get("collection") + "/" + q.Get("rkey")
	if !ok || (q.Get("repo") != s.DID && q.Get("repo") != s.Handle) || q.Get("collection") != Collection {
		WriteError(w, http.StatusBadRequest, "RecordNotFound", "Could not locate record: "+uri)
		return
	}
	writeJSON(w, map[string]any{"uri": rec.URI, "cid": rec.CID, "value": rec.Value})
}
