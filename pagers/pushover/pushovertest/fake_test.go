package pushovertest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// The fake refuses what Pushover documents it refuses, so the pager's
// tests cannot pass against a fake that takes anything.
func TestRefusals(t *testing.T) {
	ok := url.Values{"token": {DefaultToken}, "user": {AliceKey}, "message": {"hi"}}
	with := func(kv ...string) url.Values {
		v := url.Values{}
		for k, x := range ok {
			v[k] = x
		}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	tests := []struct {
		name   string
		form   url.Values
		status int
		field  string
		errs   string
	}{
		{"ok", ok, 200, "", ""},
		{"token", with("token", "nope"), 400, "token", "application token is invalid"},
		{"user", with("user", "nope"), 400, "user", "user identifier is not a valid user, group, or subscribed user key"},
		{"blank", with("message", ""), 400, "message", "message cannot be blank"},
		{"long message", with("message", strings.Repeat("x", 1025)), 400, "message", "message is too long (maximum is 1024 characters)"},
		{"long title", with("title", strings.Repeat("x", 251)), 400, "title", "title is too long (maximum is 250 characters)"},
		{"priority", with("priority", "3"), 400, "priority", "priority is invalid"},
		{"emergency without retry", with("priority", "2", "expire", "60"), 400, "retry", "retry parameter is required for emergency-priority messages"},
		{"retry under 30", with("priority", "2", "retry", "29", "expire", "60"), 400, "retry", "retry must be at least 30 seconds"},
		{"emergency without expire", with("priority", "2", "retry", "30"), 400, "expire", "expire parameter is required for emergency-priority messages"},
		{"expire over 3h", with("priority", "2", "retry", "30", "expire", "10801"), 400, "expire", "expire must be at most 10800 seconds"},
		{"ttl with emergency", with("priority", "2", "retry", "30", "expire", "60", "ttl", "60"), 400, "ttl", "ttl cannot be used with emergency-priority messages"},
	}
	s := NewServer(Options{UserAgent: "Go-http-client/1.1"})
	defer s.Close()
	for _, tc := range tests {
		resp, err := http.PostForm(s.URL+"/1/messages.json", tc.form)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || (tc.field != "" && body[tc.field] != "invalid") {
			t.Errorf("%s: %d %v", tc.name, resp.StatusCode, body)
		}
		if errs, _ := body["errors"].([]any); tc.errs != "" && (len(errs) != 1 || errs[0] != tc.errs) {
			t.Errorf("%s: errors = %v", tc.name, body["errors"])
		}
		if tc.field != "token" && resp.Header.Get("X-Limit-App-Limit") != "10000" {
			t.Errorf("%s: no quota headers", tc.name)
		}
	}
	if n := len(s.Messages()); n != 1 || len(s.Problems()) != 0 {
		t.Errorf("messages = %d, want only the good one; problems %v", n, s.Problems())
	}
}

func TestReceipts(t *testing.T) {
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	s := NewServer(Options{UserAgent: "Go-http-client/1.1", Now: func() time.Time { return now }})
	defer s.Close()
	send := func(tags string) string {
		resp, err := http.PostForm(s.URL+"/1/messages.json", url.Values{"token": {DefaultToken}, "user": {BobKey}, "message": {"x"},
			"priority": {"2"}, "retry": {"30"}, "expire": {"600"}, "tags": {tags}})
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct{ Receipt string }
		_ = json.NewDecoder(resp.Body).Decode(&out)
		if len(out.Receipt) != 30 {
			t.Fatalf("receipt %q", out.Receipt)
		}
		return out.Receipt
	}
	a, b := send("inc-1"), send("inc-2,other")
	poll := func(r string) (int, map[string]any) {
		resp, err := http.Get(s.URL + "/1/receipts/" + r + ".json?token=" + DefaultToken)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	if code, out := poll(a); code != 200 || out["acknowledged"] != 0.0 || out["expired"] != 0.0 {
		t.Errorf("first poll: %d %v", code, out)
	}
	if code, _ := poll(a); code != 429 {
		t.Errorf("second poll at once: %d, want 429", code)
	}
	now = now.Add(5 * time.Second)
	if err := s.Acknowledge(a, BobKey, "iphone"); err != nil {
		t.Fatal(err)
	}
	if code, out := poll(a); code != 200 || out["acknowledged"] != 1.0 || out["acknowledged_by"] != BobKey || out["acknowledged_at"] != float64(now.Unix()) {
		t.Errorf("after ack: %d %v", code, out)
	}
	now = now.Add(10 * time.Minute)
	if code, out := poll(b); code != 200 || out["expired"] != 1.0 {
		t.Errorf("after expire: %d %v", code, out)
	}
	if code, _ := poll("r00000000000000000000000000099"); code != 404 {
		t.Errorf("unknown receipt: %d", code)
	}
	resp, err := http.PostForm(s.URL+"/1/receipts/cancel_by_tag/other.json", url.Values{"token": {DefaultToken}})
	if err != nil {
		t.Fatal(err)
	}
	var out struct{ Canceled int }
	_ = json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	if out.Canceled != 0 {
		t.Errorf("cancel of an expired receipt: canceled = %d, want 0", out.Canceled)
	}
	if len(s.Problems()) != 0 {
		t.Errorf("problems: %v", s.Problems())
	}
}
