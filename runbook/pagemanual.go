package runbook

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/incident-cli/incident/pagers"
)

// PageResult is one page made by hand (or a test page): to whom on which
// pager, and what the service answered.
type PageResult struct {
	Pager    string          `json:"pager"`
	Person   string          `json:"person,omitempty"`
	OnCall   bool            `json:"oncall,omitempty"`
	Receipt  *pagers.Receipt `json:"receipt,omitempty"`
	Error    string          `json:"error,omitempty"`
	Attempts int             `json:"attempts"`
	Note     string          `json:"note,omitempty"`
}

// PageTargets lists what `incident page --to` takes: every pager, every
// pager:person, pager:oncall where there is a rota, and each level of the
// default policy ("1", "2").
func (r *Runbook) PageTargets() []string {
	var out []string
	for _, p := range r.Pagers {
		out = append(out, p.Name)
		if len(p.People) > 0 && r.Escalation != nil && len(r.Escalation.Rota) > 0 {
			out = append(out, p.Name+":"+OnCallPerson)
		}
		for _, who := range p.People {
			out = append(out, p.Name+":"+who)
		}
	}
	if pol := r.Escalation.Policy(""); pol != nil {
		for _, l := range pol.Levels {
			out = append(out, strconv.Itoa(l.N))
		}
	}
	return out
}

// targetsOf reads `to`: "NAME", "NAME:PERSON", "NAME:oncall" (the person
// on call now), or a level of the incident's policy ("2"), into pages.
func (r *Runbook) targetsOf(inc *Incident, to string, now time.Time) ([]resolved, int, error) {
	to = strings.TrimSpace(to)
	if len(r.Pagers) == 0 {
		return nil, 0, &UsageError{errors.New("the runbook has no [[pager]]: declare one in incident.toml (see the README's \"Paging staff\")")}
	}
	if n, err := strconv.Atoi(to); err == nil {
		pol := r.Escalation.Policy("")
		if inc != nil {
			if p := r.policyFor(inc); p != nil {
				pol = p
			}
		}
		if pol == nil || n < 1 || n > len(pol.Levels) {
			levels := "there is no [[escalation]]"
			if pol != nil {
				levels = fmt.Sprintf("policy %q has levels 1 to %d", pol.Name, len(pol.Levels))
			}
			return nil, 0, &UsageError{fmt.Errorf("--to %s: no such level: %s", to, levels)}
		}
		var out []resolved
		seen := map[string]bool{}
		for _, t := range pol.Levels[n-1].Targets {
			for _, x := range r.resolveAt(t, now) {
				if k := x.pager.Name + "/" + x.person; !seen[k] {
					seen[k] = true
					out = append(out, x)
				}
			}
		}
		return out, n, nil
	}
	t, err := r.parseTarget(to, r.Escalation != nil && len(r.Escalation.Rota) > 0)
	if err != nil {
		return nil, 0, &UsageError{fmt.Errorf("--to %s: %v", to, err)}
	}
	return r.resolveAt(t, now), 0, nil
}

// resolveAt is resolve for a page by hand: the person on call now, and no
// severity rule (a person chose whom to page).
func (r *Runbook) resolveAt(t Target, now time.Time) []resolved {
	return r.resolve(t, now, false)
}

// PageByHand pages `to` about incident id (a colleague called in): each
// page recorded before it goes out and with its result (kind manual, the
// message in the event's text), through the retry stage, all at once. It
// returns each page's result; a page that failed is not retried by the
// timers (the caller sees it and may page again).
func (r *Runbook) PageByHand(ctx context.Context, id, to, message string) ([]PageResult, error) {
	inc, err := r.Store.LoadFresh(id)
	if err != nil {
		return nil, err
	}
	now := r.Now()
	targets, level, err := r.targetsOf(inc, to, now)
	if err != nil {
		return nil, err
	}
	summary := r.Responder + " calls you in"
	if m := strings.TrimSpace(message); m != "" {
		summary += ": " + m
	} else {
		summary += "."
	}
	run := randomHex(3)
	var jobs []job
	for _, x := range targets {
		key := "manual/" + now.Format("20060102T150405Z") + "-" + run + "/" + x.pager.Name
		if x.person != "" {
			key += "/" + x.person
		}
		j := job{action: Action{Incident: id, Kind: ActionPage, Key: key}, pager: x.pager,
			rec: PageRecord{Kind: PageManual, Level: level, Pager: x.pager.Name, Person: x.person, OnCall: x.onCall, Note: x.note}}
		j.page = r.composePage(inc, pagers.KindManual, x.pager, x.person, level, false, key, summary)
		rec := j.rec
		rec.State = PageSending
		e := Event{Kind: KindPage, At: r.Now(), By: r.Responder, Host: r.Host, Action: key, Page: &rec, Text: summary}
		if err := r.Store.Append(id, &e); err != nil {
			return nil, err
		}
		jobs = append(jobs, j)
	}
	out := make([]PageResult, len(jobs))
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec, n, err := retryStage(ctx, r.retryPolicy(), func(ctx context.Context, _ int) (pagers.Receipt, error) { return j.pager.Pager.Page(ctx, j.page) })
			d := r.recordPage(inc, j, &rec, err, n)
			out[i] = PageResult{Pager: j.rec.Pager, Person: j.rec.Person, OnCall: j.rec.OnCall, Attempts: n, Error: d.Error, Note: j.rec.Note}
			if rec.ID != "" || len(rec.To) > 0 {
				out[i].Receipt = &rec
			}
		}()
	}
	wg.Wait()
	return out, nil
}

// TestPage sends a test page to `to` ("NAME" or "NAME:PERSON"), about no
// incident: it says it is a test and that nothing is wrong. It is not
// recorded anywhere.
func (r *Runbook) TestPage(ctx context.Context, to, message string) ([]PageResult, error) {
	if strings.TrimSpace(to) == "" {
		return nil, &UsageError{errors.New("--test needs a pager: NAME or NAME:PERSON")}
	}
	if _, err := strconv.Atoi(strings.TrimSpace(to)); err == nil {
		return nil, &UsageError{fmt.Errorf("--test %s: test one pager (NAME or NAME:PERSON), not a level", to)}
	}
	now := r.Now()
	targets, _, err := r.targetsOf(nil, to, now)
	if err != nil {
		return nil, err
	}
	out := make([]PageResult, len(targets))
	var wg sync.WaitGroup
	for i, x := range targets {
		p := pagers.Page{Key: "test/" + now.Format("20060102T150405Z") + "-" + randomHex(3) + "/" + x.pager.Name + "/" + x.person,
			Kind: pagers.KindTest, Person: x.person, Summary: pagers.Plain(message), Now: now}
		p.Subject = pagers.Subject(p)
		p.Text = pagers.Body(p, x.pager.Name, r.Templates.When)
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec, n, err := retryStage(ctx, r.retryPolicy(), func(ctx context.Context, _ int) (pagers.Receipt, error) { return x.pager.Pager.Page(ctx, p) })
			out[i] = PageResult{Pager: x.pager.Name, Person: x.person, OnCall: x.onCall, Attempts: n, Note: x.note}
			if err != nil {
				out[i].Error = x.pager.Name + ": " + r.Secrets.Redact(err.Error())
			}
			if rec.ID != "" || len(rec.To) > 0 {
				out[i].Receipt = &rec
			}
		}()
	}
	wg.Wait()
	return out, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// doctorPaging is doctor's part for paging: each policy's levels, who the
// rota says is on call now, and with online each pager's credentials (a
// call that pages no one: Pushover users/validate, SMTP connect and
// login, IRC connect and quit).
func (r *Runbook) doctorPaging(ctx context.Context, online bool) []Check {
	var out []Check
	if r.Escalation != nil {
		for _, pol := range r.Escalation.Policies {
			var levels []string
			for _, l := range pol.Levels {
				var ts []string
				for _, t := range l.Targets {
					ts = append(ts, t.String())
				}
				s := fmt.Sprintf("at %s %s", shortDuration(l.After), strings.Join(ts, ", "))
				var facts []string
				if l.Urgent {
					facts = append(facts, "urgent")
				}
				if l.Repeat > 0 {
					facts = append(facts, "again every "+shortDuration(l.Repeat))
				}
				if len(facts) > 0 {
					s += " (" + strings.Join(facts, ", ") + ")"
				}
				levels = append(levels, s)
			}
			out = append(out, Check{What: "escalation " + pol.Name, OK: true, Info: strings.Join(levels, "; ")})
		}
		if len(r.Escalation.Rota) > 0 {
			who := r.OnCall(r.Now())
			if who == "" {
				who = "nobody (no shift covers now: pages to NAME:oncall go to everyone in NAME's `to`)"
			}
			out = append(out, Check{What: "rota", OK: true, Info: fmt.Sprintf("%d shift(s); on call now: %s", len(r.Escalation.Rota), who)})
		}
		if q := r.Escalation.Quiet; q != nil {
			out = append(out, Check{What: "quiet hours", OK: true, Info: fmt.Sprintf("%s to %s %s: only critical incidents page then", q.From, q.To, q.win.loc)})
		}
	}
	if !online {
		return out
	}
	for _, p := range r.Pagers {
		c := Check{What: "online pager " + p.Name, OK: true}
		v, ok := p.Pager.(pagers.Verifier)
		if !ok {
			c.Info = "nothing to check for type " + p.Type
			out = append(out, c)
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		who, err := v.Verify(cctx)
		cancel()
		if err != nil {
			c.OK, c.Info = false, r.Secrets.Redact(fmt.Sprintf("%s: %v", p.Name, err))
		} else {
			c.Info = "credentials work: " + r.Secrets.Redact(who)
		}
		out = append(out, c)
	}
	return out
}

// shortDuration writes "0s", "5m", "1h30m" without trailing zero units.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
