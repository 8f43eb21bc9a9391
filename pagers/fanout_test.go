package pagers

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/incident-cli/incident/publishers"
)

func TestEach(t *testing.T) {
	tests := []struct {
		name      string
		fail      map[string]error
		reached   string
		wantErr   string
		retryable bool
	}{
		{"all reached", nil, "a,b,c", "", false},
		{"one permanent", map[string]error{"b": &publishers.HTTPError{Status: 400}}, "a,c", "400 Bad Request", false},
		{"permanent and retryable: retry", map[string]error{
			"a": &publishers.HTTPError{Status: 400},
			"c": &publishers.HTTPError{Status: 503, RetryAfter: 7 * time.Second},
		}, "b", "503 Service Unavailable\n400 Bad Request", true},
		{"none reached", map[string]error{"a": errors.New("x"), "b": errors.New("y"), "c": errors.New("z")}, "", "x\ny\nz", true},
	}
	for _, tc := range tests {
		reached, results, err := Each([]string{"a", "b", "c"}, func(p string) (string, error) {
			if e := tc.fail[p]; e != nil {
				return "", e
			}
			return "r-" + p, nil
		})
		if strings.Join(reached, ",") != tc.reached || len(results) != len(reached) || (len(results) > 0 && results[0] != "r-"+reached[0]) {
			t.Errorf("%s: reached %v, results %v", tc.name, reached, results)
		}
		if (err == nil) != (tc.wantErr == "") || (err != nil && (err.Error() != tc.wantErr || publishers.Retryable(err) != tc.retryable)) {
			t.Errorf("%s: err = %q (retryable %v), want %q (%v)", tc.name, err, publishers.Retryable(err), tc.wantErr, tc.retryable)
		}
	}
	_, _, err := Each([]string{"a"}, func(string) (int, error) {
		return 0, &publishers.HTTPError{Status: http.StatusTooManyRequests, RetryAfter: 7 * time.Second}
	})
	if publishers.RetryAfter(err) != 7*time.Second {
		t.Errorf("RetryAfter = %v", publishers.RetryAfter(err))
	}
}

func TestDelivered(t *testing.T) {
	var d Delivered[string]
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	if _, ok := d.Get("k", "alice", now); ok {
		t.Error("empty memo remembers")
	}
	d.Put("k", "alice", "r1", now)
	d.Put("", "bob", "r2", now)
	if v, ok := d.Get("k", "alice", now.Add(time.Hour)); !ok || v != "r1" {
		t.Errorf("Get = %q, %v", v, ok)
	}
	if _, ok := d.Get("k", "bob", now); ok {
		t.Error("another person remembered")
	}
	if _, ok := d.Get("", "bob", now); ok {
		t.Error("an empty key remembered")
	}
	if _, ok := d.Get("k", "alice", now.Add(Remember+time.Second)); ok {
		t.Error("remembered after a day")
	}
	if len(d.m) != 0 {
		t.Errorf("old entries kept: %v", d.m)
	}
}
