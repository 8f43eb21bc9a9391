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
	// Phase, Step and Run name the checklist step publishing the update, if
	// any: recorded with the update itself, so a walk interrupted between
	// publishing and recording its step never offers to publish again.
	Phase, Step, Run string
	// Author, Action and Reason are set by what the tool publishes by
	// itself: AutomaticAuthor, the timed action's key (which settles its
	// claim), and why it was due.
	Author, Action, Reason string
	States                 map[string]string // service id -> state (see ParseStates); the rest keep theirs or take the severity's default
	Related                []string          // open: ids of earlier incidents this one recurs
	// Window, with Via "open" and Status Scheduled, schedules a
	// maintenance window instead of opening an incident (see
	// ScheduleDraft); Via "maintenance" moves a window to its next phase.
	Window *Window
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

	// Alone lets retry deliver without coordinating with other machines
	// when the shared runbook's remote cannot be reached (another machine
	// retrying at the same time may then post twice where a channel cannot
	// deduplicate).
	Alone bool

	skip   map[string]string // delivery key -> why another machine has it
	locked bool              // the caller holds the incident's lock
}

// ChannelResult is one channel's outcome.
type ChannelResult struct {
	Channel    string `json:"channel"`
	Type       string `json:"type"`
	StatusPage bool   `json:"status_page"`
	Update     int    `json:"update,omitempty"`
	URL        string `json:"url,omitempty"`
	Error      string `json:"error,omitempty"`
	Skipped    bool   `json:"skipped,omitempty"`    // not attempted: the status page failed first, or another machine has it
	Superseded bool   `json:"superseded,omitempty"` // not posted: the channel already has a newer update
	Note       string `json:"note,omitempty"`       // what the channel had to do ("shortened to fit ...")
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
		inc *Incident
		err error
	)
	if d.Via == "open" {
		if strings.TrimSpace(d.Title) == "" {
			return nil, errors.New("a title is required")
		}
		id = r.Store.NewID(d.Title, now.In(r.Zones[0]))
		open := Event{Kind: KindOpened, At: now, By: r.Responder, Host: r.Host, Title: d.Title,
			Severity: d.Severity, Services: d.Services, Accounts: d.Accounts, StartedAt: d.StartedAt, Related: d.Related, Maintenance: d.Window, ID: "0-opened"}
		inc = Fold(id, []Event{open})
	} else {
		if inc, err = r.Store.Load(id); err != nil {
			return nil, err
		}
	}
	if err := r.checkDraft(inc, d); err != nil {
		return nil, &UsageError{err}
	}
	by := r.Responder
	if d.Author != "" {
		by = d.Author
	}
	upd := Event{Kind: KindUpdate, At: now, By: by, Host: r.Host, Status: d.Status, Message: d.Message,
		Accounts: d.Accounts, Channels: r.channelNames(), ID: "~pending-update", Phase: d.Phase, Step: d.Step, Run: d.Run,
		Action: d.Action, Text: d.Reason}
	if d.Via != "open" {
		upd.Services, upd.Severity, upd.StartedAt = d.Services, d.Severity, d.StartedAt
	}
	upd.States = nextStates(inc, d)
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
	var unlock func()
	if d.Via == "open" {
		// A new incident and its first update are one event, written with
		// the folder: a process killed at any moment leaves either an
		// incident with its update recorded, or none.
		open := inc.Events[0]
		open.ID, open.At = "", r.Now()
		open.Status, open.Message, open.Channels = upd.Status, upd.Message, upd.Channels
		open.Phase, open.Step, open.Run, open.States = upd.Phase, upd.Step, upd.Run, upd.States
		if id, unlock, err = r.Store.Create(id, &open); err != nil {
			return nil, err
		}
		defer unlock()
		upd = open
	} else {
		if !opt.locked {
			if unlock, err = r.Store.Lock(ctx, id); err != nil {
				return nil, err
			}
			defer unlock()
		}
		// Someone may have written since we read.
		if inc, err = r.Store.LoadFresh(id); err != nil {
			return nil, err
		}
		if err := r.checkDraft(inc, d); err != nil {
			return nil, &UsageError{err}
		}
		upd.States = nextStates(inc, d)
		// The update's time is taken under the lock, so the log's order
		// (which numbers the updates) is the order in which they are
		// published.
		upd.ID, upd.At = "", r.Now()
		if err := r.Store.Append(id, &upd); err != nil {
			return nil, err
		}
	}
	if inc, err = r.Store.LoadFresh(id); err != nil {
		return nil, err
	}
	res.Incident, res.Update = inc, inc.update(upd.ID)
	res.Channels = r.deliver(freshDeliveries(ctx, inc, res.Update), inc, res.Update, opt)
	if inc, err = r.Store.LoadFresh(id); err == nil {
		res.Incident, res.Update = inc, inc.update(upd.ID)
	}
	return res, nil
}

func (r *Runbook) checkDraft(inc *Incident, d Draft) error {
	if d.Window != nil || inc.Maintenance != nil || d.Via == "maintenance" {
		return r.checkMaintenance(inc, d)
	}
	if d.Via == "open" {
		if d.Severity != "" && !slices.Contains(Severities, d.Severity) {
			return fmt.Errorf("unknown severity %q: use minor, major or critical", d.Severity)
		}
		if err := r.CheckRelated(d.Related); err != nil {
			return err
		}
	}
	if err := r.CheckServices(d.Services); err != nil {
		return err
	}
	if err := r.checkStates(inc, d); err != nil {
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
//
// With git sync, each update's deliveries are claimed (see coordinate)
// right before they are made, and their results are pushed as soon as they
// are recorded, so a claim is never held longer than one update's
// deliveries. When another machine holds an update, the rest is left to it
// too: it delivers in order. Without coordination (the remote out of
// reach) nothing is retried, unless opt.Alone says this machine may act
// alone.
func (r *Runbook) Retry(ctx context.Context, id string, opt PublishOptions) (*Result, error) {
	unlock, err := r.Store.Lock(ctx, id)
	if err != nil {
		return nil, err
	}
	defer unlock()
	inc, err := r.Store.LoadFresh(id)
	if err != nil {
		return nil, err
	}
	res := &Result{Incident: inc}
	done := map[string]bool{}
	for {
		if r.Sync != nil && !opt.Alone {
			if err := r.Sync.Pull(ctx); err != nil {
				return res, err
			}
			if inc, err = r.Store.LoadFresh(id); err != nil {
				return res, err
			}
			res.Incident = inc
		}
		var u *Update
		for _, x := range inc.Updates {
			if !done[x.Event.ID] && undelivered(x) {
				u = x
				break
			}
		}
		if u == nil {
			return res, nil
		}
		done[u.Event.ID] = true
		opt.skip = nil
		if r.Sync != nil && !opt.Alone {
			var keys []string
			for _, d := range u.Deliveries {
				if !d.Done() {
					keys = append(keys, deliveryKey(u.Event.ID, d.Channel))
				}
			}
			if opt.skip, err = r.coordinate(ctx, id, keys, fmt.Sprintf("update #%d", u.Number)); err != nil {
				return res, err
			}
			if inc, err = r.Store.LoadFresh(id); err != nil {
				return res, err
			}
			u = inc.update(u.Event.ID)
		}
		got := r.deliver(ctx, inc, u, opt)
		res.Channels = append(res.Channels, got...)
		if r.Sync != nil && !opt.Alone {
			// Results are shared at once: a claim never outlives them.
			_ = r.SyncAfter(ctx, fmt.Sprintf("incident: retry of update #%d on %s", u.Number, id))
		}
		if inc, err = r.Store.LoadFresh(id); err != nil {
			return res, err
		}
		res.Incident = inc
		held := false
		for _, c := range got {
			held = held || (c.Skipped && opt.skip[deliveryKey(u.Event.ID, c.Channel)] != "")
		}
		if ctx.Err() != nil || held || (len(got) > 0 && got[0].StatusPage && got[0].Error != "") {
			return res, nil
		}
	}
}

func undelivered(u *Update) bool {
	for _, d := range u.Deliveries {
		if !d.Done() {
			return true
		}
	}
	return false
}

// deliver publishes update u to every channel that has not taken it: the
// status page first, then the link channels concurrently. Each result is
// recorded as it arrives. A channel that already took a newer update does
// not get this one: the delivery is recorded as superseded (see newerSent).
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
	d := u.Delivery(sp.Name)
	switch why, skipped := opt.skip[deliveryKey(u.Event.ID, sp.Name)]; {
	case d == nil:
	case d.State == Sent:
		url = d.Receipt.URL
	case d.Done():
	case skipped:
		report(ChannelResult{Channel: sp.Name, Type: sp.Type, StatusPage: true, Skipped: true, Error: why})
		return results
	case inc.newerSent(u, sp.Name) != nil:
		report(r.supersede(inc, u, sp, inc.newerSent(u, sp.Name)))
	default:
		publish := r.publishStatus
		if u.RFO {
			publish = r.publishRFOStatus
		}
		rec, err := publish(ctx, inc, state, pi, u)
		if err != nil {
			report(ChannelResult{Channel: sp.Name, Type: sp.Type, StatusPage: true, Error: err.Error()})
			for _, ch := range r.Links {
				if d := u.Delivery(ch.Name); d != nil && !d.Done() {
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
		if d == nil || d.Done() {
			continue
		}
		if why, ok := opt.skip[deliveryKey(u.Event.ID, ch.Name)]; ok {
			report(ChannelResult{Channel: ch.Name, Type: ch.Type, Skipped: true, Error: why})
			continue
		}
		if n := inc.newerSent(u, ch.Name); n != nil {
			report(r.supersede(inc, u, ch, n))
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec, note, err := r.publishLink(ctx, ch, inc, state, pi, u, url)
			c := ChannelResult{Channel: ch.Name, Type: ch.Type, Note: note}
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

// newerSent returns a later update of the same kind (an update, or an RFO
// post) that channel already took, or nil. Posting u there now would show
// customers an older state after a newer one: the status page would roll
// back (the static page open again, Statuspage PATCHed back to
// "identified"), a forum or social thread would go back in time. A status
// post shows every update, so the newer one already holds u's text; a link
// post only points there.
func (inc *Incident) newerSent(u *Update, channel string) *Update {
	after := false
	for _, x := range inc.Updates {
		if x == u {
			after = true
			continue
		}
		if !after || x.RFO != u.RFO {
			continue
		}
		if d := x.Delivery(channel); d != nil && d.State == Sent {
			return x
		}
	}
	return nil
}

// supersede records that update u is not posted on ch because newer took
// its place there.
func (r *Runbook) supersede(inc *Incident, u *Update, ch *Channel, newer *Update) ChannelResult {
	c := ChannelResult{Channel: ch.Name, Type: ch.Type, StatusPage: ch.StatusPage, Superseded: true}
	what := fmt.Sprintf("update #%d", newer.Number)
	if newer.RFO {
		what = "a newer RFO"
	}
	c.Note = fmt.Sprintf("not posted: %s is already there, and an older update after it would mislead customers", what)
	e := Event{Kind: KindDelivered, At: r.Now(), By: r.Responder, Host: r.Host, Update: u.Event.ID, Channel: ch.Name,
		SupersededBy: newer.Event.ID}
	if err := r.Store.Append(inc.ID, &e); err != nil {
		c.Error = fmt.Sprintf("%s: recording that it is superseded failed (%v)", ch.Name, err)
	}
	return c
}

func (r *Runbook) publishStatus(ctx context.Context, inc, state *Incident, pi publishers.Incident, u *Update) (publishers.Receipt, error) {
	sp := r.StatusPage
	x, err := r.renderStatus(state, u, "")
	if err != nil {
		return r.record(inc, u, sp, publishers.Receipt{}, publishers.Permanent(err), 0, "")
	}
	first, last := inc.Thread(sp.Name, true)
	post := publishers.Post{Key: key(inc, u, sp), Kind: publishers.KindUpdate, Title: x.Title, Text: x.Text, HTML: x.HTML,
		Thread: first, Parent: last, Incident: pi}
	rec, attempts, err := r.attempt(ctx, sp, post)
	return r.record(inc, u, sp, rec, err, attempts, "")
}

// publishLink renders ch's text with the status post's real URL and posts
// it. The length was checked before anything was published, but sometimes
// with a predicted or placeholder URL (WordPress and Statuspage tell theirs
// only once the post exists): when the real one no longer fits, the text is
// shortened the channel's own way, never the link, and the note says so.
func (r *Runbook) publishLink(ctx context.Context, ch *Channel, inc, state *Incident, pi publishers.Incident, u *Update, url string) (publishers.Receipt, string, error) {
	x, err := r.renderLink(ch, state, u, url)
	note := ""
	if err == nil && x.Over() {
		if c, ok := ch.Pub.(publishers.Counter); ok {
			if text, ok := fit(x.Text, url, c); ok {
				x.Text = text
				x.Length, x.Limit = c.Length(text)
				note = fmt.Sprintf("shortened to fit %d/%d: the status post's address is longer than the one checked before publishing", x.Length, x.Limit)
			}
		}
		if x.Over() {
			err = fmt.Errorf("the text is %d characters, over the limit of %d", x.Length, x.Limit)
		}
	}
	if err != nil {
		rec, err := r.record(inc, u, ch, publishers.Receipt{}, publishers.Permanent(err), 0, "")
		return rec, "", err
	}
	first, last := inc.Thread(ch.Name, false)
	post := publishers.Post{Key: key(inc, u, ch), Kind: publishers.KindUpdate, Title: x.Title, Text: x.Text, HTML: x.HTML,
		Link: url, Thread: first, Parent: last, Incident: pi, Texts: map[string]string{ch.Template: x.Text}}
	if u.RFO {
		post.Kind = publishers.KindRFO
	}
	rec, attempts, err := r.attempt(ctx, ch, post)
	rec, err = r.record(inc, u, ch, rec, err, attempts, note)
	if err != nil {
		note = ""
	}
	return rec, note, err
}

// key is the idempotency key of an update on a channel: stable across
// retries and machines, since it comes from the update event's own id.
func key(inc *Incident, u *Update, ch *Channel) string {
	return inc.ID + "/" + u.Event.ID + "/" + ch.Name
}

// record appends the delivery's result (with the note of what the channel
// had to do, for a success). The error returned is the channel's, prefixed
// with its name, with secrets redacted and cut to publishers.MaxRecorded (a
// service's megabyte of HTML is not recorded).
func (r *Runbook) record(inc *Incident, u *Update, ch *Channel, rec publishers.Receipt, err error, attempts int, note string) (publishers.Receipt, error) {
	e := Event{At: r.Now(), By: r.Responder, Host: r.Host, Update: u.Event.ID, Channel: ch.Name}
	if err == nil {
		if rec.At.IsZero() {
			rec.At = e.At
		}
		e.Kind, e.Receipt, e.Note = KindDelivered, &rec, note
	} else {
		msg := r.Secrets.Clip(err.Error(), publishers.MaxRecorded)
		e.Kind, e.Error, e.Attempts, e.Permanent = KindFailed, msg, attempts, !publishers.Retryable(err)
		err = fmt.Errorf("%s: %s", ch.Name, msg)
	}
	// The record is written even when ctx was cancelled: Ctrl-C must leave
	// the ledger true.
	if werr := r.Store.Append(inc.ID, &e); werr != nil {
		if err != nil {
			return rec, fmt.Errorf("%w; recording the failure failed too (%v): `incident retry` tries it again", err, werr)
		}
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
	return retryStage(ctx, r.retryPolicy(), func(ctx context.Context, n int) (publishers.Receipt, error) {
		post.Fresh = n == 1 && isFresh(ctx, post.Key) // no earlier attempt can have left a twin
		return ch.Pub.Publish(ctx, post)
	})
}

// retryStage is the one retry stage, for channels and pagers: it calls
// once per attempt, retrying retryable failures with backoff (or the
// Retry-After the service asked for) within p's budget, and returns the
// last answer (a pager's partial receipt comes with its error), how many
// attempts were made, and the last error.
func retryStage[T any](ctx context.Context, p RetryPolicy, call func(ctx context.Context, attempt int) (T, error)) (T, int, error) {
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
			var zero T
			return zero, n - 1, err
		}
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.Timeout)
		var rec T
		rec, err = call(actx, n)
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
		// The next attempt must end within the budget (it may take the
		// whole timeout): a channel never holds a delivery, and the claim
		// on it, longer than Budget.
		if time.Since(start)+wait+p.Timeout > p.Budget {
			if ra := publishers.RetryAfter(err); ra > 0 {
				return rec, n, fmt.Errorf("%w; the service asks to wait %s: run `incident retry` then", err, wait.Round(time.Second))
			}
			return rec, n, fmt.Errorf("%w; gave up after %d attempts in %s: run `incident retry` later", err, n, time.Since(start).Round(time.Second))
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
