// Package discoursetest is a Discourse forum on loopback, as far as the
// discourse channel uses it: POST /posts.json (new topics by category,
// replies by topic_id), topics by id and by external_id, posts by id, the
// current session and users, with Discourse's authentication (Api-Key and
// Api-Username), validations and bodies. Faults are injected per request
// (see Server.Fail, Hang, Malformed, DropAnswer).
package discoursetest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/incident-cli/incident/publishers/fakeservice"
)

// Defaults.
const (
	DefaultAPIKey   = "d1sc0urse-api-key-0123456789abcdef"
	DefaultUsername = "status-bot"
	DefaultCategory = 7
	// MaxPostLength is the site setting max_post_length of a fresh install.
	MaxPostLength = 32000
)

// Options configure a Server; the zero value works.
type Options struct {
	APIKey    string               // the admin API key the forum accepts (DefaultAPIKey)
	Username  string               // the user the key may post as (DefaultUsername)
	Category  int                  // the one category topics may go into (DefaultCategory)
	UserAgent string               // the User-Agent requests must carry ("" for any "incident/...")
	Reporter  fakeservice.Reporter // gets protocol problems; when it has Cleanup(func()) (a *testing.T), Close is registered there
}

// Server is the fake forum.
type Server struct {
	*fakeservice.Faults
	URL      string
	APIKey   string
	Username string
	Category int

	ua string

	mu       sync.Mutex
	key      string // what the forum accepts now (SetAPIKey)
	topics   map[int64]*topic
	nextPost int64
	nextTop  int64
}

type topic struct {
	id         int64
	slug       string
	title      string
	category   int
	externalID string
	posts      []Post
}

// Topic is a topic the forum holds.
type Topic struct {
	ID         int64
	Slug       string
	Title      string
	Category   int
	ExternalID string // the idempotency marker of a new topic
	Posts      []Post
}

// Post is a post the forum holds.
type Post struct {
	ID         int64
	TopicID    int64 // the reply target: replies go into the topic
	TopicSlug  string
	PostNumber int
	Username   string
	Raw        string
	// Marker is the hash of the idempotency marker "<!-- incident:HASH -->"
	// that ends the raw post, "" when there is none.
	Marker string
}

var markerRE = regexp.MustCompile(`<!-- incident:([0-9a-f]+) -->\s*$`)

// NewServer starts a forum on loopback.
func NewServer(o Options) *Server {
	if o.APIKey == "" {
		o.APIKey = DefaultAPIKey
	}
	if o.Username == "" {
		o.Username = DefaultUsername
	}
	if o.Category == 0 {
		o.Category = DefaultCategory
	}
	s := &Server{Faults: fakeservice.New(o.Reporter), APIKey: o.APIKey, Username: o.Username, Category: o.Category,
		key: o.APIKey, ua: o.UserAgent, topics: map[int64]*topic{}, nextPost: 100, nextTop: 40}
	s.URL = s.Serve(s.serve)
	return s
}

// AddReply adds a reply by another user to a topic: a busy thread.
func (s *Server) AddReply(topicID int64, username, raw string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.topics[topicID]
	if t == nil {
		return
	}
	s.nextPost++
	t.posts = append(t.posts, Post{ID: s.nextPost, TopicID: t.id, TopicSlug: t.slug, PostNumber: len(t.posts) + 1, Username: username, Raw: raw})
}

// SetAPIKey changes the key the forum accepts (a revoked or rotated key).
func (s *Server) SetAPIKey(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.key = key
}

// Topics returns every topic, oldest first, with its posts.
func (s *Server) Topics() []Topic {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Topic
	for _, id := range s.topicIDs() {
		t := s.topics[id]
		out = append(out, Topic{ID: t.id, Slug: t.slug, Title: t.title, Category: t.category, ExternalID: t.externalID, Posts: slices.Clone(t.posts)})
	}
	return out
}

// Posts returns every post, in the order they were made.
func (s *Server) Posts() []Post {
	var out []Post
	for _, t := range s.Topics() {
		out = append(out, t.Posts...)
	}
	slices.SortFunc(out, func(a, b Post) int { return int(a.ID - b.ID) })
	return out
}

// Counts returns how many topics and posts the forum holds.
func (s *Server) Counts() (topics, posts int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.topics {
		posts += len(t.posts)
	}
	return len(s.topics), posts
}

func (s *Server) topicIDs() []int64 {
	var ids []int64
	for id := range s.topics {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

var (
	reExternal  = regexp.MustCompile(`^/t/external_id/([\w-]+)\.json$`)
	reTopic     = regexp.MustCompile(`^/t/(?:[\w-]+/)?(\d+)\.json$`)
	reTopicPost = regexp.MustCompile(`^/t/(\d+)/posts\.json$`)
	reUser      = regexp.MustCompile(`^/u/([\w.-]+)\.json$`)
	reSlug      = regexp.MustCompile(`[^a-z0-9]+`)
)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.CheckUserAgent(r, s.ua)
	s.mu.Lock()
	defer s.mu.Unlock()
	// Discourse refuses a wrong key or username on every route.
	if r.Header.Get("Api-Key") != s.key || !strings.EqualFold(r.Header.Get("Api-Username"), s.Username) {
		WriteJSON(w, 403, map[string]any{
			"errors":     []string{"You are not permitted to view the requested resource. The API username or key is invalid."},
			"error_type": "invalid_access",
		})
		return
	}
	p := r.URL.Path
	switch {
	case r.Method == http.MethodPost && p == "/posts.json":
		s.createPost(w, r)
	case r.Method == http.MethodGet && p == "/session/current.json":
		WriteJSON(w, 200, map[string]any{"current_user": map[string]any{"id": 3, "username": s.Username, "admin": true}})
	case r.Method == http.MethodGet && reUser.MatchString(p):
		name := reUser.FindStringSubmatch(p)[1]
		if !strings.EqualFold(name, s.Username) {
			notFound(w)
			return
		}
		WriteJSON(w, 200, map[string]any{"user": map[string]any{"id": 3, "username": s.Username}})
	case r.Method == http.MethodGet && reExternal.MatchString(p):
		ext := reExternal.FindStringSubmatch(p)[1]
		for _, t := range s.topics {
			if t.externalID == ext {
				// TopicsController#show_by_external_id redirects to the topic.
				http.Redirect(w, r, fmt.Sprintf("/t/%s/%d.json", t.slug, t.id), http.StatusMovedPermanently)
				return
			}
		}
		notFound(w)
	case r.Method == http.MethodGet && reTopic.MatchString(p):
		id, _ := strconv.ParseInt(reTopic.FindStringSubmatch(p)[1], 10, 64)
		t := s.topics[id]
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
		WriteJSON(w, 200, map[string]any{
			"id": t.id, "slug": t.slug, "title": t.title, "category_id": t.category, "posts_count": len(t.posts),
			"post_stream": map[string]any{"posts": render(t.posts[:min(len(t.posts), 20)], raw), "stream": stream},
		})
	case r.Method == http.MethodGet && reTopicPost.MatchString(p):
		id, _ := strconv.ParseInt(reTopicPost.FindStringSubmatch(p)[1], 10, 64)
		t := s.topics[id]
		ids := r.URL.Query()["post_ids[]"]
		if t == nil {
			notFound(w)
			return
		}
		if len(ids) == 0 {
			WriteJSON(w, 400, map[string]any{"errors": []string{"param is missing or the value is empty: post_ids"}, "error_type": "invalid_parameters"})
			return
		}
		if len(ids) > 20 {
			s.Problemf("GET %s: %d post_ids at once; Discourse's topic view asks for 20", p, len(ids))
		}
		var sel []Post
		for _, ps := range t.posts {
			for _, x := range ids {
				if strconv.FormatInt(ps.ID, 10) == x {
					sel = append(sel, ps)
				}
			}
		}
		WriteJSON(w, 200, map[string]any{"id": t.id, "post_stream": map[string]any{"posts": render(sel, r.URL.Query().Get("include_raw") != "")}})
	default:
		notFound(w)
	}
}

// createPost implements POST /posts.json: a new topic, or a reply by topic_id.
func (s *Server) createPost(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		s.Problemf("POST /posts.json: Content-Type %q", r.Header.Get("Content-Type"))
	}
	var in struct {
		Title      string `json:"title"`
		Raw        string `json:"raw"`
		Category   *int   `json:"category"`
		TopicID    *int64 `json:"topic_id"`
		ExternalID string `json:"external_id"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		WriteJSON(w, 400, map[string]any{"errors": []string{"invalid JSON"}, "error_type": "invalid_parameters"})
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
	var t *topic
	if in.TopicID != nil {
		if t = s.topics[*in.TopicID]; t == nil {
			notFound(w)
			return
		}
	} else {
		switch {
		case utf8.RuneCountInString(in.Title) < 15:
			errs = append(errs, "Title is too short (minimum is 15 characters)")
		case in.Category == nil || *in.Category != s.Category:
			errs = append(errs, "Category can't be blank")
		case len(in.ExternalID) > 50:
			errs = append(errs, "External ID is too long (maximum is 50 characters)")
		}
		for _, o := range s.topics {
			if strings.EqualFold(o.title, in.Title) {
				errs = append(errs, "Title has already been used")
			}
			if in.ExternalID != "" && o.externalID == in.ExternalID {
				errs = append(errs, "External ID has already been taken")
			}
		}
	}
	if len(errs) > 0 {
		WriteJSON(w, 422, map[string]any{"action": "create_post", "errors": errs})
		return
	}
	if t == nil {
		s.nextTop++
		slug := strings.Trim(reSlug.ReplaceAllString(strings.ToLower(in.Title), "-"), "-")
		t = &topic{id: s.nextTop, slug: slug, title: in.Title, category: *in.Category, externalID: in.ExternalID}
		s.topics[t.id] = t
	}
	s.nextPost++
	ps := Post{ID: s.nextPost, TopicID: t.id, TopicSlug: t.slug, PostNumber: len(t.posts) + 1, Username: s.Username, Raw: in.Raw}
	if m := markerRE.FindStringSubmatch(in.Raw); m != nil {
		ps.Marker = m[1]
	}
	t.posts = append(t.posts, ps)
	WriteJSON(w, 200, render([]Post{ps}, true)[0])
}

// render is Discourse's post serializer, with raw only when asked for.
func render(posts []Post, raw bool) []map[string]any {
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

func notFound(w http.ResponseWriter) {
	WriteJSON(w, 404, map[string]any{"errors": []string{"The requested URL or resource could not be found."}, "error_type": "not_found"})
}

// WriteJSON writes v as a JSON answer, as Discourse does.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
