package twitter

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
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeX is the X API v2 as far as this channel uses it: POST /2/tweets,
// GET /2/users/me and GET /2/users/{id}/tweets. Every request must carry an
// OAuth 1.0a Authorization header whose HMAC-SHA1 signature the fake checks
// with the test's four secrets, as X does; answers are X's bodies: 201
// {"data":{...}}, problem+json errors, text with links rewritten to t.co.
type fakeX struct {
	t   *testing.T
	srv *httptest.Server

	consumerKey, consumerSecret, token, tokenSecret string

	mu       sync.Mutex
	posts    []xPost // oldest first
	nextID   int64
	nonces   map[string]bool
	requests []string         // "METHOD /path"
	creates  []map[string]any // bodies of POST /2/tweets

	// knobs
	fail       func(w http.ResponseWriter, r *http.Request) bool // answer instead of X when it returns true
	dropCreate bool                                              // create the post, then drop the connection
	hang       bool                                              // wait until the client gives up
}

type xPost struct{ ID, Text, ReplyTo string }

const (
	xUserID   = "1584963742117421056"
	xUsername = "examplemailstat"
)

// The test's credentials: the fake knows them, the channel gets them from
// the environment.
var xSecrets = map[string]string{
	"X_CONSUMER_KEY":        "ck-Xq3fT9vLm2",
	"X_CONSUMER_SECRET":     "cs-8hJ2kLp4Qw7zR1tY6uVb",
	"X_ACCESS_TOKEN":        "1584963742117421056-At5gH8jK2lM4nP6q",
	"X_ACCESS_TOKEN_SECRET": "ats-Zx9Cv8Bn7Mq6Wd5",
}

func newFakeX(t *testing.T) *fakeX {
	f := &fakeX{t: t, nextID: 1862000000000000001, nonces: map[string]bool{},
		consumerKey: xSecrets["X_CONSUMER_KEY"], consumerSecret: xSecrets["X_CONSUMER_SECRET"],
		token: xSecrets["X_ACCESS_TOKEN"], tokenSecret: xSecrets["X_ACCESS_TOKEN_SECRET"]}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func xJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// xProblem writes X's problem+json error body.
func xProblem(w http.ResponseWriter, status int, title, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"title":%q,"detail":%q,"type":"about:blank","status":%d}`, title, detail, status)
}

// xInvalid writes X's 400 for a request that fails validation.
func xInvalid(w http.ResponseWriter, msg string) {
	xJSON(w, http.StatusBadRequest, map[string]any{
		"errors": []map[string]any{{"message": msg}},
		"title":  "Invalid Request", "detail": "One or more parameters to your request was invalid.",
		"type": "https://api.twitter.com/2/problems/invalid-request",
	})
}

var timelinePath = regexp.MustCompile(`^/2/users/(\d+)/tweets$`)

func (f *fakeX) serve(w http.ResponseWriter, r *http.Request) {
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
	if err := f.checkOAuth(r); err != nil {
		f.t.Logf("fake X refuses %s %s: %v", r.Method, r.URL.Path, err)
		xProblem(w, http.StatusUnauthorized, "Unauthorized", "Unauthorized")
		return
	}
	m := timelinePath.FindStringSubmatch(r.URL.Path)
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/2/tweets":
		f.create(w, r)
	case r.Method == http.MethodGet && r.URL.Path == "/2/users/me":
		xJSON(w, http.StatusOK, map[string]any{"data": map[string]string{"id": xUserID, "name": "Example Mail Status", "username": xUsername}})
	case r.Method == http.MethodGet && m != nil:
		f.timeline(w, r, m[1])
	default:
		xJSON(w, http.StatusNotFound, map[string]any{"errors": []map[string]any{{"message": "Sorry, that page does not exist", "code": 34}}})
	}
}

// checkOAuth verifies the request's OAuth 1.0a signature (RFC 5849 3.4.1,
// HMAC-SHA1), written here independently of the library under test.
func (f *fakeX) checkOAuth(r *http.Request) error {
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
	switch {
	case params["oauth_consumer_key"] != f.consumerKey:
		return errors.New("unknown oauth_consumer_key")
	case params["oauth_token"] != f.token:
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
	mac := hmac.New(sha1.New, []byte(oauthEscape(f.consumerSecret)+"&"+oauthEscape(f.tokenSecret)))
	mac.Write([]byte(baseString))
	if want := base64.StdEncoding.EncodeToString(mac.Sum(nil)); !hmac.Equal([]byte(want), []byte(params["oauth_signature"])) {
		return errors.New("signature does not match")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.nonces[params["oauth_nonce"]] {
		return errors.New("nonce used before")
	}
	f.nonces[params["oauth_nonce"]] = true
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

func (f *fakeX) create(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		xInvalid(w, "Content-Type must be application/json")
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
		xInvalid(w, fmt.Sprintf("invalid JSON body: %v", err))
		return
	}
	// X's exact wording for these two refusals is not documented; the status
	// and body are its invalid-request problem's.
	if in.Text == nil || strings.TrimSpace(*in.Text) == "" {
		xInvalid(w, "The `text` field is required when no media or poll is attached")
		return
	}
	if n, _ := weigh(*in.Text); n > MaxLength {
		xInvalid(w, fmt.Sprintf("The `text` field is too long (%d of %d weighted characters)", n, MaxLength))
		return
	}
	f.mu.Lock()
	f.creates = append(f.creates, raw)
	replyTo := ""
	if in.Reply != nil {
		replyTo = in.Reply.InReplyToTweetID
		if !slices.ContainsFunc(f.posts, func(p xPost) bool { return p.ID == replyTo }) {
			f.mu.Unlock()
			xProblem(w, http.StatusForbidden, "Forbidden", "You attempted to reply to a Tweet that is deleted or not visible to you.")
			return
		}
	}
	if slices.ContainsFunc(f.posts, func(p xPost) bool { return p.Text == *in.Text }) {
		f.mu.Unlock()
		xProblem(w, http.StatusForbidden, "Forbidden", "You are not allowed to create a Tweet with duplicate content.")
		return
	}
	p := xPost{ID: strconv.FormatInt(f.nextID, 10), Text: *in.Text, ReplyTo: replyTo}
	f.nextID++
	f.posts = append(f.posts, p)
	drop := f.dropCreate
	f.mu.Unlock()
	if drop {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
		return
	}
	text, _ := display(p.Text)
	xJSON(w, http.StatusCreated, map[string]any{"data": map[string]any{"id": p.ID, "text": text, "edit_history_tweet_ids": []string{p.ID}}})
}

func (f *fakeX) timeline(w http.ResponseWriter, r *http.Request, id string) {
	if id != xUserID {
		xProblem(w, http.StatusNotFound, "Not Found Error", "Could not find user with id: ["+id+"].")
		return
	}
	limit := 10
	if v := r.URL.Query().Get("max_results"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 5 || n > 100 {
			xInvalid(w, "The `max_results` query parameter value ["+v+"] is not between 5 and 100")
			return
		}
		limit = n
	}
	fields := map[string]bool{}
	for _, fl := range strings.Split(r.URL.Query().Get("tweet.fields"), ",") {
		if fl != "" && !slices.Contains([]string{"created_at", "entities", "referenced_tweets", "author_id", "conversation_id"}, fl) {
			xInvalid(w, "The query parameter [tweet.fields] value ["+fl+"] is not one of the allowed values")
			return
		}
		fields[fl] = true
	}
	f.mu.Lock()
	var data []map[string]any
	for i := len(f.posts) - 1; i >= 0 && len(data) < limit; i-- {
		p := f.posts[i]
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
	f.mu.Unlock()
	out := map[string]any{"meta": map[string]any{"result_count": len(data)}}
	if len(data) > 0 {
		out["data"] = data
	}
	xJSON(w, http.StatusOK, out)
}

var linkPattern = regexp.MustCompile(`https?://\S+`)

// display renders a post's text as X returns it: links rewritten to t.co,
// &, < and > as HTML entities; and the links as entities.urls.
func display(text string) (string, []map[string]any) {
	var b strings.Builder
	var urls []map[string]any
	last := 0
	for i, loc := range linkPattern.FindAllStringIndex(text, -1) {
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

// set changes the fake's knobs while it may be serving.
func (f *fakeX) set(change func(f *fakeX)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	change(f)
}

// setPosts replaces the account's posts.
func (f *fakeX) setPosts(posts ...xPost) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.posts = posts
}

func (f *fakeX) snapshot() (posts []xPost, creates []map[string]any, requests []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.posts), slices.Clone(f.creates), slices.Clone(f.requests)
}
