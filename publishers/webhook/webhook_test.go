package webhook

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/incident-cli/incident/publishers"
	"github.com/incident-cli/incident/publishers/fakeservice"
	"github.com/incident-cli/incident/publishers/publisherstest"
	"github.com/incident-cli/incident/publishers/webhook/webhooktest"
)

const testToken = "w3bhook-bearer-token-0123456789"

const slackPath = webhooktest.SlackPath

func newFakeReceiver(t *testing.T, token string) *webhooktest.Server {
	return webhooktest.NewServer(webhooktest.Options{Token: token, UserAgent: "incident/test", Reporter: t})
}

func newPublisher(t *testing.T, table string, secrets map[string]string) *Publisher {
	t.Helper()
	prim, md := publisherstest.Decode(t, table)
	p, err := New(prim, md, publisherstest.Env(t, "chat", secrets))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p.(*Publisher)
}

func ownTool(t *testing.T, f *webhooktest.Server) *Publisher {
	return newPublisher(t, fmt.Sprintf("name = \"chat\"\nurl = %q\nheaders = { Authorization = \"Bearer env:HOOK_TOKEN\", X-Source = \"incident\" }", f.URL+"/hooks/incident/"),
		map[string]string{"HOOK_TOKEN": testToken})
}

func TestPublish(t *testing.T) {
	f := newFakeReceiver(t, testToken)
	p := ownTool(t, f)
	ctx := context.Background()

	first := publisherstest.Post(1, "Investigating: IMAP logins fail.")
	first.Texts = map[string]string{"social.txt": "short", "forum.md": "long"}
	rec1, err := p.Publish(ctx, first)
	if err != nil {
		t.Fatalf("first update: %v", err)
	}
	if rec1.ID != "evt_1" || rec1.URL != "https://hooks.example/events/1" || !rec1.At.Equal(publisherstest.Now) {
		t.Errorf("first receipt = %+v", rec1)
	}
	second := publisherstest.Post(2, "Identified.")
	second.Key += "/2"
	second.Thread, second.Parent = &rec1, &rec1
	if _, err := p.Publish(ctx, second); err != nil {
		t.Fatalf("second update: %v", err)
	}
	rfo := publisherstest.Post(4, "RFO published.")
	rfo.Kind, rfo.Key = publishers.KindRFO, rfo.Key+"/rfo"
	rfo.Incident.RFO = &publishers.Update{Number: 5, Status: "resolved", Message: "Root cause: a full disk.", At: publisherstest.Now.Add(3 * time.Hour), Author: "bob"}
	if _, err := p.Publish(ctx, rfo); err != nil {
		t.Fatalf("rfo: %v", err)
	}

	docs, keys := f.Deliveries(), f.Keys()
	if len(docs) != 3 {
		t.Fatalf("received %d documents, want 3", len(docs))
	}
	d := docs[0]
	if d.Kind != "update" || d.Key != first.Key || d.Text != first.Text || d.Link != first.Link || d.Texts["social.txt"] != "short" ||
		d.Incident.ID != "2026-11-27-imap-pop-login-failures" || d.Incident.Severity != "major" || d.Incident.Accounts != 1200 ||
		len(d.Incident.Services) != 1 || d.Incident.Services[0].Name != "IMAP/POP" || !d.Incident.StartedAt.Equal(publisherstest.Now.Add(-20*time.Minute)) ||
		d.Update.Number != 1 || d.Update.Status != "investigating" || d.Update.Author != "alice" || d.ThreadID != "" {
		t.Errorf("first document = %+v", d)
	}
	if keys[0] != first.Key {
		t.Errorf("Idempotency-Key = %q, want %q", keys[0], first.Key)
	}
	if d := docs[1]; d.ThreadID != "evt_1" || d.ParentID != "evt_1" || d.Update.Number != 2 || d.Update.Status != "identified" {
		t.Errorf("second document = %+v", d)
	}
	if d := docs[2]; d.Kind != "rfo" || d.Update.Number != 5 || d.Update.Message != "Root cause: a full disk." {
		t.Errorf("rfo document = %+v", d)
	}
}

func TestSlack(t *testing.T) {
	f := webhooktest.NewServer(webhooktest.Options{Slack: true, UserAgent: "incident/test", Reporter: t})
	secrets := map[string]string{"SLACK_WEBHOOK_URL": f.URL + slackPath}
	p := newPublisher(t, "url = \"env:SLACK_WEBHOOK_URL\"", secrets)
	post := publisherstest.Post(1, "Investigating: IMAP logins fail. https://status.example.com/x")
	rec, err := p.Publish(context.Background(), post)
	if err != nil || rec.ID != post.Key || rec.URL != "" {
		t.Fatalf("Publish = %+v, %v; want the key as id", rec, err)
	}
	post.Text = ""
	_, err = p.Publish(context.Background(), post)
	if err == nil || err.Error() != "post webhook: 400 Bad Request: invalid_payload" {
		t.Errorf("err = %v", err)
	}
	publisherstest.AssertNoSecret(t, err.Error(), slackPath, "XXXXsecretXXXX")

	// A wrong URL: the error shows neither the URL nor its token.
	secrets["SLACK_WEBHOOK_URL"] = f.URL + "/services/T000/B000/oldTOKENoldTOKEN"
	q := newPublisher(t, "url = \"env:SLACK_WEBHOOK_URL\"", secrets)
	_, err = q.Publish(context.Background(), publisherstest.Post(1, "x"))
	if err == nil || !strings.Contains(err.Error(), "404 Not Found: no_service (check the channel's url)") {
		t.Errorf("err = %v", err)
	}
	publisherstest.AssertNoSecret(t, err.Error(), "oldTOKENoldTOKEN")
}

func TestLostAnswerKeepsKey(t *testing.T) {
	f := newFakeReceiver(t, testToken)
	p := ownTool(t, f)
	post := publisherstest.Post(1, "Investigating.")
	f.DropAnswer(1)
	if _, err := p.Publish(context.Background(), post); err == nil || !publishers.Retryable(err) {
		t.Fatalf("attempt with a lost answer: err = %v, want a retryable error", err)
	}
	rec, err := p.Publish(context.Background(), post)
	if err != nil {
		t.Fatal(err)
	}
	docs, keys := f.Deliveries(), f.Keys()
	if len(docs) != 1 || rec.ID != "evt_1" || len(keys) != 2 || keys[0] != keys[1] {
		t.Errorf("documents %d, receipt %+v, keys %q: want one document and the same key twice", len(docs), rec, keys)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name      string
		token     string
		answer    func(w http.ResponseWriter, r *http.Request) bool
		wantErr   string
		retryable bool
		retry     time.Duration
	}{
		{name: "401", token: "rotated", wantErr: "post webhook: 401 Unauthorized: missing or invalid bearer token (check the credentials in the channel's headers)"},
		{name: "404", answer: reply(404, "text/plain", "Not Found", ""), wantErr: "post webhook: 404 Not Found: Not Found (check the channel's url)"},
		{name: "422", answer: reply(422, "application/json", `{"errors":["text too long", 3]}`, ""), wantErr: "post webhook: 422 Unprocessable Entity: text too long; 3"},
		{name: "429", answer: reply(429, "application/json", `{"message":"slow down"}`, "Retry-After: 17"), wantErr: "post webhook: 429 Too Many Requests: slow down", retryable: true, retry: 17 * time.Second},
		{name: "500", answer: reply(500, "text/html", "<h1>boom</h1>", ""), wantErr: "post webhook: 500 Internal Server Error: <h1>boom</h1>", retryable: true},
		{name: "redirect not followed", answer: reply(302, "text/html", "", "Location: /elsewhere"), wantErr: "post webhook: 302 Found (the url redirects; configure the address it redirects to)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeReceiver(t, testToken)
			p := ownTool(t, f)
			f.Intercept(tc.answer)
			if tc.token != "" {
				f.SetToken(tc.token)
			}
			_, err := p.Publish(context.Background(), publisherstest.Post(1, "x"))
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
			if publishers.Retryable(err) != tc.retryable || publishers.RetryAfter(err) != tc.retry {
				t.Errorf("Retryable = %v, RetryAfter = %v; want %v, %v", publishers.Retryable(err), publishers.RetryAfter(err), tc.retryable, tc.retry)
			}
			publisherstest.AssertNoSecret(t, err.Error(), testToken)
		})
	}
}

func TestAnswers(t *testing.T) {
	tests := []struct{ body, ctype, wantID, wantURL string }{
		{`{"id": 12345678901234567890, "url": "https://x.example/1"}`, "application/json", "12345678901234567890", "https://x.example/1"},
		{`{"event_id": "e1"}`, "application/json", "KEY", ""},
		{`{"id": "e1",`, "application/json", "KEY", ""}, // a 2xx is delivered, even with a broken body
		{"ok", "text/plain", "KEY", ""},
		{"", "", "KEY", ""},
	}
	for _, tc := range tests {
		f := newFakeReceiver(t, testToken)
		f.Intercept(reply(200, tc.ctype, tc.body, ""))
		post := publisherstest.Post(1, "x")
		rec, err := ownTool(t, f).Publish(context.Background(), post)
		want := strings.ReplaceAll(tc.wantID, "KEY", post.Key)
		if err != nil || rec.ID != want || rec.URL != tc.wantURL {
			t.Errorf("answer %q: receipt %+v, %v; want id %q url %q", tc.body, rec, err, want, tc.wantURL)
		}
	}
}

func TestTimeoutAndNetwork(t *testing.T) {
	f := newFakeReceiver(t, testToken)
	f.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		<-r.Context().Done()
		return true
	})
	p := ownTool(t, f)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := p.Publish(ctx, publisherstest.Post(1, "x"))
	if !errors.Is(err, context.DeadlineExceeded) || !publishers.Retryable(err) || strings.Contains(err.Error(), f.URL) {
		t.Errorf("err = %v, want a retryable deadline error without the URL", err)
	}

	secrets := map[string]string{"URL": "http://127.0.0.1:1/services/T/B/hiddenTOKEN"}
	_, err = newPublisher(t, `url = "env:URL"`, secrets).Publish(context.Background(), publisherstest.Post(1, "x"))
	if err == nil || !publishers.Retryable(err) {
		t.Errorf("connection refused: err = %v, want retryable", err)
	}
	publisherstest.AssertNoSecret(t, fmt.Sprint(err), "hiddenTOKEN")
}

func TestConfig(t *testing.T) {
	env := publisherstest.Env(t, "chat", map[string]string{"PLAIN_URL": "http://hooks.example.com/x/secretPATH"})
	tests := []publisherstest.ConfigCase{
		{`headers = { X-A = "b" }`, "`url` is required"},
		{`url = "http://hooks.example.com/x"`, "plain http is allowed only to loopback"},
		{`url = "https://hooks.example.com/x"` + "\nheaders = { Authorization = \"Bearer abc123literal\" }", "Authorization: secrets are never written in the config"},
		{`url = "https://hooks.example.com/x"` + "\nheaders = { X-Api-Key = \"abc123literal\" }", "X-Api-Key: secrets are never written"},
		{`url = "https://hooks.example.com/x"` + "\nheaders = { Idempotency-Key = \"k\" }", "Idempotency-Key is set by incident itself"},
		{`url = "https://hooks.example.com/x"` + "\nheaders = { \"Bad Name\" = \"v\" }", `"Bad Name" is not a valid header name`},
	}
	publisherstest.AssertConfigErrors(t, New, env, tests, "abc123literal")
	// A url reference is checked at first use, without showing the URL.
	prim, md := publisherstest.Decode(t, `url = "env:PLAIN_URL"`)
	p, err := New(prim, md, env)
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Publish(context.Background(), publisherstest.Post(1, "x"))
	if err == nil || publishers.Retryable(err) || !strings.Contains(err.Error(), "url: the value of env:PLAIN_URL is not an https URL") {
		t.Errorf("err = %v", err)
	}
	publisherstest.AssertNoSecret(t, fmt.Sprint(err), "secretPATH")
	if got := strings.Join(Keys, ","); got != "name,template,url,headers" {
		t.Errorf("Keys = %s", got)
	}
}

func TestHeaderForms(t *testing.T) {
	for _, tc := range []struct{ value, prefix, secret string }{
		{"env:TOKEN", "", "env:TOKEN"},
		{"Bearer env:TOKEN", "Bearer ", "env:TOKEN"},
		{"Token cmd:pass show chat token", "Token ", "cmd:pass show chat token"},
		{"cmd:pass show x", "", "cmd:pass show x"},
		{"text plain", "text plain", ""},
	} {
		h, err := parseHeader("X-Test", tc.value)
		if err != nil || h.prefix != tc.prefix || h.secret.Ref() != tc.secret {
			t.Errorf("parseHeader(%q) = %+v, %v", tc.value, h, err)
		}
	}
}

// reply answers with status, content type, body and one "Name: value" header.
func reply(status int, ctype, body, header string) func(http.ResponseWriter, *http.Request) bool {
	return func(w http.ResponseWriter, r *http.Request) bool {
		_, _ = io.Copy(io.Discard, r.Body)
		if name, value, ok := strings.Cut(header, ": "); ok {
			w.Header().Set(name, value)
		}
		if ctype != "" {
			w.Header().Set("Content-Type", ctype)
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
		return true
	}
}

// TestSecretAtTheCut: a receiver's error that echoes a credential header
// right where the message is cut leaks no part of the credential.
func TestSecretAtTheCut(t *testing.T) {
	const apiToken = "tok_LIVE_9f8e7d6c5b4a3210ZZZ"
	f := newFakeReceiver(t, "")
	p := newPublisher(t, fmt.Sprintf("name = \"chat\"\nurl = %q\nheaders = { X-Api-Token = \"env:API_TOKEN\" }", f.URL+"/hooks/incident/"),
		map[string]string{"API_TOKEN": apiToken})
	f.Intercept(reply(400, "text/plain", publisherstest.Straddle(apiToken, publishers.MaxMessage), ""))
	_, err := p.Publish(context.Background(), publisherstest.Post(1, "x"))
	if err == nil || !strings.Contains(err.Error(), "400 Bad Request: xxx") {
		t.Fatalf("err = %v, want the service's message", err)
	}
	publisherstest.AssertNoSecretPart(t, err.Error(), apiToken)
}

// TestEndlessAnswer: a receiver that streams a 2xx answer without end is
// read only up to the size limit: the post is delivered (any 2xx is) and
// memory stays bounded.
func TestEndlessAnswer(t *testing.T) {
	f := newFakeReceiver(t, testToken)
	ch := ownTool(t, f)
	f.Endless(fakeservice.Always)
	var err error
	publisherstest.AssertBoundedMemory(t, func() {
		_, err = ch.Publish(context.Background(), publisherstest.Post(1, "Investigating: IMAP logins fail."))
	})
	if err != nil {
		t.Errorf("err = %v, want the 2xx taken as delivered", err)
	}
}

// TestSlackEscaping: "text" has &, < and > escaped as Slack's mrkdwn
// requires, so typed text cannot mention @channel or show one link and open
// another; the structured fields carry the text exactly.
func TestSlackEscaping(t *testing.T) {
	f := webhooktest.NewServer(webhooktest.Options{Slack: true, UserAgent: "incident/test", Reporter: t})
	p := newPublisher(t, "url = \"env:SLACK_WEBHOOK_URL\"", map[string]string{"SLACK_WEBHOOK_URL": f.URL + slackPath})
	typed := "<!channel> see <https://evil.example|https://status.example.com> & <@U123>"
	post := publisherstest.Post(1, "[Investigating] "+typed+" https://status.example.com/x?a=1&b=2")
	post.Incident.Updates[0].Message = typed
	if _, err := p.Publish(context.Background(), post); err != nil {
		t.Fatal(err)
	}
	d := f.Deliveries()[0]
	want := "[Investigating] &lt;!channel&gt; see &lt;https://evil.example|https://status.example.com&gt; &amp; &lt;@U123&gt; https://status.example.com/x?a=1&amp;b=2"
	if d.Text != want {
		t.Errorf("text = %q, want %q", d.Text, want)
	}
	if d.Update.Message != typed {
		t.Errorf("update.message = %q, want it exactly as typed", d.Update.Message)
	}
}
