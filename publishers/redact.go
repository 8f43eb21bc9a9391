package publishers

import (
	"net/http"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"
)

// MaxMessage is the most of a service's message a channel keeps in an error
// (the records keep at most MaxRecorded of a whole error).
const MaxMessage = 200

// MaxRecorded caps the error text recorded for a failed delivery: a service
// that answers with a megabyte of HTML must not put it into every failed
// event, on every retry, into git.
const MaxRecorded = 1024

const redacted = "[redacted]"

// Clip makes text a service sent safe to show and record. Invalid UTF-8
// becomes U+FFFD (a record must stay readable TOML). Every secret
// (values of 4 bytes or more) is replaced by "[redacted]" first; then the
// text is cut to at most n bytes at a rune boundary, "…" marking the cut;
// and any beginning of a secret left at the cut is removed as well (replaced
// by "[redacted]" when 4 bytes or more), so a secret straddling the cut
// leaks no prefix. Redacting after cutting would miss exactly that secret.
func Clip(s string, n int, secrets ...string) string {
	s = redactAll(strings.ToValidUTF8(s, "\uFFFD"), secrets)
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return trimSecretPrefix(s[:n], secrets) + "…"
}

// redactAll replaces each secret of 4 bytes or more, longest first (so a
// secret holding another is replaced whole).
func redactAll(s string, secrets []string) string {
	vs := make([]string, 0, len(secrets))
	for _, v := range secrets {
		if len(v) >= 4 {
			vs = append(vs, v)
		}
	}
	sort.Slice(vs, func(i, j int) bool { return len(vs[i]) > len(vs[j]) })
	for _, v := range vs {
		s = strings.ReplaceAll(s, v, redacted)
	}
	return s
}

// trimSecretPrefix removes the longest beginning of any secret that ends s.
func trimSecretPrefix(s string, secrets []string) string {
	longest := 0
	for _, v := range secrets {
		for k := min(len(v)-1, len(s)); k > longest; k-- {
			if strings.HasSuffix(s, v[:k]) {
				longest = k
				break
			}
		}
	}
	if longest == 0 {
		return s
	}
	s = s[:len(s)-longest]
	if longest >= 4 {
		s += redacted
	}
	return s
}

// redactAtCuts removes a secret's beginning standing right before a "…"
// (text that someone cut there), for text that was cut before it was
// redacted.
func redactAtCuts(s string, secrets []string) string {
	if !strings.Contains(s, "…") {
		return s
	}
	parts := strings.Split(s, "…")
	for i := 0; i < len(parts)-1; i++ {
		parts[i] = trimSecretPrefix(parts[i], secrets)
	}
	return strings.Join(parts, "…")
}

// CredentialValues lists the credentials a request carries in its headers:
// the values of Authorization and of any header named like a key, token,
// secret or password, whole and without their scheme ("Basic xyz" and
// "xyz"), for Clip: a server may echo the request's headers in its error.
func CredentialValues(h http.Header) []string {
	var out []string
	for name, values := range h {
		n := strings.ToLower(name)
		if n != "authorization" && n != "cookie" && !strings.Contains(n, "key") && !strings.Contains(n, "token") &&
			!strings.Contains(n, "secret") && !strings.Contains(n, "password") {
			continue
		}
		for _, v := range values {
			out = append(out, v)
			if i := strings.IndexByte(v, ' '); i >= 0 {
				out = append(out, v[i+1:])
			}
		}
	}
	return out
}

var urlCredentials = regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@`)

// RedactURLCredentials removes credentials embedded in URLs
// (https://user:token@host), as git prints them in its errors.
func RedactURLCredentials(s string) string {
	return urlCredentials.ReplaceAllString(s, "${1}"+redacted+"@")
}
