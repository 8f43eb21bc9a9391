package pushover

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/incident-cli/incident/publishers"
)

// token resolves the application token.
func (p *Pager) token(ctx context.Context) (string, error) {
	t, err := p.env.Secrets.Resolve(ctx, p.cfg.Token)
	if err != nil {
		return "", publishers.Permanent(fmt.Errorf("pushover: token: %w", err))
	}
	return t, nil
}

// userKey resolves a person's user key.
func (p *Pager) userKey(ctx context.Context, name string) (string, error) {
	k, err := p.env.Secrets.Resolve(ctx, p.cfg.To[name])
	if err != nil {
		return "", publishers.Permanent(fmt.Errorf("send to %s: user key: %w", name, err))
	}
	return k, nil
}

// post sends a form to path. person is whose user key the form holds ("" for
// none), for the hint when Pushover refuses it.
func (p *Pager) post(ctx context.Context, op, path string, form url.Values, out any, person string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, publishers.Permanent(fmt.Errorf("%s: %w", op, err))
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return p.send(op, req, out, person)
}

// get reads path; the query holds the token.
func (p *Pager) get(ctx context.Context, op, path string, query url.Values, out any) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.base+path+"?"+query.Encode(), nil)
	if err != nil {
		return nil, publishers.Permanent(fmt.Errorf("%s: %w", op, err))
	}
	return p.send(op, req, out, "")
}

// send sends one request through the shared client, reading Pushover's
// error body: its "errors" become the message (secrets redacted) and the
// field it calls invalid chooses the hint.
func (p *Pager) send(op string, req *http.Request, out any, person string) (*http.Response, error) {
	var invalid []string
	c := *p.client
	c.Message = func(b []byte) string {
		msg, fields := parseError(b)
		invalid = fields
		return p.env.Secrets.Redact(msg)
	}
	resp, err := c.Send(op, req, out)
	var he *publishers.HTTPError
	if errors.As(err, &he) {
		he.Message = p.env.Secrets.Redact(he.Message)
		he.Hint = p.hint(he.Status, invalid, person)
		if he.Status >= 500 && he.RetryAfter < MinRetryAfter5xx {
			he.RetryAfter = MinRetryAfter5xx // Pushover asks for at least 5 s after a 5xx
		}
	}
	return resp, err
}

// parseError reads {"user":"invalid","errors":["…"],"status":0}: the errors
// joined, and the fields whose value is "invalid".
func parseError(b []byte) (string, []string) {
	var body map[string]json.RawMessage
	if json.Unmarshal(b, &body) != nil {
		return "", nil
	}
	var msgs []string
	_ = json.Unmarshal(body["errors"], &msgs)
	var fields []string
	for k, v := range body {
		var s string
		if json.Unmarshal(v, &s) == nil && s == "invalid" {
			fields = append(fields, k)
		}
	}
	sort.Strings(fields)
	return clean(strings.Join(msgs, "; "), 300), fields
}

// hint says what to do about a refusal.
func (p *Pager) hint(status int, invalid []string, person string) string {
	for _, f := range invalid {
		switch {
		case f == "token":
			return "check the application token in " + p.cfg.Token.Where() + "; it is the API token of an application at https://pushover.net/apps"
		case f == "user" && person != "":
			return "check " + person + "'s user key in " + p.cfg.To[person].Where() + "; it is shown at the top of https://pushover.net once they log in"
		}
	}
	switch {
	case status == http.StatusTooManyRequests:
		return "the application's monthly message limit may be used up; see https://pushover.net/apps"
	case status == http.StatusNotFound:
		return "check the pager's url"
	case status >= 300 && status < 400:
		return "the url redirects; use " + DefaultURL
	}
	return ""
}

// Duration is a length of time in the config: "90s", "1h", or a number of
// seconds (as Pushover's own retry and expire are).
type Duration struct{ time.Duration }

// UnmarshalTOML reads a string ("5m") or an integer (seconds).
func (d *Duration) UnmarshalTOML(v any) error {
	switch x := v.(type) {
	case int64:
		if x <= 0 {
			return fmt.Errorf("%d must be a positive number of seconds", x)
		}
		d.Duration = time.Duration(x) * time.Second
	case string:
		t, err := time.ParseDuration(x)
		if err != nil {
			if n, err := strconv.Atoi(x); err == nil && n > 0 {
				t = time.Duration(n) * time.Second
			} else {
				return fmt.Errorf("%q is not a duration (write it like \"60s\" or \"1h\")", x)
			}
		}
		if t <= 0 {
			return fmt.Errorf("%q must be positive", x)
		}
		if t%time.Second != 0 {
			return fmt.Errorf("%q: Pushover counts whole seconds", x)
		}
		d.Duration = t
	default:
		return fmt.Errorf("%v is not a duration (write it like \"60s\" or \"1h\")", v)
	}
	return nil
}

// MarshalText writes the duration back.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }
