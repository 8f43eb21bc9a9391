// Package twittertest is the X API v2 on loopback, as far as the twitter
// channel uses it: POST /2/tweets, GET /2/users/me and GET
// /2/users/{id}/tweets. Every request must carry an OAuth 1.0a Authorization
// header whose HMAC-SHA1 signature the fake checks with its four
// credentials, as X does (a nonce is taken once; the timestamp must be
// within five minutes); answers are X's bodies: 201 {"data":{...}},
// problem+json errors, text with links rewritten to t.co. A post whose text
// repeats one the account holds is refused 403 "duplicate content", as X
// does. Links whose host is a domain name are rewritten to t.co (one to a
// loopback address is no link for X). Faults are injected per request (see Server.Fail, Hang, Malformed,
// DropAnswer, RateLimit).
package twittertest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/incident-cli/incident/publishers/fakeservice"
)

// Defaults: the account and the credentials the fake accepts.
const (
	UserID   = "1584963742117421056"
	Username = "examplemailstat"

	DefaultConsumerKey       = "ck-Xq3fT9vLm2"
	DefaultConsumerSecret    = "cs-8hJ2kLp4Qw7zR1tY6uVb"
	DefaultAccessToken       = "1584963742117421056-At5gH8jK2lM4nP6q"
	DefaultAccessTokenSecret = "ats-Zx9Cv8Bn7Mq6Wd5"

	// MaxLength is X's limit, in weighted characters.
	MaxLength = 280
	// FirstID is the id of the first post the fake makes.
	FirstID = 1862000000000000001
)

// Options configure a Server; the zero value works.
type Options struct {
	// The four OAuth 1.0a credentials the fake accepts (the Default ones).
	ConsumerKey, ConsumerSecret, AccessToken, AccessTokenSecret string
	UserAgent                                                   string // the User-Agent requests must carry ("" for any "incident/...")
	// Length weighs a post's text against MaxLength; nil for the fake's
	// own, simpler rule (URLs 23, code points in U+0000–U+10FF,
	// U+2000–U+200D, U+2010–U+201F and U+2032–U+2037 1, others 2).
	Length   func(text string) int
	Reporter fakeservice.Reporter // gets protocol problems; when it has Cleanup(func()) (a *testing.T), Close is registered there
}

// Server is the fake X API.
type Server struct {
	*fakeservice.Faults
	URL string
	// The credentials it accepts.
	ConsumerKey, ConsumerSecret, AccessToken, AccessTokenSecret string

	ua     string
	length func(string) int
	logf   func(format string, args ...any)

	mu      sync.Mutex
	posts   []Post // oldest first
	nextID  int64
	nonces  map[string]bool
	creates []map[string]any // bodies of POST /2/tweets
}

// Post is a post the account holds.
type Post struct{ ID, Text, ReplyTo string }

// NewServer starts the API on loopback.
func NewServer(o Options) *Server {
	def := func(v, d string) string {
		if v == "" {
			return d
		}
		return v
	}
	s := &Server{Faults: fakeservice.New(o.Reporter), ua: o.UserAgent, length: o.Length, nextID: FirstID, nonces: map[string]bool{},
		ConsumerKey: def(o.ConsumerKey, DefaultConsumerKey), ConsumerSecret: def(o.ConsumerSecret, DefaultConsumerSecret),
		AccessToken: def(o.AccessToken, DefaultAccessToken), AccessTokenSecret: def(o.AccessTokenSecret, DefaultAccessTokenSecret)}
	if s.length == nil {
		s.length = weigh
	}
	s.logf = func(string, ...any) {}
	if l, ok := o.Reporter.(interface{ Logf(string, ...any) }); ok {
		s.logf = l.Logf
	}
	s.URL = s.Serve(s.serve)
	return s
}

// Posts returns the account's posts, oldest first.
func (s *Server) Posts() []Post {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.posts)
}

// SetPosts replaces the account's posts.
func (s *Server) SetPosts(posts ...Post) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.posts = slices.Clone(posts)
}

// Creates returns the JSON bodies of every POST /2/tweets that passed
// validation, refused duplicates included.
func (s *Server) Creates() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.creates)
}

// RateLimit answers the next times requests 429 with X's x-rate-limit-*
// headers, the window resetting at reset.
func (s *Server) RateLimit(reset time.Time, times int) {
	s.Inject(fakeservice.Fault{Mode: fakeservice.Answer, Status: http.StatusTooManyRequests, Times: times,
		Body: `{"title":"Too Many Requests","detail":"Too Many Requests","type":"about:blank","status":429}`,
		Headers: map[string]string{"Content-Type": "application/problem+json", "x-rate-limit-limit": "100",
			"x-rate-limit-remaining": "0", "x-rate-limit-reset": strconv.FormatInt(reset.Unix(), 10)}})
}

// WriteJSON writes v as a JSON answer.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// WriteProblem writes X's problem+json error body.
func WriteProblem(w http.ResponseWriter, status int, title, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"title":%q,"detail":%q,"type":"about:blank","status":%d}`, title, detail, status)
}

// invalid writes X's 400 for a request that fails validation.
func invalid(w http.ResponseWriter, msg string) {
	WriteJSON(w, http.StatusBadRequest, map[string]any{
		"errors": []map[string]any{{"message": msg}},
		"title":  "Invalid Request", "detail": "One or more parameters to your request was invalid.",
		"type": "https://api.twitter.com/2/problems/invalid-request",
	})
}

var timelinePath = regexp.MustCompile(`^/2/users/(\d+)/tweets$`)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.CheckUserAgent(r, s.ua)
	if err := s.checkOAuth(r); err != nil {
		s.logf("fake X refuses %s %s: %v", r.Method, r.URL.Path, err)
		WriteProblem(w, http.StatusUnauthorized, "Unauthorized", "Unauthorized")
		return
	}
	m := timelinePath.FindStringSubmatch(r.URL.Path)
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/2/tweets":
		s.create(w, r)
	case r.Method == http.MethodGet && r.URL.Path == "/2/users/me":
		WriteJSON(w, http.StatusOK, map[string]any{"data": map[string]string{"id": UserID, "name": "Example Mail Status", "username": Username}})
	case r.Method == http.MethodGet && m != nil:
		s.timeline(w, r, m[1])
	default:
		WriteJSON(w, http.StatusNotFound, map[string]any{"errors": []map[string]any{{"message": "Sorry, that page does not exist", "code": 34}}})
	}
}

// checkOAuth verifies the request's OAuth 1.0a signature (RFC 5849 3.4.1,
// HMAC-SHA1), written here independently of the library the channel uses.
func (s *Server) checkOAuth(r *http.Request) error {
	h, ok := strings.CutPrefix(r.Header.Get("Authorization"), "OAuth ")
	if !ok {
		return errors.New("no OAuth Authorization header")
	}
	params := map[string]string{}
	for _, part := range strings.Split(h, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
			return fmt.Errorf("malformed parameter %q", part)
		}
		key, err1 := url.PathUnescape(k)
		val, err2 := url.PathUnescape(v[1 : len(v)-1])
		if err1 != nil || err2 != nil {
			return fmt.Errorf("bad percent-encoding in %q", part)
		}
		params[key] = val
	}
	s.mu.Lock()
	consumerKey, consumerSecret, token, tokenSecret := s.ConsumerKey, s.ConsumerSecret, s.AccessToken, s.AccessTokenSecret
	s.mu.Unlock()
	switch {
	case params["oauth_consumer_key"] != consumerKey:
		return errors.New("unknown oauth_consumer_key")
	case params["oauth_token"] != token:
		return errors.New("unknown oauth_token")
	case params["oauth_signature_method"] != "HMAC-SHA1":
		return fmt.Errorf("oauth_signature_method %q", params["oauth_signature_method"])
	case params["oauth_version"] != "" && params["oauth_version"] != "1.0":
		return fmt.Errorf("oauth_version %q", params["oauth_version"])
	case params["oauth_nonce"] == "" || params["oauth_signature"] == "":
		return errors.New("no oauth_nonce or oauth_signature")
	}
	ts, err := strconv.ParseInt(params["oauth_timestamp"], 10, 64)
	if err != nil || time.Since(time.Unix(ts, 0)).Abs() > 5*time.Minute {
		return fmt.Errorf("oauth_timestamp %q is not now", params["oauth_timestamp"])
	}
	all := url.Values{}
	for k, vs := range r.URL.Query() {
		all[k] = vs
	}
	for k, v := range params {
		if k != "oauth_signature" && k != "realm" {
			all.Add(k, v)
		}
	}
	var pairs []string
	for k, vs := range all {
		for _, v := range vs {
			pairs = append(pairs, oauthEscape(k)+"="+oauthEscape(v))
		}
	}
	sort.Strings(pairs)
	baseString := r.Method + "&" + oauthEscape("http://"+r.Host+r.URL.EscapedPath()) + "&" + oauthEscape(strings.Join(pairs, "&"))
	mac := hmac.New(sha1.New, []byte(oauthEscape(consumerSecret)+"&"+oauthEscape(tokenSecret)))
	mac.Write([]byte(baseString))
	if want := base64.StdEncoding.EncodeToString(mac.Sum(nil)); !hmac.Equal([]byte(want), []byte(params["oauth_signature"])) {
		return errors.New("signature does not match")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.nonces[params["oauth_nonce"]] {
		return errors.New("nonce used before")
	}
	s.nonces[params["oauth_nonce"]] = true
	return nil
}

// oauthEscape percent-encodes all but RFC 3986's unreserved characters.
func oauthEscape(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte("-._~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func (s *Server) create(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		invalid(w, "Content-Type must be application/json")
		return
	}
	var raw map[string]any
	var in struct {
		Text  *string `json:"text"`
		Reply *struct {
			InReplyToTweetID string `json:"in_reply_to_tweet_id"`
		} `json:"reply"`
	}
	body, _ := io.ReadAll(r.Body)
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil || json.Unmarshal(body, &raw) != nil {
		invalid(w, fmt.Sprintf("invalid JSON body: %v", err))
		return
	}
	// X's exact wording for these two refusals is not documented; the status
	// and body are its invalid-request problem's.
	if in.Text == nil || strings.TrimSpace(*in.Text) == "" {
		invalid(w, "The `text` field is required when no media or poll is attached")
		return
	}
	if n := s.length(*in.Text); n > MaxLength {
		invalid(w, fmt.Sprintf("The `text` field is too long (%d of %d weighted characters)", n, MaxLength))
		return
	}
	s.mu.Lock()
	s.creates = append(s.creates, raw)
	replyTo := ""
	if in.Reply != nil {
		replyTo = in.Reply.InReplyToTweetID
		if !slices.ContainsFunc(s.posts, func(p Post) bool { return p.ID == replyTo }) {
			s.mu.Unlock()
			WriteProblem(w, http.StatusForbidden, "Forbidden", "You attempted to reply to a Tweet that is deleted or not visible to you.")
			return
		}
	}
	if slices.ContainsFunc(s.posts, func(p Post) bool { return p.Text == *in.Text }) {
		s.mu.Unlock()
		WriteProblem(w, http.StatusForbidden, "Forbidden", "You are not allowed to create a Tweet with duplicate content.")
		return
	}
	p := Post{ID: strconv.FormatInt(s.nextID, 10), Text: *in.Text, ReplyTo: replyTo}
	s.nextID++
	s.posts = append(s.posts, p)
	s.mu.Unlock()
	text, _ := display(p.Text)
	WriteJSON(w, http.StatusCreated, map[string]any{"data": map[string]any{"id": p.ID, "text": text, "edit_history_tweet_ids": []string{p.ID}}})
}

func (s *Server) timeline(w http.ResponseWriter, r *http.Request, id string) {
	if id != UserID {
		WriteProblem(w, http.StatusNotFound, "Not Found Error", "Could not find user with id: ["+id+"].")
		return
	}
	limit := 10
	if v := r.URL.Query().Get("max_results"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 5 || n > 100 {
			invalid(w, "The `max_results` query parameter value ["+v+"] is not between 5 and 100")
			return
		}
		limit = n
	}
	fields := map[string]bool{}
	for _, fl := range strings.Split(r.URL.Query().Get("tweet.fields"), ",") {
		if fl != "" && !slices.Contains([]string{"created_at", "entities", "referenced_tweets", "author_id", "conversation_id"}, fl) {
			invalid(w, "The query parameter [tweet.fields] value ["+fl+"] is not one of the allowed values")
			return
		}
		fields[fl] = true
	}
	s.mu.Lock()
	var data []map[string]any
	for i := len(s.posts) - 1; i >= 0 && len(data) < limit; i-- {
		p := s.posts[i]
		text, urls := display(p.Text)
		d := map[string]any{"id": p.ID, "text": text, "edit_history_tweet_ids": []string{p.ID}}
		if fields["entities"] && len(urls) > 0 {
			d["entities"] = map[string]any{"urls": urls}
		}
		if fields["referenced_tweets"] && p.ReplyTo != "" {
			d["referenced_tweets"] = []map[string]string{{"type": "replied_to", "id": p.ReplyTo}}
		}
		data = append(data, d)
	}
	s.mu.Unlock()
	out := map[string]any{"meta": map[string]any{"result_count": len(data)}}
	if len(data) > 0 {
		out["data"] = data
	}
	WriteJSON(w, http.StatusOK, out)
}

var linkPattern = regexp.MustCompile(`https?://\S+`)

// links returns where text's links are. As for X (twitter-text), a link's
// host must be a domain name: http://127.0.0.1:8080/x and
// http://localhost/x are no links, stay as they are and count by their
// characters.
func links(text string) [][]int {
	var out [][]int
	for _, loc := range linkPattern.FindAllStringIndex(text, -1) {
		u, err := url.Parse(text[loc[0]:loc[1]])
		if err != nil {
			continue
		}
		h := u.Hostname()
		if net.ParseIP(h) != nil || !strings.Contains(h, ".") {
			continue
		}
		out = append(out, loc)
	}
	return out
}

// display renders a post's text as X returns it: links rewritten to t.co,
// &, < and > as HTML entities; and the links as entities.urls.
func display(text string) (string, []map[string]any) {
	var b strings.Builder
	var urls []map[string]any
	last := 0
	for i, loc := range links(text) {
		b.WriteString(html.EscapeString(text[last:loc[0]]))
		short := fmt.Sprintf("https://t.co/Ab%08d", i+1)
		start := len([]rune(b.String()))
		b.WriteString(short)
		urls = append(urls, map[string]any{"start": start, "end": start + len(short), "url": short,
			"expanded_url": text[loc[0]:loc[1]], "display_url": strings.TrimPrefix(strings.TrimPrefix(text[loc[0]:loc[1]], "https://"), "http://")})
		last = loc[1]
	}
	b.WriteString(html.EscapeString(text[last:]))
	return b.String(), urls
}

// weigh is the fake's own, simpler weighting: every link 23, code points
// in twitter-text's ranges 1, others 2.
func weigh(text string) int {
	n, last := 0, 0
	count := func(part string) {
		for _, r := range part {
			if r <= 0x10FF || r >= 0x2000 && r <= 0x200D || r >= 0x2010 && r <= 0x201F || r >= 0x2032 && r <= 0x2037 {
				n++
			} else {
				n += 2
			}
		}
	}
	for _, loc := range links(text) {
		count(text[last:loc[0]])
		n += 23
		last = loc[1]
	}
	count(text[last:])
	return n
}
