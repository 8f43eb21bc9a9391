// Package wordpresstest is a WordPress site's REST API on loopback, as far as
// the wordpress channel uses it: posts (create, edit, list by slug) and
// users/me, behind application-password Basic auth, answering with
// WordPress's own bodies and validations. Posts have authors: the bot, and
// another author who can take a slug first (Squat). Tests of the channel, of the
// engine and of the command use it; faults are injected per request (see
// Server.Fail, Hang, Malformed, DropAnswer).
package wordpresstest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/incident-cli/incident/publishers/fakeservice"
)

// Default credentials.
const (
	DefaultUser     = "status-bot"
	DefaultPassword = "abcd EFGH 1234 ijkl MNOP 6789"
)

// The site's users: the bot (whose application password the channel holds;
// its posts are authored by it) and another author, a Contributor who can
// make pending posts (see Squat).
const (
	BotID   int64 = 7
	OtherID int64 = 9
)

// Options configure a Server; the zero value works.
type Options struct {
	User      string               // the user owning the application password (DefaultUser)
	Password  string               // the application password (DefaultPassword); spaces do not count, as in WordPress
	UserAgent string               // the User-Agent requests must carry ("" for any "incident/...")
	Reporter  fakeservice.Reporter // gets protocol problems; when it has Cleanup(func()) (a *testing.T), Close is registered there
}

// Server is the fake site.
type Server struct {
	*fakeservice.Faults
	URL      string // the site's base URL
	User     string
	Password string

	ua string

	mu       sync.Mutex
	password string // what the site accepts now (SetPassword)
	posts    map[int64]*stored
	nextID   int64
}

type stored struct {
	ID         int64
	Author     int64
	Title      string
	Content    string
	Status     string
	Slug       string
	Categories []int
	Tags       []int
}

// Post is a post the site holds.
type Post struct {
	ID         int64
	Author     int64 // BotID, or OtherID for a post made by Squat
	Title      string
	Content    string // the HTML sent
	Status     string
	Slug       string // the idempotency marker: the incident id, or id-rfo
	Link       string
	Categories []int
	Tags       []int
}

// NewServer starts a site on loopback.
func NewServer(o Options) *Server {
	if o.User == "" {
		o.User = DefaultUser
	}
	if o.Password == "" {
		o.Password = DefaultPassword
	}
	s := &Server{Faults: fakeservice.New(o.Reporter), User: o.User, Password: o.Password, password: o.Password, ua: o.UserAgent,
		posts: map[int64]*stored{}, nextID: 100}
	s.URL = s.Serve(s.serve)
	return s
}

// SetPassword changes the application password the site accepts (a revoked
// or rotated password).
func (s *Server) SetPassword(pw string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.password = pw
}

// Posts returns every post, oldest first.
func (s *Server) Posts() []Post {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Post
	for _, id := range s.sortedIDs() {
		out = append(out, s.export(s.posts[id]))
	}
	return out
}

// Post returns the post with id (the zero Post when there is none).
func (s *Server) Post(id int64) Post {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.posts[id]; p != nil {
		return s.export(p)
	}
	return Post{}
}

func (s *Server) export(p *stored) Post {
	return Post{ID: p.ID, Author: p.Author, Title: p.Title, Content: p.Content, Status: p.Status, Slug: p.Slug, Link: s.link(p),
		Categories: slices.Clone(p.Categories), Tags: slices.Clone(p.Tags)}
}

// Squat makes a post by the other author (OtherID) with the given slug and
// status (a Contributor's "pending"), as someone who guessed the slug the
// bot's next post will take.
func (s *Server) Squat(slug, status string) Post {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	p := &stored{ID: s.nextID, Author: OtherID, Title: "Not the status bot's", Content: "<p>squatted</p>", Status: status}
	p.Slug = s.uniqueSlug(slug, p.ID)
	s.posts[p.ID] = p
	return s.export(p)
}

// WriteError writes WordPress's error body:
// {"code":"...","message":"...","data":{"status":N}}.
func WriteError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"code":%q,"message":%q,"data":{"status":%d}}`, code, msg, status)
}

var postPath = regexp.MustCompile(`^/wp-json/wp/v2/posts/(\d+)$`)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.CheckUserAgent(r, s.ua)
	s.mu.Lock()
	wantPassword := s.password
	s.mu.Unlock()
	user, pw, ok := r.BasicAuth()
	switch {
	case !ok:
		if r.URL.Path == "/wp-json/wp/v2/users/me" {
			WriteError(w, 401, "rest_not_logged_in", "You are not currently logged in.")
		} else {
			WriteError(w, 401, "rest_cannot_create", "Sorry, you are not allowed to create posts as this user.")
		}
		return
	case user != s.User:
		WriteError(w, 401, "invalid_username", "Unknown username. Check again or try your email address.")
		return
	case strings.ReplaceAll(pw, " ", "") != strings.ReplaceAll(wantPassword, " ", ""):
		WriteError(w, 401, "incorrect_password", "The provided password is an invalid application password.")
		return
	}
	switch {
	case r.URL.Path == "/wp-json/wp/v2/users/me" && r.Method == http.MethodGet:
		writeJSON(w, 200, map[string]any{"id": BotID, "name": "Status Bot", "slug": "status-bot"})
	case r.URL.Path == "/wp-json/wp/v2/posts" && r.Method == http.MethodGet:
		s.list(w, r)
	case r.URL.Path == "/wp-json/wp/v2/posts" && r.Method == http.MethodPost:
		s.save(w, r, 0)
	case postPath.MatchString(r.URL.Path) && (r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch):
		id, _ := strconv.ParseInt(postPath.FindStringSubmatch(r.URL.Path)[1], 10, 64)
		s.save(w, r, id)
	default:
		WriteError(w, 404, "rest_no_route", "No route was found matching the URL and request method.")
	}
}

func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	statuses := strings.Split(q.Get("status"), ",")
	if q.Get("status") == "" {
		statuses = []string{"publish"}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []map[string]any{}
	for _, id := range s.sortedIDs() {
		p := s.posts[id]
		if q.Get("slug") != "" && p.Slug != q.Get("slug") {
			continue
		}
		if !slices.Contains(statuses, "any") && !slices.Contains(statuses, p.Status) {
			continue
		}
		out = append(out, s.render(p))
	}
	writeJSON(w, 200, out)
}

func (s *Server) sortedIDs() []int64 {
	var ids []int64
	for id := range s.posts {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// save creates (id 0) or edits a post, validating the body the way the
// posts controller does.
func (s *Server) save(w http.ResponseWriter, r *http.Request, id int64) {
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		WriteError(w, 400, "rest_invalid_json", "Invalid JSON body passed.")
		return
	}
	var raw map[string]json.RawMessage
	if err := json.NewDecoder(r.Body).Decode(&raw); err != nil {
		WriteError(w, 400, "rest_invalid_json", "Invalid JSON body passed.")
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
		WriteError(w, 400, "rest_invalid_param", "Invalid parameter(s): "+badParam(raw))
		return
	}
	if in.Status != nil && !slices.Contains([]string{"publish", "future", "draft", "pending", "private"}, *in.Status) {
		WriteError(w, 400, "rest_invalid_param", "Invalid parameter(s): status")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.posts[id]
	if id != 0 && p == nil {
		WriteError(w, 404, "rest_post_invalid_id", "Invalid post ID.")
		return
	}
	created := p == nil
	if created {
		if (in.Title == nil || *in.Title == "") && (in.Content == nil || *in.Content == "") {
			WriteError(w, 400, "empty_content", "Content, title, and excerpt are empty.")
			return
		}
		s.nextID++
		p = &stored{ID: s.nextID, Author: BotID, Status: "draft"}
		s.posts[p.ID] = p
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
		p.Slug = s.uniqueSlug(slug, p.ID)
	}
	status := 200
	if created {
		status = 201
	}
	writeJSON(w, status, s.render(p))
}

// uniqueSlug appends -2, -3, ... like wp_unique_post_slug.
func (s *Server) uniqueSlug(slug string, self int64) string {
	taken := func(x string) bool {
		for _, p := range s.posts {
			if p.ID != self && p.Slug == x {
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

func (s *Server) link(p *stored) string {
	if p.Status == "publish" {
		return s.URL + "/2026/11/27/" + p.Slug + "/" // the permalink structure /%year%/%monthnum%/%day%/%postname%/, dated like the tests' clock
	}
	return s.URL + "/?p=" + strconv.FormatInt(p.ID, 10)
}

func (s *Server) render(p *stored) map[string]any {
	return map[string]any{
		"id": p.ID, "author": p.Author, "slug": p.Slug, "status": p.Status, "link": s.link(p), "type": "post",
		"guid":       map[string]any{"rendered": s.URL + "/?p=" + strconv.FormatInt(p.ID, 10)},
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
