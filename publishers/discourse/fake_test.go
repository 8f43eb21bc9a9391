package discourse

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
)

// fakeDiscourse is a Discourse forum on loopback: the endpoints the channel
// uses, with Discourse's authentication, validations and bodies.
type fakeDiscourse struct {
	t        *testing.T
	srv      *httptest.Server
	key      string
	username string

	mu       sync.Mutex
	topics   map[int64]*fakeTopic
	nextPost int64
	nextTop  int64
	requests []string // "METHOD path" of every request

	// intercept, when set, answers a request instead of the forum when it
	// returns true.
	intercept func(w http.ResponseWriter, r *http.Request) bool
	// dropAnswer, when set, makes the forum create the post and then drop
	// the connection: the client never learns the outcome.
	dropAnswer bool
}

type fakeTopic struct {
	id         int64
	slug       string
	title      string
	category   int
	externalID string
	posts      []post
}

const fakeCategory = 7

func newFakeDiscourse(t *testing.T, key, username string) *fakeDiscourse {
	f := &fakeDiscourse{t: t, key: key, username: username, topics: map[int64]*fakeTopic{}, nextPost: 100, nextTop: 40}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

var (
	reExternal  = regexp.MustCompile(`^/t/external_id/([\w-]+)\.json$`)
	reTopic     = regexp.MustCompile(`^/t/(?:[\w-]+/)?(\d+)\.json$`)
	reTopicPost = regexp.MustCompile(`^/t/(\d+)/posts\.json$`)
	reUser      = regexp.MustCompile(`^/u/([\w.-]+)\.json$`)
)

func (f *fakeDiscourse) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests = append(f.requests, r.Method+" "+r.URL.Path)
	intercept, key := f.intercept, f.key
	f.mu.Unlock()
	if r.Header.Get("User-Agent") != "incident/test" {
		f.t.Errorf("%s %s: User-Agent %q", r.Method, r.URL.Path, r.Header.Get("User-Agent"))
	}
	if intercept != nil && intercept(w, r) {
		return
	}
	// Discourse refuses a wrong key or username on every route.
	if r.Header.Get("Api-Key") != key || !strings.EqualFold(r.Header.Get("Api-Username"), f.username) {
		writeJSON(w, 403, map[string]any{
			"errors":     []string{"You are not permitted to view the requested resource. The API username or key is invalid."},
			"error_type": "invalid_access",
		})
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	p := r.URL.Path
	switch {
	case r.Method == http.MethodPost && p == "/posts.json":
		f.createPost(w, r)
	case r.Method == http.MethodGet && p == "/session/current.json":
		writeJSON(w, 200, map[string]any{"current_user": map[string]any{"id": 3, "username": f.username, "admin": true}})
	case r.Method == http.MethodGet && reUser.MatchString(p):
		name := reUser.FindStringSubmatch(p)[1]
		if !strings.EqualFold(name, f.username) {
			notFound(w)
			return
		}
		writeJSON(w, 200, map[string]any{"user": map[string]any{"id": 3, "username": f.username}})
	case r.Method == http.MethodGet && reExternal.MatchString(p):
		ext := reExternal.FindStringSubmatch(p)[1]
		for _, t := range f.topics {
			if t.externalID == ext {
				// TopicsController#show_by_external_id redirects to the topic.
				http.Redirect(w, r, fmt.Sprintf("/t/%s/%d.json", t.slug, t.id), http.StatusMovedPermanently)
				return
			}
		}
		notFound(w)
	case r.Method == http.MethodGet && reTopic.MatchString(p):
		id, _ := strconv.ParseInt(reTopic.FindStringSubmatch(p)[1], 10, 64)
		t := f.topics[id]
		if t == nil {
			notFound(w)
			return
		}
		// The first chunk of posts, and every id in the stream.
		raw := r.URL.Query().Get("include_raw") != ""
		var stream []int64
		for _, ps := range t.posts {
			stream = append(stream, ps.ID)
		}
		writeJSON(w, 200, map[string]any{
			"id": t.id, "slug": t.slug, "title": t.title, "category_id": t.category, "posts_count": len(t.posts),
			"post_stream": map[string]any{"posts": f.render(t.posts[:min(len(t.posts), 20)], raw), "stream": stream},
		})
	case r.Method == http.MethodGet && reTopicPost.MatchString(p):
		id, _ := strconv.ParseInt(reTopicPost.FindStringSubmatch(p)[1], 10, 64)
		t := f.topics[id]
		ids := r.URL.Query()["post_ids[]"]
		if t == nil {
			notFound(w)
			return
		}
		if len(ids) == 0 {
			writeJSON(w, 400, map[string]any{"errors": []string{"param is missing or the value is empty: post_ids"}, "error_type": "invalid_parameters"})
			return
		}
		var sel []post
		for _, ps := range t.posts {
			for _, s := range ids {
				if strconv.FormatInt(ps.ID, 10) == s {
					sel = append(sel, ps)
				}
			}
		}
		writeJSON(w, 200, map[string]any{"id": t.id, "post_stream": map[string]any{"posts": f.render(sel, r.URL.Query().Get("include_raw") != "")}})
	default:
		notFound(w)
	}
}

// createPost implements POST /posts.json: a new topic, or a reply by topic_id.
func (f *fakeDiscourse) createPost(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		f.t.Errorf("POST /posts.json: Content-Type %q", r.Header.Get("Content-Type"))
	}
	var in struct {
		Title      string `json:"title"`
		Raw        string `json:"raw"`
		Category   *int   `json:"category"`
		TopicID    *int64 `json:"topic_id"`
		ExternalID string `json:"external_id"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeJSON(w, 400, map[string]any{"errors": []string{"invalid JSON"}, "error_type": "invalid_parameters"})
		return
	}
	var errs []string
	if strings.TrimSpace(in.Raw) == "" {
		errs = append(errs, "Body can't be blank")
	} else if n := utf8.RuneCountInString(in.Raw); n > MaxPostLength {
		errs = append(errs, fmt.Sprintf("Body is limited to %d characters; you entered %d.", MaxPostLength, n))
	} else if n < 20 {
		errs = append(errs, "Body is too short (minimum is 20 characters)")
	}
	var t *fakeTopic
	if in.TopicID != nil {
		if t = f.topics[*in.TopicID]; t == nil {
			notFound(w)
			return
		}
	} else {
		switch {
		case utf8.RuneCountInString(in.Title) < 15:
			errs = append(errs, "Title is too short (minimum is 15 characters)")
		case in.Category == nil || *in.Category != fakeCategory:
			errs = append(errs, "Category can't be blank")
		case len(in.ExternalID) > 50:
			errs = append(errs, "External ID is too long (maximum is 50 characters)")
		}
		for _, o := range f.topics {
			if strings.EqualFold(o.title, in.Title) {
				errs = append(errs, "Title has already been used")
			}
			if in.ExternalID != "" && o.externalID == in.ExternalID {
				errs = append(errs, "External ID has already been taken")
			}
		}
	}
	if len(errs) > 0 {
		writeJSON(w, 422, map[string]any{"action": "create_post", "errors": errs})
		return
	}
	if t == nil {
		f.nextTop++
		slug := strings.Trim(regexp.MustCompile(`[^a-z0-9]+`).ReplaceAllString(strings.ToLower(in.Title), "-"), "-")
		t = &fakeTopic{id: f.nextTop, slug: slug, title: in.Title, category: *in.Category, externalID: in.ExternalID}
		f.topics[t.id] = t
	}
	f.nextPost++
	ps := post{ID: f.nextPost, TopicID: t.id, TopicSlug: t.slug, PostNumber: len(t.posts) + 1, Username: f.username, Raw: in.Raw}
	t.posts = append(t.posts, ps)
	if f.dropAnswer {
		panic(http.ErrAbortHandler)
	}
	writeJSON(w, 200, f.render([]post{ps}, true)[0])
}

// render is Discourse's post serializer, with raw only when asked for.
func (f *fakeDiscourse) render(posts []post, raw bool) []map[string]any {
	out := []map[string]any{}
	for _, ps := range posts {
		m := map[string]any{
			"id": ps.ID, "topic_id": ps.TopicID, "topic_slug": ps.TopicSlug, "post_number": ps.PostNumber,
			"username": ps.Username, "cooked": "<p>" + ps.Raw + "</p>", "post_url": fmt.Sprintf("/t/%s/%d/%d", ps.TopicSlug, ps.TopicID, ps.PostNumber),
		}
		if raw {
			m["raw"] = ps.Raw
		}
		out = append(out, m)
	}
	return out
}

// set changes the forum's behaviour between requests.
func (f *fakeDiscourse) set(change func(f *fakeDiscourse)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	change(f)
}

// seen returns the requests so far.
func (f *fakeDiscourse) seen() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.requests...)
}

// count returns how many posts the forum holds.
func (f *fakeDiscourse) count() (topics, posts int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, t := range f.topics {
		posts += len(t.posts)
	}
	return len(f.topics), posts
}

func notFound(w http.ResponseWriter) {
	writeJSON(w, 404, map[string]any{"errors": []string{"The requested URL or resource could not be found."}, "error_type": "not_found"})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
