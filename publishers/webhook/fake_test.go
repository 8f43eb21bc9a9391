package webhook

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// fakeReceiver is a webhook receiver on loopback. In its default mode it is
// a team's own tool: it wants a bearer token, decodes the documented
// document strictly, deduplicates on Idempotency-Key and answers 201 with
// an id and a URL. With slack set it behaves like a Slack incoming webhook:
// no auth header (the URL is the secret), "text" required, "ok" in plain text.
type fakeReceiver struct {
	t     *testing.T
	srv   *httptest.Server
	token string
	slack bool

	mu        sync.Mutex
	docs      []received
	byKey     map[string]int
	keys      []string // Idempotency-Key of every request
	intercept func(w http.ResponseWriter, r *http.Request) bool
	drop      bool // store the delivery, then drop the connection
}

// received is the documented schema; decoding with DisallowUnknownFields
// keeps the docs and the code in step.
type received struct {
	Kind     string            `json:"kind"`
	Key      string            `json:"key"`
	Title    string            `json:"title"`
	Text     string            `json:"text"`
	Link     string            `json:"link"`
	Texts    map[string]string `json:"texts"`
	ThreadID string            `json:"thread_id"`
	ParentID string            `json:"parent_id"`
	Incident struct {
		ID        string `json:"id"`
		Title     string `json:"title"`
		Status    string `json:"status"`
		Severity  string `json:"severity"`
		Services  []struct{ ID, Name string }
		Accounts  int       `json:"accounts"`
		StartedAt time.Time `json:"started_at"`
	} `json:"incident"`
	Update struct {
		Number  int       `json:"number"`
		Status  string    `json:"status"`
		Message string    `json:"message"`
		At      time.Time `json:"at"`
		Author  string    `json:"author"`
	} `json:"update"`
}

// slackPath is the secret part of the fake Slack webhook URL.
const slackPath = "/services/T000/B000/XXXXsecretXXXX"

func newFakeReceiver(t *testing.T, token string) *fakeReceiver {
	f := &fakeReceiver{t: t, token: token, byKey: map[string]int{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeReceiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.keys = append(f.keys, r.Header.Get("Idempotency-Key"))
	intercept := f.intercept
	f.mu.Unlock()
	if r.Header.Get("User-Agent") != "incident/test" || r.Header.Get("Content-Type") != "application/json" || r.Method != http.MethodPost {
		f.t.Errorf("%s: User-Agent %q, Content-Type %q", r.Method, r.Header.Get("User-Agent"), r.Header.Get("Content-Type"))
	}
	if intercept != nil && intercept(w, r) {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.slack {
		f.serveSlack(w, r, body)
		return
	}
	if r.URL.Path != "/hooks/incident/" {
		writeJSON(w, 404, map[string]string{"error": "no such hook"})
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+f.token || r.Header.Get("X-Source") != "incident" {
		writeJSON(w, 401, map[string]string{"error": "missing or invalid bearer token"})
		return
	}
	var doc received
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		writeJSON(w, 400, map[string]string{"error": err.Error()})
		return
	}
	if doc.Kind != "update" && doc.Kind != "rfo" || doc.Key == "" || doc.Incident.ID == "" || doc.Update.Number == 0 {
		writeJSON(w, 422, map[string]any{"errors": []string{"kind, key, incident.id and update.number are required"}})
		return
	}
	key := r.Header.Get("Idempotency-Key")
	if i, ok := f.byKey[key]; ok {
		writeJSON(w, 200, map[string]any{"id": fmt.Sprintf("evt_%d", i+1), "url": fmt.Sprintf("https://hooks.example/events/%d", i+1)})
		return
	}
	f.docs = append(f.docs, doc)
	f.byKey[key] = len(f.docs) - 1
	if f.drop {
		panic(http.ErrAbortHandler)
	}
	writeJSON(w, 201, map[string]any{"id": fmt.Sprintf("evt_%d", len(f.docs)), "url": fmt.Sprintf("https://hooks.example/events/%d", len(f.docs))})
}

// serveSlack answers like hooks.slack.com.
func (f *fakeReceiver) serveSlack(w http.ResponseWriter, r *http.Request, body []byte) {
	w.Header().Set("Content-Type", "text/html")
	if r.URL.Path != slackPath {
		w.WriteHeader(404)
		_, _ = w.Write([]byte("no_service"))
		return
	}
	var msg struct{ Text string }
	if json.Unmarshal(body, &msg) != nil || msg.Text == "" {
		w.WriteHeader(400)
		_, _ = w.Write([]byte("invalid_payload"))
		return
	}
	var doc received
	_ = json.Unmarshal(body, &doc)
	f.docs = append(f.docs, doc)
	_, _ = w.Write([]byte("ok"))
}

func (f *fakeReceiver) set(change func(f *fakeReceiver)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	change(f)
}

func (f *fakeReceiver) got() ([]received, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]received(nil), f.docs...), append([]string(nil), f.keys...)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
