// Package fakeservice is what every importable fake service
// (publishers/*/*test) shares: serving on loopback, fault injection for the next N requests, latency, an intercept
// hook, the log of requests, and the protocol problems seen (a request the
// real service would take differently than the fake answers it: a wrong
// User-Agent or Content-Type). It uses nothing from package testing, so a
// fake works from a testscript command or a benchmark as well as from a test.
package fakeservice

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Reporter receives protocol problems as they happen. A *testing.T is one;
// without a Reporter the problems are only kept (see Problems).
type Reporter interface {
	Errorf(format string, args ...any)
}

// Mode is what a fault does to a request.
type Mode int

// The fault modes.
const (
	// Answer answers with Status, Headers and Body instead of the service:
	// nothing is stored.
	Answer Mode = iota
	// Hang holds the request, unanswered and not handled, until the client
	// gives up (or the server closes).
	Hang
	// Malformed lets the service handle the request (a post is stored), then
	// sends its status and headers with the body cut in half: JSON that does
	// not parse, like an answer with a PHP notice or a proxy's truncation.
	Malformed
	// Drop lets the service handle the request (a post is stored), then
	// closes the connection without an answer: the client never learns that
	// its post landed (a lost answer).
	Drop
	// Endless answers 200 with a JSON body that never ends: an object whose
	// string value goes on until the client stops reading (or EndlessMax
	// bytes were sent, so that a client without a limit fails a memory check
	// instead of hanging its test). Nothing is stored.
	Endless
	// Hold lets the service handle the request (a post is stored), says so
	// on the fault's Held channel, then holds the answer until the client
	// gives up or the server closes: a crash test kills the client in that
	// moment, between send and receipt.
	Hold
)

// EndlessMax is how much an Endless answer sends at most.
const EndlessMax = 256 << 20

// Always makes a fault apply to every matching request until Clear.
const Always = -1

// Fault is one injected behaviour for the next Times matching requests.
type Fault struct {
	Mode    Mode
	Method  string // only requests with this method ("" for any)
	Writes  bool   // only writes (POST, PUT, PATCH, DELETE)
	Path    string // only requests whose path contains this ("" for any)
	Status  int    // Answer: the status code
	Body    string // Answer: the body
	Headers map[string]string
	// EchoAuth appends the request's credential headers (Authorization,
	// Api-Key and the like) to Body, as a careless proxy or debug endpoint
	// does: a leak test checks that nothing of them is shown or recorded.
	EchoAuth bool
	Times    int // how many matching requests it applies to; Always for every one
	// Held, for Hold, receives "METHOD /path" once the request was handled
	// and its answer is being held (a send that would block is dropped).
	Held chan<- string
}

func (f *Fault) matches(r *http.Request) bool {
	if f.Writes && (r.Method == http.MethodGet || r.Method == http.MethodHead || r.Method == http.MethodOptions) {
		return false
	}
	return (f.Method == "" || strings.EqualFold(f.Method, r.Method)) && (f.Path == "" || strings.Contains(r.URL.Path, f.Path))
}

// Faults is embedded in every fake service. Its zero value is not ready:
// use New.
type Faults struct {
	reporter Reporter
	closed   chan struct{}
	srv      *httptest.Server

	mu         sync.Mutex
	queue      []*Fault
	intercept  func(w http.ResponseWriter, r *http.Request) bool
	minLatency time.Duration
	maxLatency time.Duration
	requests   []string
	problems   []string
}

// New returns the fault state of one fake, reporting problems to rep (may be nil).
func New(rep Reporter) *Faults {
	return &Faults{reporter: rep, closed: make(chan struct{})}
}

// Inject queues a fault. Faults apply in the order injected; a request takes
// the first queued fault that matches it.
func (f *Faults) Inject(x Fault) {
	if x.Times == 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queue = append(f.queue, &x)
}

// Fail answers the next times requests with status, body and headers,
// without handling them.
func (f *Faults) Fail(status int, body string, headers map[string]string, times int) {
	f.Inject(Fault{Mode: Answer, Status: status, Body: body, Headers: headers, Times: times})
}

// Hang holds the next times requests until the client gives up.
func (f *Faults) Hang(times int) { f.Inject(Fault{Mode: Hang, Times: times}) }

// Malformed handles the next times requests and cuts their answer's body in half.
func (f *Faults) Malformed(times int) { f.Inject(Fault{Mode: Malformed, Times: times}) }

// DropAnswer handles the next times writes (POST, PUT, PATCH, DELETE): the
// post is stored, then the connection is closed without an answer.
func (f *Faults) DropAnswer(times int) {
	f.Inject(Fault{Mode: Drop, Writes: true, Times: times})
}

// Endless answers the next times requests with a 2xx body that never ends.
func (f *Faults) Endless(times int) { f.Inject(Fault{Mode: Endless, Times: times}) }

// Clear removes every queued fault and the intercept.
func (f *Faults) Clear() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queue, f.intercept = nil, nil
}

// Intercept sets a hook that sees every request first and answers it itself
// when it returns true (nil removes it).
func (f *Faults) Intercept(h func(w http.ResponseWriter, r *http.Request) bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.intercept = h
}

// SetLatency makes every request wait a random time in [lo, hi] before it
// is handled (0, 0 for none).
func (f *Faults) SetLatency(lo, hi time.Duration) {
	if hi < lo {
		hi = lo
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.minLatency, f.maxLatency = lo, hi
}

// Requests returns "METHOD /path" of every request so far.
func (f *Faults) Requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.requests...)
}

// Count returns how many requests so far start with prefix ("POST /wp-json").
func (f *Faults) Count(prefix string) int {
	n := 0
	for _, r := range f.Requests() {
		if strings.HasPrefix(r, prefix) {
			n++
		}
	}
	return n
}

// Problems returns the protocol problems seen so far.
func (f *Faults) Problems() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.problems...)
}

// Problemf records a protocol problem (and reports it, when there is a Reporter).
func (f *Faults) Problemf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	f.mu.Lock()
	f.problems = append(f.problems, msg)
	f.mu.Unlock()
	if f.reporter != nil {
		f.reporter.Errorf("%s", msg)
	}
}

// CheckUserAgent records a problem when the request's User-Agent is not
// want (or, when want is "", does not start with "incident/").
func (f *Faults) CheckUserAgent(r *http.Request, want string) {
	ua := r.Header.Get("User-Agent")
	if (want != "" && ua != want) || (want == "" && !strings.HasPrefix(ua, "incident/")) {
		f.Problemf("%s %s: User-Agent %q", r.Method, r.URL.Path, ua)
	}
}

// Serve starts service, behind Handler, on a loopback server and returns its
// URL. When the Reporter can register a cleanup (a *testing.T), Close is
// registered there.
func (f *Faults) Serve(service http.HandlerFunc) string {
	f.srv = httptest.NewServer(f.Handler(service))
	if c, ok := f.reporter.(interface{ Cleanup(func()) }); ok {
		c.Cleanup(f.Close)
	}
	return f.srv.URL
}

// Close ends hanging requests and stops the server.
func (f *Faults) Close() {
	f.Release()
	if f.srv != nil {
		f.srv.Close()
	}
}

// Release ends every hanging request (the server is closing).
func (f *Faults) Release() {
	select {
	case <-f.closed:
	default:
		close(f.closed)
	}
}

func (f *Faults) take(r *http.Request) *Fault {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, x := range f.queue {
		if !x.matches(r) {
			continue
		}
		if x.Times > 0 {
			x.Times--
			if x.Times == 0 {
				f.queue = append(f.queue[:i:i], f.queue[i+1:]...)
			}
		}
		c := *x
		return &c
	}
	return nil
}

// Handler wraps a service's handler with the request log, latency, the
// intercept and the queued faults.
func (f *Faults) Handler(service http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Read the body first, as a real server's framework does: only then
		// does net/http notice a client that gives up (r.Context ends).
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		f.mu.Lock()
		f.requests = append(f.requests, r.Method+" "+r.URL.Path)
		lo, hi, intercept := f.minLatency, f.maxLatency, f.intercept
		f.mu.Unlock()
		if hi > 0 {
			d := lo
			if hi > lo {
				d += rand.N(hi - lo + 1)
			}
			select {
			case <-time.After(d):
			case <-r.Context().Done():
				return
			case <-f.closed:
				return
			}
		}
		if intercept != nil && intercept(w, r) {
			return
		}
		x := f.take(r)
		if x == nil {
			service(w, r)
			return
		}
		switch x.Mode {
		case Answer:
			body := x.Body
			if x.EchoAuth {
				body += echo(r)
			}
			for k, v := range x.Headers {
				w.Header().Set(k, v)
			}
			if w.Header().Get("Content-Type") == "" {
				w.Header().Set("Content-Type", contentType(body))
			}
			w.WriteHeader(x.Status)
			_, _ = w.Write([]byte(body))
		case Hang:
			select {
			case <-r.Context().Done():
			case <-f.closed:
			}
		case Malformed:
			rec := &recorder{header: http.Header{}}
			service(rec, r)
			for k, v := range rec.header {
				w.Header()[k] = v
			}
			w.Header().Del("Content-Length")
			b := rec.body.Bytes()
			w.WriteHeader(rec.status())
			_, _ = w.Write(b[:len(b)/2])
		case Drop:
			rec := &recorder{header: http.Header{}}
			service(rec, r)
			panic(http.ErrAbortHandler) // the post is stored; the client never hears of it
		case Endless:
			endless(w)
		case Hold:
			rec := &recorder{header: http.Header{}}
			service(rec, r)
			if x.Held != nil {
				select {
				case x.Held <- r.Method + " " + r.URL.Path:
				default:
				}
			}
			select {
			case <-r.Context().Done():
			case <-f.closed:
			}
			panic(http.ErrAbortHandler) // the post is stored; no answer ever comes
		}
	})
}

// endless streams {"id":"1","url":"xxxx… until the client goes away or
// EndlessMax bytes were sent.
func endless(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	if _, err := io.WriteString(w, `{"id":"1","url":"`); err != nil {
		return
	}
	chunk := bytes.Repeat([]byte("x"), 64<<10)
	for sent := 0; sent < EndlessMax; sent += len(chunk) {
		if _, err := w.Write(chunk); err != nil {
			return
		}
	}
}

// echo lists the request's credential headers, as a careless server would.
func echo(r *http.Request) string {
	var b strings.Builder
	for name, vs := range r.Header {
		n := strings.ToLower(name)
		if n == "authorization" || n == "api-key" || n == "cookie" || strings.Contains(n, "token") || strings.Contains(n, "secret") {
			for _, v := range vs {
				fmt.Fprintf(&b, " [%s: %s]", name, v)
			}
		}
	}
	return b.String()
}

func contentType(body string) string {
	if s := strings.TrimSpace(body); strings.HasPrefix(s, "{") || strings.HasPrefix(s, "[") {
		return "application/json; charset=utf-8"
	}
	return "text/html; charset=utf-8"
}

// recorder collects a service's answer for Malformed and Drop.
type recorder struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
}
func (r *recorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	return r.body.Write(b)
}
func (r *recorder) status() int {
	if r.code == 0 {
		return http.StatusOK
	}
	return r.code
}
