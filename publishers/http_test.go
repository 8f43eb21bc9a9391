package publishers

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestEchoedCredentialsAreRedacted: a server that echoes our credential
// headers in its error body must not get them into an error message.
func TestEchoedCredentialsAreRedacted(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte("bad credentials: " + r.Header.Get("Authorization") + " / " + r.Header.Get("Api-Key")))
	}))
	defer srv.Close()
	c := &Client{HTTP: srv.Client(), Authorize: func(r *http.Request) error {
		r.SetBasicAuth("bot", "S3CR3T-password")
		r.Header.Set("Api-Key", "S3CR3T-api-key")
		return nil
	}}
	_, err := c.Do(context.Background(), "create", http.MethodPost, srv.URL, map[string]string{"a": "b"}, nil)
	if err == nil {
		t.Fatal("no error")
	}
	for _, leak := range []string{"S3CR3T-api-key", "Ym90OlMzQ1IzVC1wYXNzd29yZA=="} {
		if strings.Contains(err.Error(), leak) {
			t.Errorf("%q leaked: %v", leak, err)
		}
	}
	if !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "bad credentials") {
		t.Errorf("the service's message was lost: %v", err)
	}
}

func TestCheckBaseURL(t *testing.T) {
	for raw, ok := range map[string]bool{
		"https://status.example.com": true, "http://127.0.0.1:8080": true, "http://localhost:1": true, "http://[::1]:2": true,
		"http://status.example.com": false, "http://10.0.0.1": false, "ftp://x": false, "": false, "status.example.com": false,
	} {
		if _, err := CheckBaseURL(raw); (err == nil) != ok {
			t.Errorf("CheckBaseURL(%q) = %v", raw, err)
		}
	}
}

func TestSecretReferences(t *testing.T) {
	for v, want := range map[string]string{"env:X": "env:X", "Bearer env:X": "env:X", "Token file:~/t": "file:~/t", "literal": "", "Bearer abc": ""} {
		_, s, ok := FindSecret(v)
		if ok != (want != "") || s.String() != want {
			t.Errorf("FindSecret(%q) = %q, %v", v, s, ok)
		}
	}
	if _, err := ParseSecret("hunter2"); err == nil || !strings.Contains(err.Error(), "env:NAME") {
		t.Errorf("literal secret: %v", err)
	}
	r := &Resolver{Getenv: func(k string) string { return map[string]string{"TOK": "S3CR3T-value"}[k] }}
	s, _ := ParseSecret("env:TOK")
	if v, err := r.Resolve(context.Background(), s); err != nil || v != "S3CR3T-value" {
		t.Fatalf("resolve: %q %v", v, err)
	}
	if got := r.Redact("token S3CR3T-value here"); strings.Contains(got, "S3CR3T") {
		t.Errorf("redact: %q", got)
	}
	cmd, _ := ParseSecret("cmd:printf S3CR3T-cmd")
	if v, err := r.Resolve(context.Background(), cmd); err != nil || v != "S3CR3T-cmd" {
		t.Errorf("cmd: %q %v", v, err)
	}
	missing, _ := ParseSecret("env:NOPE")
	if _, err := r.Resolve(context.Background(), missing); err == nil || !strings.Contains(err.Error(), "NOPE is not set") {
		t.Errorf("missing env: %v", err)
	}
}

func TestCommandSecretTimesOutAndFails(t *testing.T) {
	r := &Resolver{Timeout: 100 * time.Millisecond}
	slow, _ := ParseSecret("cmd:sleep 5")
	start := time.Now()
	if _, err := r.Resolve(context.Background(), slow); err == nil || !strings.Contains(err.Error(), "did not finish within") {
		t.Errorf("slow command: %v", err)
	}
	if time.Since(start) > 3*time.Second {
		t.Errorf("the timeout was not enforced: %s", time.Since(start))
	}
	failing, _ := ParseSecret("cmd:printf '%s-%s' oops stderr >&2; exit 3")
	if _, err := r.Resolve(context.Background(), failing); err == nil || !strings.Contains(err.Error(), "exit status 3") || strings.Contains(err.Error(), "oops-stderr") {
		t.Errorf("failing command: %v (its stderr must not be shown)", err)
	}
}
