package webhook

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/incident-cli/incident/publishers"
)

// Endpoint is one configured webhook target: a URL (or a secret reference to
// one) and extra headers whose values may be secret references. The webhook
// channel and the webhook pager (pagers/webhook) both post through it, so a
// URL, a header and a refusal mean the same in both.
//
// Secrets are resolved at the first Post, once. Errors never show the URL
// (chat webhook URLs carry their token) nor a resolved header value.
type Endpoint struct {
	env     publishers.Env
	what    string // "channel" or "pager", for hints
	http    *http.Client
	url     string            // checked URL, "" while it is a secret not yet resolved
	urlRef  publishers.Secret // the url as a reference, when it is one
	headers []header

	mu       sync.Mutex
	resolved http.Header // headers with secrets resolved, after first use
}

// header is one configured header: a literal value, or a prefix and a
// secret reference.
type header struct {
	name, prefix string
	secret       publishers.Secret
}

// reserved headers are set by the endpoint itself.
var reserved = map[string]bool{"Content-Type": true, "Content-Length": true, "Host": true, "User-Agent": true, "Idempotency-Key": true, "Transfer-Encoding": true, "Connection": true}

// NewEndpoint checks a webhook's `url` and `headers` keys. what names the
// config table in hints ("channel", "pager"). Redirects are never followed:
// the headers carry credentials.
func NewEndpoint(rawURL string, headers map[string]string, env publishers.Env, what string) (*Endpoint, error) {
	e := &Endpoint{env: env, what: what}
	if rawURL == "" {
		return nil, errors.New("`url` is required (https://…, or a reference like \"env:SLACK_WEBHOOK_URL\")")
	}
	if ref, err := publishers.ParseSecret(rawURL); err == nil {
		e.urlRef = ref
	} else {
		if _, err := publishers.CheckBaseURL(rawURL); err != nil {
			return nil, err
		}
		e.url = rawURL // as written: a trailing slash can matter to the receiver
	}
	for name, v := range headers {
		h, err := parseHeader(name, v)
		if err != nil {
			return nil, fmt.Errorf("headers: %w", err)
		}
		e.headers = append(e.headers, h)
	}
	hc := publishers.NoRedirectClient(env.HTTP)
	e.http = hc
	if e.env.Now == nil {
		e.env.Now = time.Now
	}
	return e, nil
}

func parseHeader(name, v string) (header, error) {
	canon := http.CanonicalHeaderKey(name)
	if name == "" || strings.IndexFunc(name, func(r rune) bool { return r <= ' ' || r >= 0x7f || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r) }) >= 0 {
		return header{}, fmt.Errorf("%q is not a valid header name", name)
	}
	if reserved[canon] {
		return header{}, fmt.Errorf("%s is set by incident itself and cannot be configured", canon)
	}
	if strings.ContainsAny(v, "\r\n") {
		return header{}, fmt.Errorf("%s: the value holds a line break", canon)
	}
	h := header{name: canon}
	// The whole value is a reference, or a word and a reference
	// ("Bearer env:HOOK_TOKEN").
	if prefix, s, ok := publishers.FindSecret(v); ok {
		h.prefix, h.secret = prefix, s
		return h, nil
	}
	if credential(canon) {
		return header{}, fmt.Errorf("%s: %w", canon, publishers.ErrLiteralSecret)
	}
	h.prefix = v
	return h, nil
}

// credential reports whether a header carries credentials, so that its
// value must not be written in the config.
func credential(name string) bool {
	n := strings.ToLower(name)
	switch n {
	case "authorization", "proxy-authorization", "cookie":
		return true
	}
	for _, w := range []string{"token", "secret", "password", "signature", "api-key", "apikey"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// Answer is what a receiver may say about a delivery: the "id" (string or
// number) and "url" of a JSON object answer, when it gave them.
type Answer struct {
	ID, URL string
}

// Post sends body (JSON) once to the endpoint with Idempotency-Key: key.
// Any 2xx is success, whatever its body; a refusal is a
// *publishers.HTTPError named op, with the receiver's message (secrets
// redacted) and a hint.
func (e *Endpoint) Post(ctx context.Context, op, key string, body []byte) (Answer, error) {
	target, hdr, err := e.prepare(ctx)
	if err != nil {
		return Answer{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return Answer{}, publishers.Permanent(fmt.Errorf("%s: %w", op, errURL(err)))
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/plain;q=0.9, */*;q=0.8")
	req.Header.Set("User-Agent", e.env.UserAgent)
	req.Header.Set("Idempotency-Key", headerKey(key))
	resp, err := e.http.Do(req)
	if err != nil {
		return Answer{}, fmt.Errorf("%s: %w", op, errURL(err))
	}
	defer resp.Body.Close()
	b, err := publishers.ReadAnswer(resp.Body)
	switch {
	case errors.Is(err, publishers.ErrAnswerTooLarge) && resp.StatusCode >= 200 && resp.StatusCode <= 299:
		return Answer{}, nil // delivered (any 2xx is), whatever else the receiver sends
	case err != nil && !errors.Is(err, publishers.ErrAnswerTooLarge):
		return Answer{}, fmt.Errorf("%s: reading the answer: %w", op, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return Answer{}, &publishers.HTTPError{
			Op:         op,
			Status:     resp.StatusCode,
			Message:    e.env.Secrets.Clip(message(b), publishers.MaxMessage, publishers.CredentialValues(req.Header)...),
			RetryAfter: publishers.ParseRetryAfter(resp.Header.Get("Retry-After"), e.env.Now()),
			Hint:       e.hint(resp.StatusCode),
		}
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(b, &fields) != nil {
		return Answer{}, nil // "ok", an empty body, or anything else
	}
	var a Answer
	var s string
	var n json.Number
	if json.Unmarshal(fields["id"], &s) == nil {
		a.ID = s
	} else if json.Unmarshal(fields["id"], &n) == nil {
		a.ID = n.String()
	}
	if json.Unmarshal(fields["url"], &s) == nil {
		a.URL = s
	}
	return a, nil
}

// prepare resolves the URL and the headers' secrets, once.
func (e *Endpoint) prepare(ctx context.Context) (string, http.Header, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.url == "" {
		raw, err := e.env.Secrets.Resolve(ctx, e.urlRef)
		if err != nil {
			return "", nil, publishers.Permanent(fmt.Errorf("url: %w", err))
		}
		if _, err := publishers.CheckBaseURL(raw); err != nil {
			// Not err itself: it would quote the URL, which is a secret.
			return "", nil, publishers.Permanent(fmt.Errorf("url: the value of %s is not an https URL (or http to loopback)", e.urlRef))
		}
		e.url = raw
	}
	if e.resolved == nil {
		h := http.Header{}
		for _, c := range e.headers {
			v := c.prefix
			if !c.secret.IsZero() {
				s, err := e.env.Secrets.Resolve(ctx, c.secret)
				if err != nil {
					return "", nil, publishers.Permanent(fmt.Errorf("headers: %s: %w", c.name, err))
				}
				if strings.ContainsAny(s, "\r\n") {
					return "", nil, publishers.Permanent(fmt.Errorf("headers: %s: the value of %s holds a line break", c.name, c.secret))
				}
				v += s
			}
			h.Set(c.name, v)
		}
		e.resolved = h
	}
	return e.url, e.resolved, nil
}

// hint says what to do about a refusal.
func (e *Endpoint) hint(status int) string {
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return "check the credentials in the " + e.what + "'s headers"
	case status == http.StatusNotFound || status == http.StatusGone:
		return "check the " + e.what + "'s url"
	case status >= 300 && status < 400:
		return "the url redirects; configure the address it redirects to"
	}
	return ""
}

// message reads a refusal's body: the usual JSON error fields, else the
// text itself (the caller redacts and shortens it: redacting first, so no
// secret's beginning survives the cut).
func message(b []byte) string {
	var e struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
		Detail  string          `json:"detail"`
		Errors  []any           `json:"errors"`
	}
	if json.Unmarshal(b, &e) == nil {
		var s string
		switch {
		case json.Unmarshal(e.Error, &s) == nil && s != "":
			return s
		case e.Message != "":
			return e.Message
		case e.Detail != "":
			return e.Detail
		case len(e.Errors) > 0:
			msgs := make([]string, len(e.Errors))
			for i, x := range e.Errors {
				msgs[i] = fmt.Sprint(x)
			}
			return strings.Join(msgs, "; ")
		}
	}
	return strings.TrimSpace(string(b)) // the caller redacts, then shortens
}

// headerKey is key as a header value: as is when it is printable ASCII of
// reasonable length, else its SHA-256.
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

// errURL hides the request URL in transport errors: it may hold a token.
func errURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
