package mastodon

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/incident-cli/incident/publishers"
)

// call is what one API call tells the transport: what it is (for errors)
// and the idempotency key of a status it posts.
type call struct {
	op  string
	key string
}

type callKey struct{}

// withCall puts the call's description on the request context: go-mastodon
// passes the context to every request it makes.
func withCall(ctx context.Context, op, key string) context.Context {
	return context.WithValue(ctx, callKey{}, call{op: op, key: headerKey(key)})
}

// headerKey is key as a header value: as is when it is short printable
// ASCII (post keys are), else its SHA-256.
func headerKey(key string) string {
	ok := len(key) <= 200
	for i := 0; ok && i < len(key); i++ {
		ok = key[i] >= 0x20 && key[i] < 0x7f
	}
	if ok {
		return key
	}
	sum := sha256.Sum256([]byte(key))
	return "sha256-" + hex.EncodeToString(sum[:])
}

// transport sits under go-mastodon's http.Client. It adds Idempotency-Key to
// status posts, answers every 4xx/5xx with a *publishers.HTTPError, so
// go-mastodon's doAPI returns at once instead of sleeping through 429s, and
// limits every other answer's body to publishers.MaxAnswer.
type transport struct {
	next http.RoundTripper
	now  func() time.Time
	hint func(status int) string
	// clip redacts the secrets (the resolver's and extra) from a message
	// and shortens it.
	clip func(msg string, n int, extra ...string) string
}

// RoundTrip implements http.RoundTripper.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	c, _ := req.Context().Value(callKey{}).(call)
	if c.op == "" {
		c.op = req.Method + " " + req.URL.Path
	}
	if c.key != "" && req.Method == http.MethodPost && strings.HasSuffix(req.URL.Path, "/api/v1/statuses") {
		req = req.Clone(req.Context())
		req.Header.Set("Idempotency-Key", c.key)
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	if resp.StatusCode < 400 {
		// go-mastodon decodes the body without a limit: an endless
		// answer must end at ours.
		resp.Body = publishers.LimitBody(resp.Body)
		return resp, nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return nil, &publishers.HTTPError{
		Op:         c.op,
		Status:     resp.StatusCode,
		Message:    t.clip(errorMessage(body), publishers.MaxMessage, publishers.CredentialValues(req.Header)...),
		RetryAfter: retryAfter(resp.Header, t.now()),
		Hint:       t.hint(resp.StatusCode),
	}
}

// errorMessage reads Mastodon's error body, {"error": "..."} (sometimes with
// "error_description"), or falls back to the body itself (the transport
// redacts and shortens it).
func errorMessage(body []byte) string {
	var e struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal(body, &e) == nil && e.Error != "" {
		if e.Description != "" {
			return e.Error + ": " + e.Description
		}
		return e.Error
	}
	return strings.TrimSpace(string(body))
}

// retryAfter reads Retry-After, else Mastodon's X-RateLimit-Reset (an ISO
// 8601 time, e.g. 2026-11-27T10:20:00.000000Z).
func retryAfter(h http.Header, now time.Time) time.Duration {
	if d := publishers.ParseRetryAfter(h.Get("Retry-After"), now); d > 0 {
		return d
	}
	reset := strings.TrimSpace(h.Get("X-RateLimit-Reset"))
	if reset == "" {
		return 0
	}
	if t, err := time.Parse(time.RFC3339Nano, reset); err == nil {
		if t.After(now) {
			return t.Sub(now)
		}
		return 0
	}
	if s, err := strconv.ParseInt(reset, 10, 64); err == nil && s > now.Unix() {
		return time.Unix(s, 0).Sub(now) // an epoch, as some servers send
	}
	return 0
}
