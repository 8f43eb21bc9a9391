package statuspage

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/incident-cli/incident/publishers"
	"github.com/incident-cli/incident/publishers/fakeservice"
	"github.com/incident-cli/incident/publishers/publisherstest"
	"github.com/incident-cli/incident/publishers/statuspage/statuspagetest"
)

const secretValue = "0123456789abcdef0123456789abcdef"

func newFakeStatuspage(t *testing.T) *statuspagetest.Server {
	return statuspagetest.NewServer(statuspagetest.Options{Clock: publisherstest.Now.Add(time.Minute), UserAgent: "incident/test", Reporter: t})
}

func newChannel(t *testing.T, f *statuspagetest.Server, extra string) *channel {
	t.Helper()
	prim, md := publisherstest.Decode(t, fmt.Sprintf("name = \"status\"\nurl = %q\npage_id = %q\napi_key = \"env:STATUSPAGE_API_KEY\"\n%s\n[channel.components]\nimap = \"cmp_imap\"\nsmtp = \"cmp_smtp\"\n",
		f.URL, f.PageID, extra))
	p, err := New(prim, md, publisherstest.Env(t, "status", map[string]string{"STATUSPAGE_API_KEY": secretValue}))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p.(*channel)
}

// post is update n of the sample incident, with Text listing every update.
func post(n int) publishers.Post {
	p := publisherstest.Post(n, "")
	var lines []string
	for i := len(p.Incident.Updates) - 1; i >= 0; i-- {
		u := p.Incident.Updates[i]
		lines = append(lines, "**"+u.Status+"**: "+u.Message)
	}
	p.Text = strings.Join(lines, "\n\n")
	return p
}

func TestPublishThreading(t *testing.T) {
	f := newFakeStatuspage(t)
	c := newChannel(t, f, "")
	ctx := context.Background()

	r1, err := c.Publish(ctx, post(1))
	if err != nil {
		t.Fatalf("first update: %v", err)
	}
	if r1.ID != "p31zjtct2jer01" || r1.URL != "http://stspg.io/abc01" || !r1.At.Equal(publisherstest.Now) {
		t.Fatalf("first receipt = %+v", r1)
	}
	inc := f.Incidents()[0]
	if inc.Name != "[Investigating] IMAP/POP login failures" || inc.Status != "investigating" || inc.Impact != "major" ||
		inc.Components["cmp_imap"] != "partial_outage" || len(inc.Components) != 1 || inc.Updates[0].Body != post(1).Text ||
		fmt.Sprint(inc.Metadata["incident"]) != "map[id:2026-11-27-imap-pop-login-failures key:"+post(1).Key+" update:"+post(1).Key+"]" {
		t.Fatalf("created incident = %+v", inc)
	}

	wantComponent := map[int]string{2: "partial_outage", 3: "degraded_performance", 4: "operational"}
	for n := 2; n <= 4; n++ {
		p := post(n)
		p.Thread, p.Parent = &r1, &r1
		r, err := c.Publish(ctx, p)
		if err != nil {
			t.Fatalf("update %d: %v", n, err)
		}
		if r.ID != r1.ID || r.URL != r1.URL {
			t.Fatalf("update %d receipt = %+v", n, r)
		}
		last := p.Incident.Updates[n-1]
		inc = f.Incidents()[0]
		if len(inc.Updates) != n || inc.Updates[0].Body != last.Message || inc.Status != last.Status ||
			inc.Name != p.Title || inc.Components["cmp_imap"] != wantComponent[n] {
			t.Fatalf("after update %d: %+v", n, inc)
		}
	}

	rfo := post(4)
	rfo.Kind, rfo.Title, rfo.Text = publishers.KindRFO, "RFO", "## Reason for outage\n\nA certificate expired."
	rfo.Thread, rfo.Parent = &r1, &r1
	r5, err := c.Publish(ctx, rfo)
	if err != nil {
		t.Fatalf("rfo: %v", err)
	}
	pm, _ := f.Postmortem(r1.ID)
	if r5.ID != r1.ID || r5.URL != r1.URL || r5.Meta["kind"] != "postmortem" || pm.Body != rfo.Text || pm.Notified != 1 {
		t.Fatalf("rfo receipt %+v, postmortem %+v", r5, pm)
	}
	rfo.Text += "\n\nCorrected: two certificates expired."
	rfo.Parent = &r5
	if _, err := c.Publish(ctx, rfo); err != nil {
		t.Fatalf("rfo edit: %v", err)
	}
	pm, _ = f.Postmortem(r1.ID)
	if pm.Body != rfo.Text || pm.Notified != 1 {
		t.Fatalf("edited postmortem %+v: want the new body and subscribers notified only once", pm)
	}
	if n := len(f.Incidents()); n != 1 {
		t.Errorf("%d incidents, want 1", n)
	}
}

// TestComponentStatus: each component takes its service's state as of the
// update; component_status overrides it per incident status; resolved is
// operational; two services on one component give it the worse state.
func TestComponentStatus(t *testing.T) {
	cases := []struct {
		name, extra, status string
		services            []string
		states              map[string]string
		want                string
	}{
		{name: "states", services: []string{"imap", "smtp", "web"},
			states: map[string]string{"imap": "degraded_performance", "smtp": "major_outage", "web": "partial_outage"},
			want:   "map[cmp_imap:degraded_performance cmp_smtp:major_outage]"},
		{name: "no states: by severity", services: []string{"imap"}, want: "map[cmp_imap:major_outage]"},
		{name: "overridden", extra: "[channel.component_status]\ninvestigating = \"under_maintenance\"", services: []string{"imap"},
			states: map[string]string{"imap": "partial_outage"}, want: "map[cmp_imap:under_maintenance]"},
		{name: "shared component", extra: "", services: []string{"imap", "pop"},
			states: map[string]string{"imap": "degraded_performance", "pop": "partial_outage"}, want: "map[cmp_imap:partial_outage]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeStatuspage(t)
			c := newChannel(t, f, tc.extra)
			c.cfg.Components["pop"] = "cmp_imap"
			p := post(1)
			p.Incident.Severity = "critical"
			p.Incident.Services, p.Incident.States = nil, tc.states
			for _, s := range tc.services {
				p.Incident.Services = append(p.Incident.Services, publishers.Service{ID: s})
			}
			if _, err := c.Publish(context.Background(), p); err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprint(f.Incidents()[0].Components); got != tc.want {
				t.Errorf("components = %s, want %s", got, tc.want)
			}
			p.Incident.Status = "resolved"
			if got := c.componentStatus(p.Incident, "imap"); got != "operational" {
				t.Errorf("resolved: %s", got)
			}
		})
	}
}

// TestFakeRefusesComponentStatus: the fake, like Statuspage, refuses a
// component status outside the five it knows.
func TestFakeRefusesComponentStatus(t *testing.T) {
	f := newFakeStatuspage(t)
	for _, st := range []string{"down", "Partial outage", ""} {
		body := fmt.Sprintf(`{"incident":{"name":"x","status":"investigating","component_ids":["cmp_imap"],"components":{"cmp_imap":%q}}}`, st)
		req, _ := http.NewRequest("POST", f.URL+"/v1/pages/"+f.PageID+"/incidents", strings.NewReader(body))
		req.Header.Set("Authorization", "OAuth "+f.APIKey)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", "incident/test")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 422 {
			t.Errorf("component status %q: %d, want 422", st, resp.StatusCode)
		}
	}
	if n := len(f.Incidents()); n != 0 {
		t.Errorf("%d incidents created", n)
	}
}

func TestNoDuplicateAfterLostAnswer(t *testing.T) {
	f := newFakeStatuspage(t)
	c := newChannel(t, f, "")
	ctx := context.Background()

	f.Inject(fakeservice.Fault{Mode: fakeservice.Drop, Method: "POST", Path: "/incidents", Times: 1})
	if _, err := c.Publish(ctx, post(1)); err == nil || !publishers.Retryable(err) {
		t.Fatalf("lost create: %v", err)
	}
	r1, err := c.Publish(ctx, post(1))
	if incs := f.Incidents(); err != nil || len(incs) != 1 || r1.ID != incs[0].ID {
		t.Fatalf("retried create: %+v, %v; %d incidents", r1, err, len(incs))
	}

	p := post(2)
	p.Thread, p.Parent = &r1, &r1
	f.SetClock(p.Incident.Updates[1].At.Add(-time.Minute)) // Statuspage's clock is a minute behind ours
	f.Inject(fakeservice.Fault{Mode: fakeservice.Drop, Method: "PATCH", Times: 1})
	if _, err := c.Publish(ctx, p); err == nil || !publishers.Retryable(err) {
		t.Fatalf("lost update: %v", err)
	}
	if _, err := c.Publish(ctx, p); err != nil {
		t.Fatalf("retried update: %v", err)
	}
	if n := len(f.Incidents()[0].Updates); n != 2 || f.Count("PATCH ") != 1 {
		t.Fatalf("%d incident updates, %d PATCHes after the retry; want 2 and 1", n, f.Count("PATCH "))
	}

	// The same status and message two minutes later is a new update: its
	// key says so, whatever its text.
	again := post(3)
	again.Key = p.Key + "-again"
	again.Incident.Updates[2].Status, again.Incident.Updates[2].Message = p.Incident.Updates[1].Status, p.Incident.Updates[1].Message
	again.Incident.Updates[2].At = p.Incident.Updates[1].At.Add(2 * time.Minute)
	again.Incident.Status = again.Incident.Updates[2].Status
	again.Thread, again.Parent = &r1, &r1
	f.SetClock(again.Incident.Updates[2].At)
	if _, err := c.Publish(ctx, again); err != nil || len(f.Incidents()[0].Updates) != 3 {
		t.Fatalf("a repeated message within minutes: %v; %d updates, want 3", err, len(f.Incidents()[0].Updates))
	}

	// The same status and message half an hour later is a new update.
	p3 := post(3)
	p3.Key = p.Key + "-later"
	p3.Incident.Updates[2].Status, p3.Incident.Updates[2].Message = p.Incident.Updates[1].Status, p.Incident.Updates[1].Message
	p3.Incident.Status = p3.Incident.Updates[2].Status
	p3.Thread, p3.Parent = &r1, &r1
	f.SetClock(p3.Incident.Updates[2].At)
	if _, err := c.Publish(ctx, p3); err != nil || len(f.Incidents()[0].Updates) != 4 {
		t.Fatalf("repeated message: %v; %d updates, want 4", err, len(f.Incidents()[0].Updates))
	}

	rfo := post(3)
	rfo.Kind, rfo.Text, rfo.Thread = publishers.KindRFO, "A certificate expired.", &r1
	f.Inject(fakeservice.Fault{Mode: fakeservice.Drop, Method: "PUT", Path: "/publish", Times: 1})
	if _, err := c.Publish(ctx, rfo); err == nil || !publishers.Retryable(err) {
		t.Fatalf("lost postmortem publish: %v", err)
	}
	if _, err := c.Publish(ctx, rfo); err != nil {
		t.Fatalf("retried postmortem: %v", err)
	}
	if pm, _ := f.Postmortem(r1.ID); f.Count("PUT /v1/pages/gytm4qzbx9t6/incidents/"+r1.ID+"/postmortem/publish") != 1 || pm.Notified != 1 {
		t.Fatalf("postmortem published %d times, notified %d", f.Count("PUT /v1/pages/gytm4qzbx9t6/incidents/"+r1.ID+"/postmortem/publish"), pm.Notified)
	}
}

func TestPostmortemWithoutReceipt(t *testing.T) {
	f := newFakeStatuspage(t)
	c := newChannel(t, f, "")
	rfo := post(4)
	rfo.Kind, rfo.Text = publishers.KindRFO, "A certificate expired."
	_, err := c.Publish(context.Background(), rfo)
	if err == nil || publishers.Retryable(err) || !strings.Contains(err.Error(), "no Statuspage incident was published") {
		t.Fatalf("RFO before any update: %v", err)
	}
	r1, _ := c.Publish(context.Background(), post(1))
	r, err := c.Publish(context.Background(), rfo)
	if err != nil || r.ID != r1.ID || r.URL != r1.URL {
		t.Fatalf("RFO found its incident by metadata: %+v, %v", r, err)
	}
}

func TestPublishErrors(t *testing.T) {
	answer := func(status int, header, body string) func(http.ResponseWriter, *http.Request) bool {
		return func(w http.ResponseWriter, r *http.Request) bool {
			if header != "" {
				k, v, _ := strings.Cut(header, ": ")
				w.Header().Set(k, v)
			}
			w.WriteHeader(status)
			fmt.Fprint(w, body)
			return true
		}
	}
	tests := []struct {
		name       string
		key, page  string
		post       func(*publishers.Post)
		fail       func(http.ResponseWriter, *http.Request) bool
		hang       bool
		want       string
		retryable  bool
		retryAfter time.Duration
	}{
		{name: "wrong key", key: "wrong", want: "look up incident: 401 Unauthorized: Could not authenticate (check the credentials in the environment variable STATUSPAGE_API_KEY)"},
		{name: "wrong page", page: "nosuchpage", want: "look up incident: 404 Not Found: The requested resource could not be found. (check the url and ids"},
		{name: "unknown component", post: func(p *publishers.Post) { p.Incident.Services = []publishers.Service{{ID: "smtp"}} },
			want: "create incident: 422 Unprocessable Entity: Component cmp_smtp does not exist"},
		{name: "error array", fail: answer(422, "", `{"error":["Name can't be blank","Status is invalid"]}`), want: "422 Unprocessable Entity: Name can't be blank; Status is invalid"},
		{name: "rate limited 420", fail: answer(420, "Retry-After: 7", `{"error":"Rate limit exceeded"}`), want: "420 Enhance Your Calm: Rate limit exceeded", retryable: true, retryAfter: 7 * time.Second},
		{name: "rate limited 429", fail: answer(429, "Retry-After: 60", `{"message":"Rate limited"}`), want: "429 Too Many Requests: Rate limited", retryable: true, retryAfter: time.Minute},
		{name: "server error", fail: answer(503, "", "upstream connect error"), want: "503 Service Unavailable: upstream connect error", retryable: true},
		{name: "malformed answer", fail: answer(200, "", `{"id":`), want: "not the JSON expected", retryable: true},
		{name: "timeout", hang: true, want: "context deadline exceeded", retryable: true},
		{name: "title too long", post: func(p *publishers.Post) { p.Title = strings.Repeat("é", 256) }, want: "create incident: the title is 256 characters; Statuspage allows 255"},
		{name: "body too long", post: func(p *publishers.Post) { p.Text = strings.Repeat("x", 25001) }, want: "the text is 25001 characters; Statuspage allows 25000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeStatuspage(t)
			c := newChannel(t, f, "")
			if tt.key != "" {
				f.SetAPIKey(tt.key)
			}
			if tt.page != "" {
				f.SetPageID(tt.page)
			}
			if tt.name == "unknown component" {
				f.RemoveComponent("cmp_smtp")
			}
			f.Intercept(tt.fail)
			if tt.hang {
				f.Hang(fakeservice.Always)
			}
			p := post(1)
			if tt.post != nil {
				tt.post(&p)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			_, err := c.Publish(ctx, p)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q, want it to contain %q", err, tt.want)
			}
			if publishers.Retryable(err) != tt.retryable {
				t.Errorf("Retryable = %v, want %v", !tt.retryable, tt.retryable)
			}
			if got := publishers.RetryAfter(err); got != tt.retryAfter {
				t.Errorf("RetryAfter = %v, want %v", got, tt.retryAfter)
			}
			if tt.hang && !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("timeout error %v does not wrap context.DeadlineExceeded", err)
			}
			publisherstest.AssertNoSecret(t, err.Error(), secretValue)
		})
	}
}

func TestUpdateOfDeletedIncident(t *testing.T) {
	f := newFakeStatuspage(t)
	c := newChannel(t, f, "")
	p := post(2)
	p.Thread = &publishers.Receipt{ID: "gone"}
	_, err := c.Publish(context.Background(), p)
	if err == nil || publishers.Retryable(err) || !strings.HasPrefix(err.Error(), "read incident: 404 Not Found") {
		t.Fatalf("update of a deleted incident: %v", err)
	}
}

func TestVerify(t *testing.T) {
	f := newFakeStatuspage(t)
	c := newChannel(t, f, "")
	who, err := c.Verify(context.Background())
	if err != nil || who != "page gytm4qzbx9t6 (2 components)" {
		t.Fatalf("Verify = %q, %v", who, err)
	}
	f.RemoveComponent("cmp_smtp")
	if _, err := c.Verify(context.Background()); err == nil || !strings.Contains(err.Error(), `smtp = "cmp_smtp"`) {
		t.Fatalf("Verify with a missing component: %v", err)
	}
	f.SetAPIKey("other")
	_, err = c.Verify(context.Background())
	if err == nil || !strings.HasPrefix(err.Error(), "list components: 401 Unauthorized") {
		t.Fatalf("Verify with a wrong key: %v", err)
	}
	publisherstest.AssertNoSecret(t, err.Error(), secretValue)
}

func TestNewRefusesBadConfig(t *testing.T) {
	base := "page_id = \"p\"\napi_key = \"env:K\"\n"
	tests := []struct{ config, want string }{
		{"url = \"http://api.statuspage.io\"\n" + base, "plain http is allowed only to loopback"},
		{"page_id = \"p\"\napi_key = \"0123456789abcdef\"", "env:NAME"},
		{"api_key = \"env:K\"", "`page_id` is required"},
		{"page_id = \"p\"", "`api_key` is required"},
		{base + "[channel.components]\nweb = \"cmp_web\"", "maps service \"web\", which no [[service]]"},
		{base + "[channel.component_status]\nmonitoring = \"fine\"", "is not a component status"},
		{base + "[channel.component_status]\nfixed = \"operational\"", "is not an incident status"},
	}
	for _, tt := range tests {
		prim, md := publisherstest.Decode(t, tt.config)
		_, err := New(prim, md, publisherstest.Env(t, "status", nil))
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "statuspage: ") {
			t.Errorf("config %q: err = %v, want %q", tt.config, err, tt.want)
		}
	}
	prim, md := publisherstest.Decode(t, base)
	p, err := New(prim, md, publisherstest.Env(t, "status", nil))
	if err != nil || p.(*channel).pages != DefaultURL+"/v1/pages/p" {
		t.Fatalf("default url: %v", err)
	}
}

func TestErrorMessage(t *testing.T) {
	for body, want := range map[string]string{
		`{"message":"Could not authenticate"}`:    "Could not authenticate",
		`{"error":"Rate limit exceeded"}`:         "Rate limit exceeded",
		`{"error":["Name can't be blank","x"]}`:   "Name can't be blank; x",
		`<html>Bad gateway</html>`:                "",
		`{"errors":{"name":["can't be blank"]}}`:  "",
		`{"message":"","error":"Something else"}`: "Something else",
	} {
		if got := errorMessage([]byte(body)); got != want {
			t.Errorf("errorMessage(%s) = %q, want %q", body, got, want)
		}
	}
}

// TestEndlessAnswer: a service that streams a 2xx answer without end is
// read only up to the size limit: the attempt fails and memory stays bounded.
func TestEndlessAnswer(t *testing.T) {
	f := newFakeStatuspage(t)
	ch := newChannel(t, f, "")
	f.Endless(fakeservice.Always)
	var err error
	publisherstest.AssertBoundedMemory(t, func() {
		_, err = ch.Publish(context.Background(), publisherstest.Post(1, "Investigating: IMAP logins fail. https://status.example.com/incidents/2026-11-27-imap-pop-login-failures.html"))
	})
	if err == nil || !strings.Contains(err.Error(), "the answer is larger than 4 MiB") || !publishers.Retryable(err) {
		t.Errorf("err = %v, want a retryable error saying the answer is too large", err)
	}
}

// TestEscaping: Statuspage renders names and bodies as HTML and
// Markdown: the incident's name has &, < and > escaped, and every later
// update's body is the message escaped by the Markdown rule (Update.Markdown),
// or with &, < and > escaped when a caller gave none. A retry still finds
// the incident by its (escaped) name.
func TestEscaping(t *testing.T) {
	f := newFakeStatuspage(t)
	c := newChannel(t, f, "")
	ctx := context.Background()
	p := post(1)
	p.Title = `[Investigating] Login <img src=x onerror=alert(1)> & "quotes"`
	r1, err := c.Publish(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	wantName := `[Investigating] Login &lt;img src=x onerror=alert(1)&gt; &amp; "quotes"`
	if inc := f.Incidents()[0]; inc.Name != wantName {
		t.Errorf("name = %q, want %q", inc.Name, wantName)
	}
	if again, err := c.Publish(ctx, p); err != nil || again.ID != r1.ID || len(f.Incidents()) != 1 {
		t.Errorf("retry: %+v %v, %d incidents: want the incident found by its name", again, err, len(f.Incidents()))
	}
	for _, tc := range []struct{ message, markdown, want string }{
		{"<script>alert(1)</script> [x](javascript:alert(1))", `&lt;script>alert(1)&lt;/script> \[x](javascript:alert(1))`, `&lt;script>alert(1)&lt;/script> \[x](javascript:alert(1))`},
		{"<b>no Markdown form given</b>", "", "&lt;b&gt;no Markdown form given&lt;/b&gt;"},
	} {
		q := post(2)
		q.Key += "/" + tc.message // each case is an update of its own
		q.Title = p.Title
		q.Thread, q.Parent = &r1, &r1
		last := &q.Incident.Updates[len(q.Incident.Updates)-1]
		last.Message, last.Markdown = tc.message, tc.markdown
		if _, err := c.Publish(ctx, q); err != nil {
			t.Fatal(err)
		}
		inc := f.Incidents()[0]
		if inc.Updates[0].Body != tc.want || inc.Name != wantName {
			t.Errorf("update %q: body %q, name %q; want %q", tc.message, inc.Updates[0].Body, inc.Name, tc.want)
		}
	}
}

// TestFreshPost: the first attempt at a delivery just recorded (Post.Fresh)
// creates the incident, or adds its update, without the look-up before:
// one request each; when a fresh attempt's answer is lost, the next attempt
// (not fresh) finds what it made.
func TestFreshPost(t *testing.T) {
	f := newFakeStatuspage(t)
	c := newChannel(t, f, "")
	ctx := context.Background()
	p1 := post(1)
	p1.Fresh = true
	r1, err := c.Publish(ctx, p1)
	if err != nil {
		t.Fatal(err)
	}
	p2 := post(2)
	p2.Thread, p2.Parent, p2.Fresh = &r1, &r1, true
	f.SetClock(p2.Incident.Updates[1].At)
	if _, err := c.Publish(ctx, p2); err != nil {
		t.Fatal(err)
	}
	want := []string{"POST /v1/pages/" + f.PageID + "/incidents", "PATCH /v1/pages/" + f.PageID + "/incidents/" + r1.ID}
	if got := f.Requests(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("fresh posts made the requests %q, want %q", got, want)
	}

	p3 := post(3)
	p3.Thread, p3.Parent, p3.Fresh = &r1, &r1, true
	f.SetClock(p3.Incident.Updates[2].At)
	f.Inject(fakeservice.Fault{Mode: fakeservice.Drop, Method: "PATCH", Times: 1})
	if _, err := c.Publish(ctx, p3); err == nil || !publishers.Retryable(err) {
		t.Fatalf("lost update: %v", err)
	}
	p3.Fresh = false
	if _, err := c.Publish(ctx, p3); err != nil {
		t.Fatal(err)
	}
	if n := len(f.Incidents()[0].Updates); n != 3 {
		t.Errorf("%d incident updates after a lost fresh attempt and a second one, want 3", n)
	}

	f2 := newFakeStatuspage(t)
	c2 := newChannel(t, f2, "")
	f2.Inject(fakeservice.Fault{Mode: fakeservice.Drop, Method: "POST", Path: "/incidents", Times: 1})
	if _, err := c2.Publish(ctx, p1); err == nil || !publishers.Retryable(err) {
		t.Fatalf("lost create: %v", err)
	}
	p1.Fresh = false
	if _, err := c2.Publish(ctx, p1); err != nil {
		t.Fatal(err)
	}
	if n := len(f2.Incidents()); n != 1 {
		t.Errorf("%d incidents after a lost fresh create and a second attempt, want 1", n)
	}
}
