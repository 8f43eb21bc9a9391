package discourse

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/incident-cli/incident/publishers"
)

// client resolves the API key (first use only) and returns a JSON client
// that authenticates with it.
func (p *Publisher) client(ctx context.Context) (*publishers.Client, error) {
	key, err := p.env.Secrets.Resolve(ctx, p.cfg.APIKey)
	if err != nil {
		return nil, publishers.Permanent(fmt.Errorf("api_key: %w", err))
	}
	return &publishers.Client{
		HTTP:      p.http,
		UserAgent: p.env.UserAgent,
		Hint:      publishers.Hints(p.cfg.APIKey),
		Now:       p.env.Now,
		Authorize: func(r *http.Request) error {
			r.Header.Set("Api-Key", key)
			r.Header.Set("Api-Username", p.cfg.Username)
			return nil
		},
	}, nil
}

// apiError is Discourse's error body.
type apiError struct {
	Errors    []string `json:"errors"`
	ErrorType string   `json:"error_type"`
	Extras    struct {
		WaitSeconds float64 `json:"wait_seconds"`
	} `json:"extras"`
}

// do sends one request. It parses Discourse's error body into the message
// and, for a 429 without Retry-After, takes the wait from extras.wait_seconds.
func (p *Publisher) do(ctx context.Context, cl *publishers.Client, op, method, path string, body, out any) error {
	var wait float64
	c := *cl
	c.Message = func(b []byte) string {
		var e apiError
		if json.Unmarshal(b, &e) != nil {
			return ""
		}
		wait = e.Extras.WaitSeconds
		return strings.Join(e.Errors, "; ")
	}
	_, err := c.Do(ctx, op, method, p.base+path, body, out)
	var he *publishers.HTTPError
	if errors.As(err, &he) && he.RetryAfter == 0 && wait > 0 {
		he.RetryAfter = time.Duration(wait * float64(time.Second))
	}
	return err
}

// keyHash is the hash of a post key that names its topic and marks its reply.
func keyHash(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:16])
}

// externalID is the topic's external_id: 41 characters of [a-z0-9-].
func externalID(key string) string { return "incident-" + keyHash(key) }

// marker is the comment that ends a post we made for key.
func marker(key string) string { return "<!-- incident:" + keyHash(key) + " -->" }

// markerLen is what rawWithMarker adds to a text, in code points.
var markerLen = len("\n\n" + marker(""))

// rawWithMarker is the raw post we send for text.
func rawWithMarker(text, key string) string { return text + "\n\n" + marker(key) }
