package publishers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// NoRedirectClient is a copy of base (or a client with a 30 s timeout when
// base is nil) that never follows a redirect: for services whose
// credentials travel in every request, where a redirect could carry them
// to another host.
func NoRedirectClient(base *http.Client) *http.Client {
	hc := &http.Client{Timeout: 30 * time.Second}
	if base != nil {
		cp := *base
		hc = &cp
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return hc
}

// HTTPError is a service's refusal: the status code, the service's own
// message parsed from its error body, and when it asked us to come back.
type HTTPError struct {
	Op         string        // what we tried: "create topic"
	Status     int           // HTTP status code
	Message    string        // the service's message, from its error body
	RetryAfter time.Duration // from Retry-After (or the body), 0 when not given
	Hint       string        // what the user can do, when known
}

func (e *HTTPError) Error() string {
	var b strings.Builder
	if e.Op != "" {
		b.WriteString(e.Op + ": ")
	}
	text := http.StatusText(e.Status)
	if e.Status == 420 {
		text = "Enhance Your Calm" // Statuspage's rate limit
	}
	fmt.Fprintf(&b, "%d %s", e.Status, text)
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.Hint != "" {
		b.WriteString(" (" + e.Hint + ")")
	}
	return b.String()
}

// Temporary reports whether the same request may succeed later: 5xx, 429 and
// Statuspage's 420.
func (e *HTTPError) Temporary() bool {
	return e.Status >= 500 || e.Status == http.StatusTooManyRequests || e.Status == 420 || e.Status == http.StatusRequestTimeout
}

type permanentError struct{ err error }

func (p permanentError) Error() string { return p.err.Error() }
func (p permanentError) Unwrap() error { return p.err }

// Permanent marks err as not worth retrying (bad config, a 4xx refusal).
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err}
}

// Retryable reports whether another attempt may succeed: network errors,
// timeouts, malformed answers, 5xx and 429. A 4xx other than 429, or an error
// marked Permanent, is not retryable.
func Retryable(err error) bool {
	if err == nil {
		return false
	}
	var p permanentError
	if errors.As(err, &p) {
		return false
	}
	if errors.Is(err, context.Canceled) {
		return false
	}
	var he *HTTPError
	if errors.As(err, &he) {
		return he.Temporary()
	}
	return true
}

// RetryAfter returns the wait the service asked for, if any.
func RetryAfter(err error) time.Duration {
	var he *HTTPError
	if errors.As(err, &he) {
		return he.RetryAfter
	}
	return 0
}

// ParseRetryAfter reads a Retry-After header: seconds or an HTTP date.
func ParseRetryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	if s, err := strconv.Atoi(h); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// CheckBaseURL parses a channel's base URL. It must be https, or http to a
// loopback address (a local test server or a tunnel); anything else would send
// credentials in the clear.
func CheckBaseURL(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, errors.New("url is required")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("url %q is not an absolute URL (like https://example.com)", raw)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !IsLoopback(u.Hostname()) {
			return nil, fmt.Errorf("url %q: plain http is allowed only to loopback addresses; use https", raw)
		}
	default:
		return nil, fmt.Errorf("url %q: scheme must be https", raw)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	return u, nil
}

// IsLoopback reports whether host is localhost or a loopback IP.
func IsLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Client is a small JSON-over-HTTP helper shared by the channels.
type Client struct {
	HTTP      *http.Client
	UserAgent string
	// Message extracts the service's error message from an error body; the
	// whole body (trimmed, shortened) is used when it is nil or returns "".
	Message func(body []byte) string
	// Hint says what to do for a status code ("check the API key in ...").
	Hint func(status int) string
	// Authorize sets credentials on a request.
	Authorize func(r *http.Request) error
	Now       func() time.Time
	// NotJSON is a hint added when a 2xx answer is not JSON (a web page
	// where an API was expected).
	NotJSON string
}

// Do sends a request with an optional JSON body and decodes a JSON answer
// into out (when non-nil). Non-2xx answers become *HTTPError; an answer that
// is not the JSON expected is an error that can be retried.
func (c *Client) Do(ctx context.Context, op, method, u string, body, out any) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, Permanent(fmt.Errorf("%s: %w", op, err))
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, Permanent(fmt.Errorf("%s: %w", op, err))
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return c.Send(op, req, out)
}

// Send sends a prepared request (see Do).
func (c *Client) Send(op string, req *http.Request, out any) (*http.Response, error) {
	req.Header.Set("Accept", "application/json")
	if c.UserAgent != "" {
		req.Header.Set("User-Agent", c.UserAgent)
	}
	if c.Authorize != nil {
		if err := c.Authorize(req); err != nil {
			return nil, Permanent(fmt.Errorf("%s: %w", op, err))
		}
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is in the config; don't repeat it (it may hold a token)
		}
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	defer resp.Body.Close()
	b, err := ReadAnswer(resp.Body)
	if errors.Is(err, ErrAnswerTooLarge) {
		return resp, fmt.Errorf("%s: %w", op, err)
	}
	if err != nil {
		return resp, fmt.Errorf("%s: reading the answer: %w", op, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		now := time.Now()
		if c.Now != nil {
			now = c.Now()
		}
		he := &HTTPError{Op: op, Status: resp.StatusCode, RetryAfter: ParseRetryAfter(resp.Header.Get("Retry-After"), now)}
		if c.Message != nil {
			he.Message = c.Message(b)
		}
		if he.Message == "" {
			he.Message = strings.TrimSpace(string(b))
		}
		he.Message = Clip(he.Message, MaxMessage, CredentialValues(req.Header)...)
		if c.Hint != nil {
			he.Hint = c.Hint(resp.StatusCode)
		}
		return resp, he
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			err = fmt.Errorf("%s: the service answered %d with a body that is not the JSON expected (%v)", op, resp.StatusCode, err)
			if c.NotJSON != "" && bytes.HasPrefix(bytes.TrimSpace(b), []byte("<")) {
				err = fmt.Errorf("%w; %s", err, c.NotJSON)
			}
			return resp, err
		}
	}
	return resp, nil
}

// Hints gives the usual hints for auth failures, naming where the secret comes from.
func Hints(secret Secret) func(int) string {
	return func(status int) string {
		switch status {
		case http.StatusUnauthorized:
			return "check the credentials in " + secret.Where()
		case http.StatusForbidden:
			return "the account lacks a permission, or the credentials in " + secret.Where() + " are wrong"
		case http.StatusNotFound:
			return "check the url and ids in the channel's config"
		}
		return ""
	}
}
