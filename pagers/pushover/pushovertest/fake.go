// Package pushovertest is a Pushover API on loopback that follows the
// documented requests and answers (pushover.net/api, /api/receipts): the
// Messages API (form fields checked, priority 2 requiring retry ≥ 30 and
// expire ≤ 10800, a receipt for emergencies), the Receipts API (polled no
// more often than once every 5 s per receipt, else 429; acknowledged or
// expired as a test decides; cancel and cancel_by_tag), users/validate and
// apps/limits.
// Every messages.json answer carries the X-Limit-App-* quota headers; once
// the monthly limit is used up it answers 429.
//
// Refusals have Pushover's shape: HTTP 4xx and {"user":"invalid","errors":
// ["user identifier is not a valid user, group, or subscribed user key"],
// "status":0,"request":"…"}. Faults are injected per request (see
// fakeservice.Faults). It uses nothing from package testing.
package pushovertest

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/incident-cli/incident/publishers/fakeservice"
)

// Defaults: an application token and two user keys, each 30 characters of
// [A-Za-z0-9] like the real ones.
const (
	DefaultToken = "azGDORePK8gMaC0QOYAMyEEuzJnyUi"
	AliceKey     = "uQiRzpo4DXghDmr9QzzfQu27cmVRsG"
	BobKey       = "gznej3rKEVAvPUxu9vvNnqpmZpokzF"
	// GroupKey is a delivery group whose members are Alice and Bob.
	GroupKey = "gAQt5bVxkdWNYgXcTf6bAnWzMiVVx9"
)

// MinPollInterval is how often a receipt may be polled.
const MinPollInterval = 5 * time.Second

// User is an account (or a delivery group) the fake knows.
type User struct {
	Devices []string // active devices; a user without any fails validation
	Group   bool
}

// Options configure a Server; the zero value works.
type Options struct {
	Token     string          // the application token (DefaultToken)
	Users     map[string]User // by user key (Alice, Bob and their group by default)
	Limit     int             // messages a month (10000)
	UserAgent string          // the User-Agent requests must carry ("" for any "incident/...")
	Now       func() time.Time
	Reporter  fakeservice.Reporter // gets protocol problems; when it has Cleanup(func()) (a *testing.T), Close is registered there
}

// Message is a message the fake accepted.
type Message struct {
	Request   string
	Receipt   string // emergencies only
	User      string
	Title     string
	Message   string
	Priority  int
	Retry     int
	Expire    int
	Sound     string
	Timestamp int64
	Tags      []string
	Form      url.Values // every field as sent, the token removed
}

// Receipt is the state of one emergency message.
type Receipt struct {
	ID           string
	User         string
	Tags         []string
	SentAt       time.Time
	ExpiresAt    time.Time
	Acknowledged bool
	AckedBy      string // user key
	AckedDevice  string
	AckedAt      time.Time
	Expired      bool // marked by Expire (or past ExpiresAt)
	Cancelled    bool
	Polls        int

	lastPoll time.Time
}

// Repeating reports whether Pushover would still be repeating it at now.
func (r Receipt) Repeating(now time.Time) bool {
	return !r.Acknowledged && !r.Cancelled && !r.Expired && now.Before(r.ExpiresAt)
}

// Server is the fake Pushover API.
type Server struct {
	*fakeservice.Faults
	URL string

	token string
	ua    string
	now   func() time.Time

	mu        sync.Mutex
	users     map[string]User
	limit     int
	used      int
	requests  int
	messages  []Message
	receipts  map[string]*Receipt
	order     []string
	validated []string // user keys validated
}

// NewServer starts a fake Pushover API on loopback.
func NewServer(o Options) *Server {
	if o.Token == "" {
		o.Token = DefaultToken
	}
	if o.Users == nil {
		o.Users = map[string]User{
			AliceKey: {Devices: []string{"pixel"}},
			BobKey:   {Devices: []string{"iphone", "desktop"}},
			GroupKey: {Devices: []string{"pixel", "iphone", "desktop"}, Group: true},
		}
	}
	if o.Limit == 0 {
		o.Limit = 10000
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Server{Faults: fakeservice.New(o.Reporter), token: o.Token, ua: o.UserAgent, now: o.Now,
		users: o.Users, limit: o.Limit, receipts: map[string]*Receipt{}}
	s.URL = s.Serve(s.serve)
	return s
}

// Messages returns every message accepted, in order.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.messages)
}

// Receipts returns every emergency receipt, in the order sent.
func (s *Server) Receipts() []Receipt {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Receipt
	for _, id := range s.order {
		out = append(out, *s.receipts[id])
	}
	return out
}

// Validated returns the user keys checked with users/validate, in order.
func (s *Server) Validated() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.validated)
}

// Acknowledge acknowledges a receipt as the user with that key, on device.
func (s *Server) Acknowledge(receipt, userKey, device string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.receipts[receipt]
	if !ok {
		return fmt.Errorf("pushovertest: no receipt %q", receipt)
	}
	if !r.Repeating(s.now()) {
		return fmt.Errorf("pushovertest: receipt %q is no longer repeating", receipt)
	}
	r.Acknowledged, r.AckedBy, r.AckedDevice, r.AckedAt = true, userKey, device, s.now()
	return nil
}

// Expire ends a receipt's repeats without an acknowledgement.
func (s *Server) Expire(receipt string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.receipts[receipt]; ok {
		r.Expired = true
	}
}

// SetUsed sets how many messages of the monthly limit are used.
func (s *Server) SetUsed(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.used = n
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.CheckUserAgent(r, s.ua)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
	p := r.URL.Path
	switch {
	case p == "/1/messages.json":
		s.message(w, r)
	case p == "/1/apps/limits.json":
		s.limits(w, r)
	case p == "/1/users/validate.json":
		s.validate(w, r)
	case strings.HasPrefix(p, "/1/receipts/cancel_by_tag/") && strings.HasSuffix(p, ".json"):
		s.cancelByTag(w, r, strings.TrimSuffix(strings.TrimPrefix(p, "/1/receipts/cancel_by_tag/"), ".json"))
	case strings.HasPrefix(p, "/1/receipts/") && strings.HasSuffix(p, "/cancel.json"):
		s.cancel(w, r, strings.TrimSuffix(strings.TrimPrefix(p, "/1/receipts/"), "/cancel.json"))
	case strings.HasPrefix(p, "/1/receipts/") && strings.HasSuffix(p, ".json"):
		s.receipt(w, r, strings.TrimSuffix(strings.TrimPrefix(p, "/1/receipts/"), ".json"))
	default:
		s.refuse(w, http.StatusNotFound, "", "not found")
	}
}

// form reads a POST's form, checking the method and Content-Type, and the
// token; it answers and returns false when the request fails.
func (s *Server) form(w http.ResponseWriter, r *http.Request, known ...string) (url.Values, bool) {
	if r.Method != http.MethodPost {
		s.Problemf("%s %s: want POST", r.Method, r.URL.Path)
		s.refuse(w, http.StatusNotFound, "", "not found")
		return nil, false
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		s.Problemf("POST %s: Content-Type %q, want a form", r.URL.Path, ct)
	}
	if err := r.ParseForm(); err != nil {
		s.refuse(w, http.StatusBadRequest, "", "request could not be parsed")
		return nil, false
	}
	if len(r.URL.RawQuery) > 0 {
		s.Problemf("POST %s: fields in the query string (%s); Pushover wants them in the body", r.URL.Path, strings.Join(slices.Sorted(maps.Keys(r.URL.Query())), ","))
	}
	for k := range r.PostForm {
		if k != "token" && !slices.Contains(known, k) {
			s.Problemf("POST %s: unknown field %q", r.URL.Path, k)
		}
	}
	if r.PostForm.Get("token") != s.token {
		s.refuse(w, http.StatusBadRequest, "token", "application token is invalid")
		return nil, false
	}
	return r.PostForm, true
}

var messageFields = []string{"user", "message", "title", "url", "url_title", "priority", "sound", "device", "html", "monospace", "timestamp", "ttl", "retry", "expire", "callback", "tags"}

func (s *Server) message(w http.ResponseWriter, r *http.Request) {
	f, ok := s.form(w, r, messageFields...)
	if !ok {
		return
	}
	s.quotaHeaders(w)
	user := f.Get("user")
	if _, ok := s.users[user]; !ok {
		s.refuse(w, http.StatusBadRequest, "user", "user identifier is not a valid user, group, or subscribed user key")
		return
	}
	m := Message{User: user, Title: f.Get("title"), Message: f.Get("message"), Sound: f.Get("sound")}
	if n := []rune(m.Message); len(n) == 0 {
		s.refuse(w, http.StatusBadRequest, "message", "message cannot be blank")
		return
	} else if len(n) > 1024 {
		s.refuse(w, http.StatusBadRequest, "message", "message is too long (maximum is 1024 characters)")
		return
	}
	if len([]rune(m.Title)) > 250 {
		s.refuse(w, http.StatusBadRequest, "title", "title is too long (maximum is 250 characters)")
		return
	}
	var err error
	if v := f.Get("priority"); v != "" {
		if m.Priority, err = strconv.Atoi(v); err != nil || m.Priority < -2 || m.Priority > 2 {
			s.refuse(w, http.StatusBadRequest, "priority", "priority is invalid")
			return
		}
	}
	if v := f.Get("timestamp"); v != "" {
		if m.Timestamp, err = strconv.ParseInt(v, 10, 64); err != nil || m.Timestamp <= 0 {
			s.refuse(w, http.StatusBadRequest, "timestamp", "timestamp is invalid")
			return
		}
	}
	if v := f.Get("tags"); v != "" {
		m.Tags = strings.Split(v, ",")
	}
	if m.Priority == 2 {
		if m.Retry, err = strconv.Atoi(f.Get("retry")); err != nil {
			s.refuse(w, http.StatusBadRequest, "retry", "retry parameter is required for emergency-priority messages")
			return
		}
		if m.Retry < 30 {
			s.refuse(w, http.StatusBadRequest, "retry", "retry must be at least 30 seconds")
			return
		}
		if m.Expire, err = strconv.Atoi(f.Get("expire")); err != nil {
			s.refuse(w, http.StatusBadRequest, "expire", "expire parameter is required for emergency-priority messages")
			return
		}
		if m.Expire <= 0 || m.Expire > 10800 {
			s.refuse(w, http.StatusBadRequest, "expire", "expire must be at most 10800 seconds")
			return
		}
		if f.Has("ttl") {
			s.refuse(w, http.StatusBadRequest, "ttl", "ttl cannot be used with emergency-priority messages")
			return
		}
	} else if f.Has("retry") || f.Has("expire") {
		s.Problemf("POST /1/messages.json: retry/expire sent with priority %d; they only apply to priority 2", m.Priority)
	}
	if s.used >= s.limit {
		s.refuse(w, http.StatusTooManyRequests, "", "application is over its monthly message limit")
		return
	}
	s.used++
	s.quotaHeaders(w)
	m.Request = s.requestID()
	f.Del("token")
	m.Form = f
	answer := map[string]any{"status": 1, "request": m.Request}
	if m.Priority == 2 {
		now := s.now()
		m.Receipt = fmt.Sprintf("r%029d", len(s.order)+1)
		s.receipts[m.Receipt] = &Receipt{ID: m.Receipt, User: user, Tags: m.Tags, SentAt: now, ExpiresAt: now.Add(time.Duration(m.Expire) * time.Second)}
		s.order = append(s.order, m.Receipt)
		answer["receipt"] = m.Receipt
	}
	s.messages = append(s.messages, m)
	writeJSON(w, http.StatusOK, answer)
}

func (s *Server) quotaHeaders(w http.ResponseWriter) {
	now := s.now().UTC()
	reset := time.Date(now.Year(), now.Month()+1, 1, 5, 0, 0, 0, time.UTC)
	w.Header().Set("X-Limit-App-Limit", strconv.Itoa(s.limit))
	w.Header().Set("X-Limit-App-Remaining", strconv.Itoa(max(0, s.limit-s.used)))
	w.Header().Set("X-Limit-App-Reset", strconv.FormatInt(reset.Unix(), 10))
}

func (s *Server) receipt(w http.ResponseWriter, r *http.Request, id string) {
	if r.Method != http.MethodGet {
		s.Problemf("%s %s: want GET", r.Method, r.URL.Path)
	}
	if r.URL.Query().Get("token") != s.token {
		s.refuse(w, http.StatusBadRequest, "token", "application token is invalid")
		return
	}
	rc, ok := s.receipts[id]
	if !ok {
		s.refuse(w, http.StatusNotFound, "receipt", "receipt not found; may be invalid or expired")
		return
	}
	now := s.now()
	if !rc.lastPoll.IsZero() && now.Sub(rc.lastPoll) < MinPollInterval {
		wait := MinPollInterval - now.Sub(rc.lastPoll)
		w.Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
		s.refuse(w, http.StatusTooManyRequests, "", "receipts may be polled no more than once every 5 seconds")
		return
	}
	rc.lastPoll = now
	rc.Polls++
	expired := rc.Expired || (!rc.Acknowledged && !now.Before(rc.ExpiresAt))
	unix := func(t time.Time) int64 {
		if t.IsZero() {
			return 0
		}
		return t.Unix()
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"status":                 1,
		"acknowledged":           b2i(rc.Acknowledged),
		"acknowledged_at":        unix(rc.AckedAt),
		"acknowledged_by":        rc.AckedBy,
		"acknowledged_by_device": rc.AckedDevice,
		"last_delivered_at":      rc.SentAt.Unix(),
		"expired":                b2i(expired),
		"expires_at":             rc.ExpiresAt.Unix(),
		"called_back":            0,
		"called_back_at":         0,
		"request":                s.requestID(),
	})
}

func (s *Server) cancel(w http.ResponseWriter, r *http.Request, id string) {
	if _, ok := s.form(w, r); !ok {
		return
	}
	rc, ok := s.receipts[id]
	if !ok {
		s.refuse(w, http.StatusNotFound, "receipt", "receipt not found; may be invalid or expired")
		return
	}
	rc.Cancelled = true
	writeJSON(w, http.StatusOK, map[string]any{"status": 1, "request": s.requestID()})
}

func (s *Server) cancelByTag(w http.ResponseWriter, r *http.Request, tag string) {
	if _, ok := s.form(w, r); !ok {
		return
	}
	tag, err := url.PathUnescape(tag)
	if err != nil || tag == "" {
		s.refuse(w, http.StatusBadRequest, "tag", "tag is invalid")
		return
	}
	n := 0
	for _, id := range s.order {
		rc := s.receipts[id]
		if slices.Contains(rc.Tags, tag) && rc.Repeating(s.now()) {
			rc.Cancelled = true
			n++
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": 1, "canceled": n, "request": s.requestID()})
}

func (s *Server) limits(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		s.Problemf("%s %s: want GET", r.Method, r.URL.Path)
	}
	if r.URL.Query().Get("token") != s.token {
		s.refuse(w, http.StatusBadRequest, "token", "application token is invalid")
		return
	}
	s.quotaHeaders(w)
	reset, _ := strconv.ParseInt(w.Header().Get("X-Limit-App-Reset"), 10, 64)
	writeJSON(w, http.StatusOK, map[string]any{"limit": s.limit, "remaining": max(0, s.limit-s.used), "reset": reset, "status": 1, "request": s.requestID()})
}

func (s *Server) validate(w http.ResponseWriter, r *http.Request) {
	f, ok := s.form(w, r, "user", "device")
	if !ok {
		return
	}
	key := f.Get("user")
	s.validated = append(s.validated, key)
	u, ok := s.users[key]
	switch {
	case !ok:
		s.refuse(w, http.StatusBadRequest, "user", "user key is invalid")
		return
	case len(u.Devices) == 0:
		s.refuse(w, http.StatusBadRequest, "user", "user has no active devices")
		return
	case f.Get("device") != "" && !slices.Contains(u.Devices, f.Get("device")):
		s.refuse(w, http.StatusBadRequest, "device", "device name is not valid for user")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": 1, "group": b2i(u.Group), "devices": u.Devices, "licenses": []string{"Android", "iOS"}, "request": s.requestID()})
}

// refuse answers a Pushover error: {field: "invalid", errors: [msg], status: 0}.
func (s *Server) refuse(w http.ResponseWriter, status int, field, msg string) {
	body := map[string]any{"errors": []string{msg}, "status": 0, "request": s.requestID()}
	if field != "" {
		body[field] = "invalid"
		if field == "receipt" {
			body[field] = "not found"
		}
	}
	writeJSON(w, status, body)
}

// requestID makes a UUID-shaped request id, as Pushover sends.
func (s *Server) requestID() string {
	return fmt.Sprintf("00000000-0000-4000-8000-%012d", s.requests)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
