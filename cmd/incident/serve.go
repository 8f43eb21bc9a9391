package main

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/incident-cli/incident/alerts"
	"github.com/incident-cli/incident/publishers"
	"github.com/incident-cli/incident/runbook"
)

// DefaultListen is where `incident serve` listens unless told otherwise.
const DefaultListen = "127.0.0.1:9099"

func (a *app) newServeCmd() *cobra.Command {
	var (
		listen   string
		every    time.Duration
		addrFile string
	)
	c := &cobra.Command{
		Use:   "serve [--listen ADDR]",
		Short: "Receive alerts over HTTP and run the timers (long-running)",
		Long: `Receive alerts from monitoring systems over HTTP and run the timers: the
automatic first update of an alert nobody acknowledged, private closing of what
recovered, the reminder, start and completion of maintenance windows, retries of
undelivered posts, and paging: each escalation level as it comes due (the first
as soon as the alert is recorded), retries of pages that failed, polls of urgent
pages for an acknowledgement, and, once someone acknowledges, cancelling the
emergencies and telling those paged.

Paths: POST /alerts/alertmanager, /alerts/grafana, /alerts/nodeping,
/alerts/uptime-kuma, /alerts/generic; GET /healthz. A request carries the token
of [alerts] token as "Authorization: Bearer TOKEN", as the password of HTTP basic
auth, or (for senders that can set neither) as ?token=TOKEN. Off loopback the
token is required. An alert is answered 2xx only once it is recorded on disk; a
payload that cannot be read gets 400 and changes nothing.

SIGTERM (or Ctrl-C) lets requests and posts in flight finish, then exits.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			rb, err := a.runbook()
			if err != nil {
				return err
			}
			return a.serve(c.Context(), rb, listen, every, addrFile)
		},
	}
	c.Flags().StringVar(&listen, "listen", DefaultListen, "address to listen on (host:port)")
	c.Flags().DurationVar(&every, "tick", 15*time.Second, "how often the timers run")
	c.Flags().StringVar(&addrFile, "addr-file", "", "write the address listened on to this file (for scripts and tests)")
	return c
}

// receiver is the HTTP side of `incident serve`.
type receiver struct {
	a      *app
	rb     *runbook.Runbook
	token  string
	limits *limiter
	poke   chan struct{} // tells the timer loop that something was recorded
	log    *log.Logger
}

func (a *app) serve(ctx context.Context, rb *runbook.Runbook, listen string, every time.Duration, addrFile string) error {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return usageErrorf("--listen %q: %v (write it like 127.0.0.1:9099 or :9099)", listen, err)
	}
	r := &receiver{a: a, rb: rb, poke: make(chan struct{}, 1), log: log.New(a.sys.Err, "", log.LstdFlags|log.LUTC),
		limits: newLimiter(rb.Config.Alerts.RatePerMinute, rb.Now)}
	if tok := rb.Config.Alerts.Token; !tok.IsZero() {
		if r.token, err = rb.Secrets.Resolve(ctx, tok); err != nil {
			return fmt.Errorf("[alerts] token: %w", err)
		}
	} else if !publishers.IsLoopback(host) {
		return usageErrorf("--listen %s is reachable from other machines, so a token is required: set [alerts] token = \"env:INCIDENT_ALERT_TOKEN\" in %s", listen, rb.ConfigFile)
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	addr := ln.Addr().String()
	if addrFile != "" {
		if err := os.WriteFile(addrFile, []byte(addr+"\n"), 0o600); err != nil {
			return err
		}
	}
	srv := &http.Server{Handler: r, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10,
		ErrorLog: log.New(io.Discard, "", 0)}
	r.log.Printf("listening on http://%s (alerts: /alerts/{%s}; timers every %s)", addr, strings.Join(alerts.Sources(), ","), every)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		r.timers(ctx, every)
	}()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	r.log.Printf("stopping: finishing requests and posts in flight")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	wg.Wait()
	return nil
}

// timers runs the timers every interval, and at once when the receiver
// records an alert (so its first level pages now), sharing what was
// recorded (with git sync). Git is touched by this goroutine only.
func (r *receiver) timers(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	run := func() {
		rb := r.rb
		if err := rb.SyncBefore(ctx); err != nil {
			r.log.Printf("sync: %v", rb.Secrets.Redact(err.Error()))
		}
		done, err := rb.Tick(ctx, rb.Now(), runbook.PublishOptions{OnResult: func(c runbook.ChannelResult) {
			var b strings.Builder
			printChannelResult(&b, c)
			r.log.Print(clean(strings.TrimSpace(b.String())))
		}})
		if err != nil {
			r.log.Printf("timers: %v", rb.Secrets.Redact(err.Error()))
		}
		var b strings.Builder
		r.a.printDone(&b, done)
		for _, l := range strings.Split(strings.TrimSpace(b.String()), "\n") {
			if l != "" {
				r.log.Print(l)
			}
		}
		if rb.Sync != nil {
			_ = rb.SyncAfter(context.WithoutCancel(ctx), "incident serve: alerts and timers")
			if rb.Sync.Pending != nil {
				r.log.Printf("sync pending: %v", rb.Secrets.Redact(rb.Sync.Pending.Error()))
			}
		}
	}
	run()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			run()
		case <-r.poke:
			run() // an alert was recorded: its level 1 pages now, not at the next tick
		}
	}
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	switch {
	case req.URL.Path == "/healthz":
		if req.Method != http.MethodGet && req.Method != http.MethodHead {
			answer(w, http.StatusMethodNotAllowed, map[string]string{"error": "use GET /healthz"})
			return
		}
		answer(w, http.StatusOK, map[string]string{"status": "ok"})
		return
	case !strings.HasPrefix(req.URL.Path, "/alerts/"):
		answer(w, http.StatusNotFound, map[string]string{"error": "no such path: POST alerts to /alerts/{" + strings.Join(alerts.Sources(), ",") + "}"})
		return
	}
	source := strings.TrimPrefix(req.URL.Path, "/alerts/")
	if !slices.Contains(alerts.Sources(), source) {
		answer(w, http.StatusNotFound, map[string]string{"error": fmt.Sprintf("unknown source %q: POST to /alerts/{%s}", source, strings.Join(alerts.Sources(), ","))})
		return
	}
	if req.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		answer(w, http.StatusMethodNotAllowed, map[string]string{"error": "alerts are POSTed"})
		return
	}
	if !r.authorized(req) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="incident"`)
		r.log.Printf("%s %s from %s: refused: no or wrong token", req.Method, req.URL.Path, req.RemoteAddr)
		answer(w, http.StatusUnauthorized, map[string]string{"error": "a valid token is required: send the token of [alerts] token as \"Authorization: Bearer TOKEN\" or as the basic-auth password"})
		return
	}
	if wait, ok := r.limits.allow(source); !ok {
		w.Header().Set("Retry-After", fmt.Sprint(int(wait.Seconds()+1)))
		answer(w, http.StatusTooManyRequests, map[string]string{"error": fmt.Sprintf("more than %d requests a minute from %s; try again later", r.rb.Config.Alerts.RatePerMinute, source)})
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, maxAlertBody))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		answer(w, http.StatusRequestEntityTooLarge, map[string]string{"error": fmt.Sprintf("the payload is over %d bytes; nothing was recorded (Alertmanager: set max_alerts)", maxAlertBody)})
		return
	case err != nil:
		answer(w, http.StatusBadRequest, map[string]string{"error": "reading the payload: " + err.Error()})
		return
	}
	as, err := alerts.Parse(source, body)
	var ign *alerts.Ignored
	switch {
	case errors.As(err, &ign):
		r.log.Printf("%s: %s", source, clean(ign.Error()))
		answer(w, http.StatusOK, map[string]string{"ignored": ign.Reason})
		return
	case err != nil:
		r.log.Printf("%s: refused: %s", source, clean(err.Error()))
		answer(w, http.StatusBadRequest, map[string]string{"error": err.Error() + "; nothing was recorded"})
		return
	}
	in, err := r.rb.TakeAlerts(req.Context(), as)
	if err != nil {
		r.log.Printf("%s: not recorded: %s", source, clean(r.rb.Secrets.Redact(err.Error())))
		answer(w, http.StatusServiceUnavailable, map[string]string{"error": "not recorded, try again: " + r.rb.Secrets.Redact(err.Error())})
		return
	}
	for _, x := range in {
		r.log.Printf("%s: %s %s", clean(x.Alert), x.What, x.Incident)
	}
	select {
	case r.poke <- struct{}{}:
	default:
	}
	answer(w, http.StatusOK, map[string]any{"recorded": in})
}

// authorized checks the token, in constant time, wherever the request
// carries it. Without a token configured (loopback only) every request is.
func (r *receiver) authorized(req *http.Request) bool {
	if r.token == "" {
		return true
	}
	var got string
	if h := req.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
		got = strings.TrimPrefix(h, "Bearer ")
	} else if _, p, ok := req.BasicAuth(); ok {
		got = p
	} else {
		got = req.URL.Query().Get("token")
	}
	return subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(r.token)) == 1
}

func answer(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// limiter allows each source perMinute requests a minute: a token bucket
// that refills continuously.
type limiter struct {
	mu        sync.Mutex
	perMinute float64
	now       func() time.Time
	buckets   map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newLimiter(perMinute int, now func() time.Time) *limiter {
	return &limiter{perMinute: float64(perMinute), now: now, buckets: map[string]*bucket{}}
}

// allow takes a token for source, or says how long until one is there.
func (l *limiter) allow(source string) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b := l.buckets[source]
	if b == nil {
		b = &bucket{tokens: l.perMinute, at: now}
		l.buckets[source] = b
	}
	b.tokens = min(l.perMinute, b.tokens+now.Sub(b.at).Minutes()*l.perMinute)
	b.at = now
	if b.tokens >= 1 {
		b.tokens--
		return 0, true
	}
	return time.Duration((1 - b.tokens) / l.perMinute * float64(time.Minute)), false
}
