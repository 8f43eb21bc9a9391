package runbook

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/incident-cli/incident/publishers"
)

// Draft is what a responder asks to publish.
type Draft struct {
	Via       string // open, update, close, reopen
	Title     string // open
	Services  []string
	Severity  string
	Accounts  *int
	StartedAt *time.Time
	Status    string
	Message   string
}

// UsageError is a request that cannot be carried out as asked (a bad status,
// service or transition): nothing was written. Commands exit 2 on it.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// PublishOptions control one publish.
type PublishOptions struct {
	DryRun bool
	// OnResult is called as each channel's result arrives (from several
	// goroutines, one at a time).
	OnResult func(ChannelResult)

	skip map[string]string // update id/channel -> why another machine has it
}

// ChannelResult is one channel's outcome.
type ChannelResult struct {
	Channel    string `json:"channel"`
	Type       string `json:"type"`
	StatusPage bool   `json:"status_page"`
	Update     int    `json:"update,omitempty"`
	URL        string `json:"url,omitempty"`
	Error      string `json:"error,omitempty"`
	Skipped    bool   `json:"skipped,omitempty"` // not attempted: the status page failed first
}

// Result is what a publish or retry did.
type Result struct {
	Incident *Incident
	Update   *Update    // the update published (nil for retry)
	Rendered []Rendered // every channel's text
	Channels []ChannelResult
}

// StatusPageFailed reports whether the canonical update did not go out.
func (r *Result) StatusPageFailed() bool {
	for _, c := range r.Channels {
		if c.StatusPage && (c.Error != "" || c.Skipped) {
			return true
		}
	}
	return false
}

// Failed counts channels that failed or were skipped.
func (r *Result) Failed() int {
	n := 0
	for _, c := range r.Channels {
		if c.Error != "" || c.Skipped {
			n++
		}
	}
	return n
}

// Engine settings for the retry stage. Channels make one attempt per call;
// the engine retries retryable failures with backoff and jitter, honouring
// Retry-After, within a budget per channel.
type RetryPolicy struct {
	Attempts int           // attempts per channel per command
	Base     time.Duration // first backoff
	Max      time.Duration // longest single wait
	Timeout  time.Duration // per attempt
	Budget   time.Duration // total per channel; a longer Retry-After is left to `incident retry`
	Sleep    func(ctx context.Context, d time.Duration) error
}

// DefaultRetry is the policy commands use.
var DefaultRetry = RetryPolicy{Attempts: 4, Base: time.Second, Max: 20 * time.Second, Timeout: 30 * time.Second, Budget: 90 * time.Second}

// Retry is the runbook's retry policy (tests shorten it).
func (r *Runbook) retryPolicy() RetryPolicy {
	if r.RetryPolicy.Attempts == 0 {
		return DefaultRetry
	}
	return r.RetryPolicy
}

// Publish renders, records and publishes an update. For Via "open" it
// creates the incident. Render failures and over-limit texts stop it before
// anything is written. With DryRun it renders and returns.
func (r *Runbook) Publish(ctx context.Context, id string, d Draft, opt PublishOptions) (*Result, error) {
	now := r.Now()
	var (
		inc    *Incident
		events []Event
		err    error
	)
	if d.Via == "open" {
		if strings.TrimSpace(d.Title) == "" {
			return nil, errors.New("a title is required")
		}
		id = now.In(r.Zones[0]).Format("2006-01-02") + "-" + Slug(d.Title)
		open := Event{Kind: KindOpened, At: now, By: r.Responder, Host: r.Host, Title: d.Title,
			Severity: d.Severity, Services: d.Services, Accounts: d.Accounts, StartedAt: d.StartedAt, ID: "0-opened"}
		inc = Fold(id, []Event{open})
	} else {
		if inc, err = r.Store.Load(id); err != nil {
			return nil, err
		}
		events = inc.Events
	}
	if err := r.checkDraft(inc, d); err != nil {
		return nil, &UsageError{err}
	}
	upd := Event{Kind: KindUpdate, At: now, By: r.Responder, Host: r.Host, Status: d.Status, Message: d.Message,
		Accounts: d.Accounts, Channels: r.channelNames(), ID: "~pending-update"}
	if d.Via != "open" {
		upd.Services, upd.Severity, upd.StartedAt = d.Services, d.Severity, d.StartedAt
	}
	r.loadLimits(ctx)
	prospective := Fold(inc.ID, append(slices.Clone(inc.Events), upd))
	u := prospective.Updates[len(prospective.Updates)-1]
	url := r.linkURL(prospective)
	rendered, err := r.renderAll(prospective, u, url)
	res := &Result{Incident: prospective, Update: u, Rendered: rendered}
	if err != nil || opt.DryRun {
		return res, err
	}

	// Record, then publish.
	if d.Via == "open" {
		if id, err = r.Store.Create(d.Title, now.In(r.Zones[0])); err != nil {
			return nil, err
		}
	}
	unlock, err := r.Store.Lock(ctx, id)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if d.Via != "open" { // someone may have written since we read
		if inc, err = r.Store.Load(id); err != nil {
			return nil, err
		}
		if err := r.checkDraft(inc, d); err != nil {
			return nil, &UsageError{err}
		}
		events = inc.Events
	}
	// The update's time is taken under the lock, so the log's order (which
	// numbers the updates) is the order in which they are published.
	upd.ID, upd.At = "", r.Now()
	if d.Via == "open" {
		// A new incident and its first update are one event, written at
		// once: a process killed at any moment leaves either an incident
		// with its update recorded, or none.
		open := inc.Events[0]
		open.ID, open.At = "", upd.At
		open.Status, open.Message, open.Channels = upd.Status, upd.Message, upd.Channels
		upd = open
	}
	if err := r.Store.Append(id, &upd); err != nil {
		return nil, err
	}
	inc = Fold(id, append(events, upd))
	res.Incident, res.Update = inc, inc.Updates[len(inc.Updates)-1]
	res.Channels = r.deliver(freshDeliveries(ctx, inc, res.Update), inc, res.Update, opt)
	if inc, err = r.Store.Load(id); err == nil {
		res.Incident = inc
		res.Update = inc.Updates[len(inc.Updates)-1]
	}
	return res, nil
}

func (r *Runbook) checkDraft(inc *Incident, d Draft) error {
	if d.Via == "open" {
		if d.Severity != "" && !slices.Contains(Severities, d.Severity) {
			return fmt.Errorf("unknown severity %q: use minor, major or critical", d.Severity)
		}
	}
	if err := r.CheckServices(d.Services); err != nil {
		return err
	}
	if strings.TrimSpace(d.Message) == "" {
		return errors.New("a message is required")
	}
	if d.Via == "open" {
		if d.Status == Resolved {
			return errors.New("a new incident cannot start resolved")
		}
		return CheckTransition(&Incident{Status: Investigating}, d.Status, "update")
	}
	return CheckTransition(inc, d.Status, d.Via)
}

func (r *Runbook) channelNames() []string {
	var out []string
	for _, c := range r.Channels() {
		out = append(out, c.Name)
	}
	return out
}

// linkURL is the best-known URL of the incident's status post: its receipt,
// else the page's prediction, else a placeholder of typical length.
func (r *Runbook) linkURL(inc *Incident) string {
	if first, _ := inc.Thread(r.StatusPage.Name, true); first != nil && first.URL != "" {
		return first.URL
	}
	if l, ok := r.StatusPage.Pub.(publishers.Locator); ok {
		return l.URLFor(inc.ID, publishers.KindUpdate)
	}
	return "https://status.example.com/" + inc.ID + "/"
}

// Retry delivers every pending or failed delivery of an incident, in order:
// an update before the next, the status page before the links. It stops at
// the first update whose status page still fails.
func (r *Runbook) Retry(ctx context.Context, id string, opt PublishOptions) (*Result, error) {
	unlock, err := r.Store.Lock(ctx, id)
	if err != nil {
		return nil, err
	}
	defer unlock()
	inc, err := r.Store.Load(id)
	if err != nil {
		return nil, err
	}
	res := &Result{Incident: inc}
	if r.Sync != nil {
		if opt.skip, err = r.claim(ctx, id); err != nil {
			return nil, err
		}
		if inc, err = r.Store.Load(id); err != nil {
			return nil, err
		}
		res.Incident = inc
	}
	for i := range inc.Updates {
		u := inc.Updates[i]
		if !undelivered(u) {
			continue
		}
		got := r.deliver(ctx, inc, u, opt)
		res.Channels = append(res.Channels, got...)
		if inc, err = r.Store.Load(id); err != nil {
			return nil, err
		}
		res.Incident = inc
		if ctx.Err() != nil || (len(got) > 0 && got[0].StatusPage && got[0].Error != "") {
			break
		}
	}
	return res, nil
}

func undelivered(u *Update) bool {
	for _, d := range u.Deliveries {
		if d.State != Sent {
			return true
		}
	}
	return false
}

// deliver publishes update u to every channel that has not taken it: the
// status page first, then the link channels concurrently. Each result is
// recorded as it arrives.
func (r *Runbook) deliver(ctx context.Context, inc *Incident, u *Update, opt PublishOptions) []ChannelResult {
	var (
		mu      sync.Mutex
		results []ChannelResult
	)
	report := func(c ChannelResult) {
		mu.Lock()
		defer mu.Unlock()
		c.Update = u.Number
		results = append(results, c)
		if opt.OnResult != nil {
			opt.OnResult(c)
		}
	}
	state := upto(inc, u)
	pi := r.postIncident(state) // what every channel is told of the incident, rendered once
	sp := r.StatusPage
	url := ""
	if d := u.Delivery(sp.Name); d != nil && d.State == Sent {
		url = d.Receipt.URL
	} else if why, ok := opt.skip[u.Event.ID+"/"+sp.Name]; ok && d != nil {
		report(ChannelResult{Channel: sp.Name, Type: sp.Type, StatusPage: true, Skipped: true, Error: why})
		return results
	} else if d != nil {
		publish := r.publishStatus
		if u.RFO {
			publish = r.publishRFOStatus
		}
		rec, err := publish(ctx, inc, state, pi, u)
		if err != nil {
			report(ChannelResult{Channel: sp.Name, Type: sp.Type, StatusPage: true, Error: err.Error()})
			for _, ch := range r.Links {
				if d := u.Delivery(ch.Name); d != nil && d.State != Sent {
					report(ChannelResult{Channel: ch.Name, Type: ch.Type, Skipped: true,
						Error: "not sent: the status page has to take the update first"})
				}
			}
			return results
		}
		url = rec.URL
		report(ChannelResult{Channel: sp.Name, Type: sp.Type, StatusPage: true, URL: rec.URL})
	}
	if first, _ := inc.Thread(sp.Name, true); first != nil && first.URL != "" && !u.RFO {
		url = first.URL // links always point at the incident's post
	}
	var wg sync.WaitGroup
	for _, ch := range r.Links {
		d := u.Delivery(ch.Name)
		if d == nil || d.State == Sent {
			continue
		}
		if why, ok := opt.skip[u.Event.ID+"/"+ch.Name]; ok {
			report(ChannelResult{Channel: ch.Name, Type: ch.Type, Skipped: true, Error: why})
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec, err := r.publishLink(ctx, ch, inc, state, pi, u, url)
			c := ChannelResult{Channel: ch.Name, Type: ch.Type}
			if err != nil {
				c.Error = err.Error()
			} else {
				c.URL = rec.URL
			}
			report(c)
		}()
	}
	wg.Wait()
	return results
}

func (r *Runbook) publishStatus(ctx context.Context, inc, state *Incident, pi publishers.Incident, u *Update) (publishers.Receipt, error) {
	sp := r.StatusPage
	x, err := r.renderStatus(state, u, "")
	if err != nil {
		return r.record(inc, u, sp, publishers.Receipt{}, publishers.Permanent(err), 0)
	}
	first, last := inc.Thread(sp.Name, true)
	post := publishers.Post{Key: key(inc, u, sp), Kind: publishers.KindUpdate, Title: x.Title, Text: x.Text, HTML: x.HTML,
		Thread: first, Parent: last, Incident: pi}
	rec, attempts, err := r.attempt(ctx, sp, post)
	return r.record(inc, u, sp, rec, err, attempts)
}

func (r *Runbook) publishLink(ctx context.Context, ch *Channel, inc, state *Incident, pi publishers.Incident, u *Update, url string) (publishers.Receipt, error) {
	x, err := r.renderLink(ch, state, u, url)
	if err == nil && x.Over() {
		err = fmt.Errorf("the text is %d characters, over the limit of %d", x.Length, x.Limit)
	}
	if err != nil {
		return r.record(inc, u, ch, publishers.Receipt{}, publishers.Permanent(err), 0)
	}
	first, last := inc.Thread(ch.Name, false)
	post := publishers.Post{Key: key(inc, u, ch), Kind: publishers.KindUpdate, Title: x.Title, Text: x.Text,
		Link: url, Thread: first, Parent: last, Incident: pi, Texts: map[string]string{ch.Template: x.Text}}
	if u.RFO {
		post.Kind = publishers.KindRFO
	}
	rec, attempts, err := r.attempt(ctx, ch, post)
	return r.record(inc, u, ch, rec, err, attempts)
}

// key is the idempotency key of an update on a channel: stable across
// retries and machines, since it comes from the update event's own id.
func key(inc *Incident, u *Update, ch *Channel) string {
	return inc.ID + "/" + u.Event.ID + "/" + ch.Name
}

// record appends the delivery's result. The error returned is the channel's,
// prefixed with its name and with secrets redacted.
func (r *Runbook) record(inc *Incident, u *Update, ch *Channel, rec publishers.Receipt, err error, attempts int) (publishers.Receipt, error) {
	e := Event{At: r.Now(), By: r.Responder, Host: r.Host, Update: u.Event.ID, Channel: ch.Name}
	if err == nil {
		if rec.At.IsZero() {
			rec.At = e.At
		}
		e.Kind, e.Receipt = KindDelivered, &rec
	} else {
		msg := r.Secrets.Redact(err.Error())
		e.Kind, e.Error, e.Attempts, e.Permanent = KindFailed, msg, attempts, !publishers.Retryable(err)
		err = fmt.Errorf("%s: %s", ch.Name, msg)
	}
	// The record is written even when ctx was cancelled: Ctrl-C must leave
	// the ledger true.
	if werr := r.Store.Append(inc.ID, &e); werr != nil {
		return rec, fmt.Errorf("%s: delivered, but recording it failed (%v); `incident retry` may post it again", ch.Name, werr)
	}
	return rec, err
}

// ErrInterrupted is recorded for a delivery not attempted because the
// command was interrupted (Ctrl-C): `incident retry` sends it.
var ErrInterrupted = errors.New("not sent: the command was interrupted; `incident retry` sends it")

// attempt runs the retry stage for one channel. When ctx is cancelled (the
// first Ctrl-C), no new attempt starts and no backoff is waited out, but an
// attempt in flight is allowed to finish (within its own timeout), so its
// result is known and recorded.
func (r *Runbook) attempt(ctx context.Context, ch *Channel, post publishers.Post) (publishers.Receipt, int, error) {
	p := r.retryPolicy()
	sleep := p.Sleep
	if sleep == nil {
		sleep = sleepCtx
	}
	start := time.Now()
	var err error
	for n := 1; ; n++ {
		if ctx.Err() != nil {
			if err == nil {
				err = ErrInterrupted
			}
			return publishers.Receipt{}, n - 1, err
		}
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.Timeout)
		var rec publishers.Receipt
		post.Fresh = n == 1 && isFresh(ctx, post.Key) // no earlier attempt can have left a twin
		rec, err = ch.Pub.Publish(actx, post)
		timedOut := actx.Err() == context.DeadlineExceeded
		cancel()
		if err == nil {
			return rec, n, nil
		}
		if timedOut {
			err = fmt.Errorf("%w (no answer within %s)", err, p.Timeout)
		}
		if !publishers.Retryable(err) || n >= p.Attempts || ctx.Err() != nil {
			return rec, n, err
		}
		wait := backoff(p, n)
		if ra := publishers.RetryAfter(err); ra > 0 {
			wait = ra
		}
		if time.Since(start)+wait > p.Budget {
			return rec, n, fmt.Errorf("%w; the service asks to wait %s: run `incident retry` then", err, wait.Round(time.Second))
		}
		if serr := sleep(ctx, wait); serr != nil {
			return rec, n, err
		}
	}
}

func backoff(p RetryPolicy, n int) time.Duration {
	d := p.Base << (n - 1)
	if d > p.Max || d <= 0 {
		d = p.Max
	}
	return d/2 + rand.N(d/2+1) // jitter: between half and the whole
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// loadLimits asks channels whose limit depends on the service for it, all at
// once, within two seconds; a channel that does not answer keeps its default.
func (r *Runbook) loadLimits(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for _, ch := range r.Links {
		if l, ok := ch.Pub.(publishers.LimitLoader); ok {
			wg.Add(1)
			go func() { defer wg.Done(); l.LoadLimit(ctx) }()
		}
	}
	wg.Wait()
}
