package publishers

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

func TestClip(t *testing.T) {
	const tok = "tok_LIVE_9f8e7d6c5b4a3210ZZZ"
	tests := []struct {
		name, in string
		n        int
		want     string
	}{
		{"short text untouched", "bad token", 200, "bad token"},
		{"whole secret redacted", "you sent " + tok + " ok", 200, "you sent [redacted] ok"},
		{"cut", strings.Repeat("a", 10), 4, "aaaa…"},
		{"cut at a rune boundary", "ééé", 3, "é…"},
		{"secret straddling the cut", "you sent tok_LIVE_9f8e (cut short upstream)", 15, "you sent [redacted]…"},
		{"a short beginning at the cut is dropped", "you sent tokens and more", 12, "you sent …"},
		{"the secret is redacted before the cut", "you sent " + tok + " and more", 25, "you sent [redacted] and m…"},
		{"a secret holding another is redacted whole", "x " + tok + "-full y", 200, "x [redacted] y"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Clip(tc.in, tc.n, tok, tok+"-full"); got != tc.want {
				t.Errorf("Clip(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
			}
		})
	}
}

// TestResolverRedactsAtCuts: text that someone else cut (ending with "…")
// before it came to Redact loses a secret's beginning at the cut too.
func TestResolverRedactsAtCuts(t *testing.T) {
	const v = "S3CR3T-value-0123456789"
	r := &Resolver{Getenv: func(string) string { return v }}
	s, _ := ParseSecret("env:TOK")
	if _, err := r.Resolve(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	for in, want := range map[string]string{
		"echo: S3CR3T-val… (check the token)": "echo: [redacted]… (check the token)",
		"echo: " + v:                          "echo: [redacted]",
		"no secret here…":                     "no secret here…",
	} {
		if got := r.Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
	if got := r.Clip("sent "+v+" back", 12); got != "sent [redact…" {
		t.Errorf("Clip = %q", got)
	}
}

func TestCredentialValues(t *testing.T) {
	h := http.Header{}
	h.Set("Authorization", "Basic Ym90OnB3")
	h.Set("X-Api-Token", "tok-123")
	h.Set("X-Source", "incident")
	got := strings.Join(CredentialValues(h), " ")
	for _, want := range []string{"Basic Ym90OnB3", "Ym90OnB3", "tok-123"} {
		if !strings.Contains(got, want) {
			t.Errorf("CredentialValues = %q, want %q in it", got, want)
		}
	}
	if strings.Contains(got, "incident") {
		t.Errorf("CredentialValues = %q: X-Source is no credential", got)
	}
}
