package wordpress

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// fakeWP is a WordPress site's REST API as far as this channel uses it:
// posts (create, edit, list by slug) and users/me, behind application
// password Basic auth, answering with WordPress's own bodies.
type fakeWP struct {
	t        *testing.T
	srv      *httptest.Server
	user     string
	password string

	mu       sync.Mutex
	posts    map[int64]*wpPost
	nextID   int64
	requests []string // "METHOD /path"

	// knobs
	fail       func(w http.ResponseWriter, r *http.Request) bool // answer instead of the real handler when it returns true
	dropCreate bool                                              // create the post, then drop the connection (a lost answer)
	hang       bool                                              // wait until the client gives up
}

type wpPost struct {
	ID         int64
	Title      string
	Content    string
	Status     string
	Slug       string
	Categories []int
	Tags       []int
}

func newFakeWP(t *testing.T) *fakeWP {
	f := &fakeWP{t: t, user: "status-bot", password: "abcd EFGH 1234 ijkl MNOP 6789", posts: map[int64]*wpPost{}, nextID: 100}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func wpError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"code":%q,"message":%q,"data":{"status":%d}}`, code, msg, status)
}

var postPath = regexp.MustCompile(`^/wp-json/wp/v2/posts/(\d+)$`)

func (f *fakeWP) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests = append(f.requests, r.Method+" "+r.URL.Path)
	fail, hang, wantUser, wantPassword := f.fail, f.hang, f.user, f.password
	f.mu.Unlock()
	if r.Header.Get("User-Agent") != "incident/test" {
		f.t.Errorf("User-Agent = %q", r.Header.Get("User-Agent"))
	}
	if hang {
		<-r.Context().Done()
		return
	}
	if fail != nil && fail(w, r) {
		return
	}
	user, pw, ok := r.BasicAuth()
	switch {
	case !ok:
		if r.URL.Path == "/wp-json/wp/v2/users/me" {
			wpError(w, 401, "rest_not_logged_in", "You are not currently logged in.")
		} else {
			wpError(w, 401, "rest_cannot_create", "Sorry, you are not allowed to create posts as this user.")
		}
		return
	case user != wantUser:
		wpError(w, 401, "invalid_username", "Unknown username. Check again or try your email address.")
		return
	case strings.ReplaceAll(pw, " ", "") != strings.ReplaceAll(wantPassword, " ", ""):
		wpError(w, 401, "incorrect_password", "The provided password is an invalid application password.")
		return
	}
	switch {
	case r.URL.Path == "/wp-json/wp/v2/users/me" && r.Method == http.MethodGet:
		writeJSON(w, 200, map[string]any{"id": 7, "name": "Status Bot", "slug": "status-bot"})
	case r.URL.Path == "/wp-json/wp/v2/posts" && r.Method == http.MethodGet:
		f.list(w, r)
	case r.URL.Path == "/wp-json/wp/v2/posts" && r.Method == http.MethodPost:
		f.save(w, r, 0)
	case postPath.MatchString(r.URL.Path) && (r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch):
		id, _ := strconv.ParseInt(postPath.FindStringSubmatch(r.URL.Path)[1], 10, 64)
		f.save(w, r, id)
	default:
		wpError(w, 404, "rest_no_route", "No route was found matching the URL and request method.")
	}
}

func (f *fakeWP) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	statuses := strings.Split(q.Get("status"), ",")
	if q.Get("status") == "" {
		statuses = []string{"publish"}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	out := []map[string]any{}
	for _, id := range f.sortedIDs() {
		p := f.posts[id]
		if q.Get("slug") != "" && p.Slug != q.Get("slug") {
			continue
		}
		if !slices.Contains(statuses, "any") && !slices.Contains(statuses, p.Status) {
			continue
		}
		out = append(out, f.render(p))
	}
	writeJSON(w, 200, out)
}

func (f *fakeWP) sortedIDs() []int64 {
	var ids []int64
	for id := range f.posts {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// save creates (id 0) or edits a post, validating the body the way the
// posts controller does.
func (f *fakeWP) save(w http.ResponseWriter, r *http.Request, id int64) {
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		wpError(w, 400, "rest_invalid_json", "Invalid JSON body passed.")
		return
	}
	var raw map[string]json.RawMessage
	if err := json.NewDecoder(r.Body).Decode(&raw); err != nil {
		wpError(w, 400, "rest_invalid_json", "Invalid JSON body passed.")
		return
	}
	var in struct {
		Title      *string `json:"title"`
		Content    *string `json:"content"`
		Status     *string `json:"status"`
		Slug       *string `json:"slug"`
		Categories []int   `json:"categories"`
		Tags       []int   `json:"tags"`
	}
	b, _ := json.Marshal(raw)
	if err := json.Unmarshal(b, &in); err != nil {
		wpError(w, 400, "rest_invalid_param", "Invalid parameter(s): "+badParam(raw))
		return
	}
	if in.Status != nil && !slices.Contains([]string{"publish", "future", "draft", "pending", "private"}, *in.Status) {
		wpError(w, 400, "rest_invalid_param", "Invalid parameter(s): status")
		return
	}
	f.mu.Lock()
	p := f.posts[id]
	if id != 0 && p == nil {
		f.mu.Unlock()
		wpError(w, 404, "rest_post_invalid_id", "Invalid post ID.")
		return
	}
	created := p == nil
	if created {
		if (in.Title == nil || *in.Title == "") && (in.Content == nil || *in.Content == "") {
			f.mu.Unlock()
			wpError(w, 400, "empty_content", "Content, title, and excerpt are empty.")
			return
		}
		f.nextID++
		p = &wpPost{ID: f.nextID, Status: "draft"}
		f.posts[p.ID] = p
	}
	if in.Title != nil {
		p.Title = *in.Title
	}
	if in.Content != nil {
		p.Content = *in.Content
	}
	if in.Status != nil {
		p.Status = *in.Status
	}
	if in.Categories != nil {
		p.Categories = in.Categories
	}
	if in.Tags != nil {
		p.Tags = in.Tags
	}
	if in.Slug != nil || p.Slug == "" {
		slug := strings.ToLower(p.Title)
		if in.Slug != nil {
			slug = *in.Slug
		}
		p.Slug = f.uniqueSlug(slug, p.ID)
	}
	out := f.render(p)
	drop := created && f.dropCreate
	f.mu.Unlock()
	if drop {
		panic(http.ErrAbortHandler) // the post exists, the client never hears of it
	}
	status := 200
	if created {
		status = 201
	}
	writeJSON(w, status, out)
}

// uniqueSlug appends -2, -3, ... like wp_unique_post_slug.
func (f *fakeWP) uniqueSlug(slug string, self int64) string {
	taken := func(s string) bool {
		for _, p := range f.posts {
			if p.ID != self && p.Slug == s {
				return true
			}
		}
		return false
	}
	cand := slug
	for n := 2; taken(cand); n++ {
		cand = slug + "-" + strconv.Itoa(n)
	}
	return cand
}

func (f *fakeWP) render(p *wpPost) map[string]any {
	link := f.srv.URL + "/?p=" + strconv.FormatInt(p.ID, 10)
	if p.Status == "publish" {
		link = f.srv.URL + "/2026/11/27/" + p.Slug + "/"
	}
	return map[string]any{
		"id": p.ID, "slug": p.Slug, "status": p.Status, "link": link, "type": "post",
		"guid":       map[string]any{"rendered": f.srv.URL + "/?p=" + strconv.FormatInt(p.ID, 10)},
		"title":      map[string]any{"rendered": p.Title},
		"content":    map[string]any{"rendered": p.Content, "protected": false},
		"categories": p.Categories, "tags": p.Tags,
	}
}

func badParam(raw map[string]json.RawMessage) string {
	for _, k := range []string{"title", "content", "status", "slug", "categories", "tags"} {
		if v, ok := raw[k]; ok {
			var x any
			_ = json.Unmarshal(v, &x)
			switch k {
			case "categories", "tags":
				if _, ok := x.([]any); !ok {
					return k
				}
			default:
				if _, ok := x.(string); !ok {
					return k
				}
			}
		}
	}
	return "body"
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// set changes the fake's knobs while requests may be in flight.
func (f *fakeWP) set(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn()
}

func (f *fakeWP) count(prefix string) int {
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

func (f *fakeWP) post(id int64) wpPost {
	f.mu.Lock()
	defer f.mu.Unlock()
	if p := f.posts[id]; p != nil {
		return *p
	}
	return wpPost{}
}
