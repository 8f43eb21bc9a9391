package mastodon

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/rivo/uniseg"
)

// fakeMastodon is a Mastodon instance on loopback: the endpoints the channel
// uses, with Mastodon's authentication, validations, idempotency keys and
// bodies.
type fakeMastodon struct {
	t     *testing.T
	srv   *httptest.Server
	token string
	limit int // configuration.statuses.max_characters

	mu       sync.Mutex
	statuses []fakeStatus
	byKey    map[string]int // Idempotency-Key -> index in statuses
	keys     []string       // the Idempotency-Key of every status POST
	nextID   int64

	// intercept, when set, answers a request instead of the instance when it
	// returns true.
	intercept func(w http.ResponseWriter, r *http.Request) bool
	// dropAnswer makes the instance create the status, then drop the
	// connection.
	dropAnswer bool
}

type fakeStatus struct {
	ID, Text, InReplyTo, Visibility, Language string
}

func newFakeMastodon(t *testing.T, token string) *fakeMastodon {
	f := &fakeMastodon{t: t, token: token, limit: 500, byKey: map[string]int{}, nextID: 113500000000000000}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeMastodon) serve(w http.ResponseWriter, r *http.Request) {
	if ua := r.Header.Get("User-Agent"); ua != "incident/test" {
		f.t.Errorf("%s %s: User-Agent %q", r.Method, r.URL.Path, ua)
	}
	f.mu.Lock()
	intercept := f.intercept
	f.mu.Unlock()
	if intercept != nil && intercept(w, r) {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/api/v2/instance":
		writeJSON(w, 200, map[string]any{
			"domain": "mastodon.example", "title": "Mastodon", "version": "4.3.0",
			"configuration": map[string]any{"statuses": map[string]any{
				"max_characters": f.limit, "max_media_attachments": 4, "characters_reserved_per_url": 23,
			}},
		})
	case !f.authorized(w, r):
	case r.Method == http.MethodGet && r.URL.Path == "/api/v1/accounts/verify_credentials":
		writeJSON(w, 200, f.account())
	case r.Method == http.MethodPost && r.URL.Path == "/api/v1/statuses":
		f.postStatus(w, r)
	default:
		writeJSON(w, 404, map[string]string{"error": "Record not found"})
	}
}

// authorized checks the bearer token as Doorkeeper does.
func (f *fakeMastodon) authorized(w http.ResponseWriter, r *http.Request) bool {
	if r.Header.Get("Authorization") != "Bearer "+f.token {
		writeJSON(w, 401, map[string]string{"error": "The access token is invalid"})
		return false
	}
	return true
}

func (f *fakeMastodon) postStatus(w http.ResponseWriter, r *http.Request) {
	if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		f.t.Errorf("POST /api/v1/statuses: Content-Type %q", ct)
	}
	if err := r.ParseForm(); err != nil {
		writeJSON(w, 400, map[string]string{"error": err.Error()})
		return
	}
	key := r.Header.Get("Idempotency-Key")
	f.keys = append(f.keys, key)
	if i, ok := f.byKey[key]; ok && key != "" {
		writeJSON(w, 200, f.render(f.statuses[i]))
		return
	}
	st := fakeStatus{Text: r.PostForm.Get("status"), InReplyTo: r.PostForm.Get("in_reply_to_id"),
		Visibility: r.PostForm.Get("visibility"), Language: r.PostForm.Get("language")}
	if st.Visibility == "" {
		st.Visibility = "public"
	}
	switch {
	case strings.TrimSpace(st.Text) == "":
		writeJSON(w, 422, map[string]string{"error": "Validation failed: Text can't be blank"})
		return
	case mastodonLength(st.Text) > f.limit:
		writeJSON(w, 422, map[string]string{"error": fmt.Sprintf("Validation failed: Text character limit of %d exceeded", f.limit)})
		return
	case !regexp.MustCompile(`^(public|unlisted|private|direct)$`).MatchString(st.Visibility):
		writeJSON(w, 422, map[string]string{"error": fmt.Sprintf("'%s' is not a valid visibility", st.Visibility)})
		return
	}
	if st.InReplyTo != "" && f.find(st.InReplyTo) < 0 {
		writeJSON(w, 404, map[string]string{"error": "Record not found"})
		return
	}
	f.nextID++
	st.ID = fmt.Sprint(f.nextID)
	f.statuses = append(f.statuses, st)
	if key != "" {
		f.byKey[key] = len(f.statuses) - 1
	}
	if f.dropAnswer {
		panic(http.ErrAbortHandler)
	}
	writeJSON(w, 200, f.render(st))
}

func (f *fakeMastodon) find(id string) int {
	for i, s := range f.statuses {
		if s.ID == id {
			return i
		}
	}
	return -1
}

// render is Mastodon's Status entity, as much of it as clients read.
func (f *fakeMastodon) render(st fakeStatus) map[string]any {
	var reply any
	if st.InReplyTo != "" {
		reply = st.InReplyTo
	}
	return map[string]any{
		"id": st.ID, "created_at": "2026-11-27T10:15:00.000Z", "in_reply_to_id": reply, "in_reply_to_account_id": nil,
		"sensitive": false, "spoiler_text": "", "visibility": st.Visibility, "language": st.Language,
		"uri":     "https://mastodon.example/users/status/statuses/" + st.ID,
		"url":     "https://mastodon.example/@status/" + st.ID,
		"content": "<p>" + st.Text + "</p>", "account": f.account(), "media_attachments": []any{},
		"mentions": []any{}, "tags": []any{}, "emojis": []any{}, "card": nil, "poll": nil,
	}
}

func (f *fakeMastodon) account() map[string]any {
	return map[string]any{"id": "109", "username": "status", "acct": "status", "display_name": "Example Mail status",
		"url": "https://mastodon.example/@status", "created_at": "2022-11-01T00:00:00.000Z"}
}

// set changes the instance's behaviour between requests.
func (f *fakeMastodon) set(change func(f *fakeMastodon)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	change(f)
}

// posted returns the statuses and the Idempotency-Keys received.
func (f *fakeMastodon) posted() ([]fakeStatus, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeStatus(nil), f.statuses...), append([]string(nil), f.keys...)
}

var fakeURLRE = regexp.MustCompile(`https?://\S+`)

// mastodonLength is the fake's own, simpler rule: URLs as 23, graphemes.
func mastodonLength(s string) int {
	return uniseg.GraphemeClusterCount(fakeURLRE.ReplaceAllString(s, strings.Repeat("x", 23)))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
