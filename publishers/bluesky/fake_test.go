package bluesky

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rivo/uniseg"
)

// fakePDS is an AT Protocol PDS as far as this channel uses it: sessions
// (createSession, refreshSession, getSession) and records (createRecord,
// getRecord of app.bsky.feed.post), with the PDS's own answers: bearer
// tokens checked as it does (an expired access token is 400 ExpiredToken, a
// used refresh token is revoked), records validated against the lexicon,
// XRPC error bodies, and a second createRecord with a taken record key
// answered 500 InternalServerError, as today's PDS does
// (bluesky-social/atproto issue 3718).
type fakePDS struct {
	t   *testing.T
	srv *httptest.Server

	handle, did, password string

	mu        sync.Mutex
	access    map[string]bool // live access tokens: true valid, false expired
	refresh   map[string]bool // live refresh tokens
	issued    []string        // every token handed out, for secret checks
	records   map[string]pdsRecord
	logins    int // createSession calls
	refreshes int // successful refreshSession calls
	creates   []map[string]any
	requests  []string

	// knobs
	fail       func(w http.ResponseWriter, r *http.Request) bool // answer instead of the PDS when it returns true
	dropCreate bool                                              // create the record, then drop the connection
	hang       bool                                              // wait until the client gives up
}

type pdsRecord struct {
	URI, CID string
	Value    map[string]any
}

const appPassword = "abcd-efgh-ijkl-mnop"

func newFakePDS(t *testing.T) *fakePDS {
	f := &fakePDS{t: t, handle: "examplemail.bsky.social", did: "did:plc:ewvi7nxzyoun6zhxrhs64oiz", password: appPassword,
		access: map[string]bool{}, refresh: map[string]bool{}, records: map[string]pdsRecord{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func xrpcError(w http.ResponseWriter, status int, name, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"error":%q,"message":%q}`, name, msg)
}

func pdsJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	json.NewEncoder(w).Encode(v)
}

func (f *fakePDS) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests = append(f.requests, r.Method+" "+r.URL.Path)
	fail, hang := f.fail, f.hang
	f.mu.Unlock()
	if ua := r.Header.Get("User-Agent"); ua != "incident/test" {
		f.t.Errorf("User-Agent = %q", ua)
	}
	if hang {
		io.Copy(io.Discard, r.Body) // the server notices a gone client only once the body is read
		<-r.Context().Done()
		return
	}
	if fail != nil && fail(w, r) {
		return
	}
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
		xrpcError(w, http.StatusNotImplemented, "MethodNotImplemented", "Method Not Implemented")
	case r.Method != method:
		xrpcError(w, http.StatusMethodNotAllowed, "InvalidRequest", "Incorrect HTTP method ("+r.Method+") expected "+method)
	case nsid == "com.atproto.server.createSession":
		f.createSession(w, r)
	case nsid == "com.atproto.server.refreshSession":
		f.refreshSession(w, r)
	case nsid == "com.atproto.server.getSession":
		if f.authorize(w, r) {
			pdsJSON(w, map[string]any{"handle": f.handle, "did": f.did, "email": "ops@example.com", "emailConfirmed": true, "active": true})
		}
	case nsid == "com.atproto.repo.createRecord":
		if f.authorize(w, r) {
			f.createRecord(w, r)
		}
	default:
		f.getRecord(w, r)
	}
}

// newSession issues a token pair; f.mu is held.
func (f *fakePDS) newSession() map[string]any {
	tok := func(kind string) string {
		b := make([]byte, 24)
		rand.Read(b)
		return "eyJ0eXAiOiJ" + kind + "." + base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)
	}
	a, rf := tok("at+jwt"), tok("refresh+jwt")
	f.access[a], f.refresh[rf] = true, true
	f.issued = append(f.issued, a, rf)
	return map[string]any{"accessJwt": a, "refreshJwt": rf, "handle": f.handle, "did": f.did, "active": true,
		"didDoc": map[string]any{"id": f.did, "alsoKnownAs": []string{"at://" + f.handle}}}
}

func (f *fakePDS) createSession(w http.ResponseWriter, r *http.Request) {
	var in map[string]any
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		xrpcError(w, http.StatusBadRequest, "InvalidRequest", "Invalid JSON body")
		return
	}
	for _, k := range []string{"identifier", "password"} {
		if _, ok := in[k].(string); !ok {
			xrpcError(w, http.StatusBadRequest, "InvalidRequest", fmt.Sprintf("Input must have the property %q", k))
			return
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.logins++
	if (in["identifier"] != f.handle && in["identifier"] != f.did) || in["password"] != f.password {
		xrpcError(w, http.StatusUnauthorized, "AuthenticationRequired", "Invalid identifier or password")
		return
	}
	pdsJSON(w, f.newSession())
}

func (f *fakePDS) refreshSession(w http.ResponseWriter, r *http.Request) {
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case tok == "":
		xrpcError(w, http.StatusUnauthorized, "AuthenticationRequired", "Authentication Required")
	case f.access[tok]:
		xrpcError(w, http.StatusBadRequest, "InvalidToken", "Invalid token type")
	case !f.refresh[tok]:
		xrpcError(w, http.StatusBadRequest, "ExpiredToken", "Token has been revoked")
	default:
		delete(f.refresh, tok) // refresh tokens are single-use
		f.refreshes++
		pdsJSON(w, f.newSession())
	}
}

// authorize checks the access token of a call that needs one.
func (f *fakePDS) authorize(w http.ResponseWriter, r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	f.mu.Lock()
	valid, live := f.access[tok]
	f.mu.Unlock()
	switch {
	case !ok || tok == "":
		xrpcError(w, http.StatusUnauthorized, "AuthenticationRequired", "Authentication Required")
	case !live:
		xrpcError(w, http.StatusUnauthorized, "InvalidToken", "Token could not be verified")
	case !valid:
		xrpcError(w, http.StatusBadRequest, "ExpiredToken", "Token has expired")
	default:
		return true
	}
	return false
}

var tidPattern = regexp.MustCompile(`^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$`)

func (f *fakePDS) createRecord(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var in struct {
		Repo       string         `json:"repo"`
		Collection string         `json:"collection"`
		Rkey       string         `json:"rkey"`
		Record     map[string]any `json:"record"`
	}
	var raw map[string]any
	if json.Unmarshal(body, &in) != nil || json.Unmarshal(body, &raw) != nil {
		xrpcError(w, http.StatusBadRequest, "InvalidRequest", "Invalid JSON body")
		return
	}
	switch {
	case in.Repo != f.did && in.Repo != f.handle:
		xrpcError(w, http.StatusUnauthorized, "AuthenticationRequired", "Authentication Required")
		return
	case in.Collection != "app.bsky.feed.post":
		xrpcError(w, http.StatusBadRequest, "InvalidRequest", "Input/collection must be a valid NSID of a known collection")
		return
	case !tidPattern.MatchString(in.Rkey):
		xrpcError(w, http.StatusBadRequest, "InvalidRequest", "Invalid record key for app.bsky.feed.post: must be a TID")
		return
	}
	if msg := validatePost(in.Record); msg != "" {
		xrpcError(w, http.StatusBadRequest, "InvalidRequest", "Invalid app.bsky.feed.post record: "+msg)
		return
	}
	f.mu.Lock()
	f.creates = append(f.creates, raw)
	if _, taken := f.records[in.Rkey]; taken {
		f.mu.Unlock()
		xrpcError(w, http.StatusInternalServerError, "InternalServerError", "Internal Server Error")
		return
	}
	sum := sha256.Sum256(body)
	rec := pdsRecord{URI: "at://" + f.did + "/app.bsky.feed.post/" + in.Rkey,
		CID: "bafyrei" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:])), Value: in.Record}
	f.records[in.Rkey] = rec
	drop := f.dropCreate
	f.mu.Unlock()
	if drop {
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			conn.Close()
		}
		return
	}
	pdsJSON(w, map[string]any{"uri": rec.URI, "cid": rec.CID, "validationStatus": "valid",
		"commit": map[string]string{"cid": "bafyreicommit", "rev": "3lbfmhtjwkc2k"}})
}

// validatePost checks a record against the app.bsky.feed.post lexicon (the
// parts this channel writes) and returns the PDS's complaint, or "".
func validatePost(rec map[string]any) string {
	text, ok := rec["text"].(string)
	switch {
	case rec["$type"] != "app.bsky.feed.post":
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
		json.Unmarshal(b, &fc)
		s, e := fc.Index.ByteStart, fc.Index.ByteEnd
		if s == nil || e == nil || *s < 0 || *e > len(text) || *s >= *e || len(fc.Features) == 0 {
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

func (f *fakePDS) getRecord(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	for _, k := range []string{"repo", "collection", "rkey"} {
		if q.Get(k) == "" {
			xrpcError(w, http.StatusBadRequest, "InvalidRequest", fmt.Sprintf("Error: Params must have the property %q", k))
			return
		}
	}
	f.mu.Lock()
	rec, ok := f.records[q.Get("rkey")]
	f.mu.Unlock()
	uri := "at://" + q.Get("repo") + "/" + q.Get("collection") + "/" + q.Get("rkey")
	if !ok || (q.Get("repo") != f.did && q.Get("repo") != f.handle) || q.Get("collection") != "app.bsky.feed.post" {
		xrpcError(w, http.StatusBadRequest, "RecordNotFound", "Could not locate record: "+uri)
		return
	}
	pdsJSON(w, map[string]any{"uri": rec.URI, "cid": rec.CID, "value": rec.Value})
}

// set changes the fake's state while it may be serving.
func (f *fakePDS) set(change func(f *fakePDS)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	change(f)
}

// expireAccess makes every access token expire, as two hours do.
func (f *fakePDS) expireAccess() {
	f.set(func(f *fakePDS) {
		for k := range f.access {
			f.access[k] = false
		}
	})
}

// secrets returns the app password and every token the fake issued.
func (f *fakePDS) secrets() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string{f.password}, f.issued...)
}

func (f *fakePDS) lastCreate() map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.creates) == 0 {
		return nil
	}
	return f.creates[len(f.creates)-1]
}

func (f *fakePDS) count(path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(slices.DeleteFunc(slices.Clone(f.requests), func(s string) bool { return !strings.HasSuffix(s, path) }))
}
