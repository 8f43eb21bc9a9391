package alerts

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// normalize applies the package's guarantees to an alert a parser built
// from raw input: caps, no control characters, UTC times, http(s) URLs.
func (a *Alert) normalize() {
	a.Key = cleanKey(a.Key)
	a.Group = cleanKey(a.Group)
	a.Name = truncate(cleanLine(a.Name), MaxName)
	a.Summary = truncate(cleanLine(a.Summary), MaxText)
	a.Description = truncate(cleanText(a.Description), MaxText)
	a.Severity = truncate(strings.ToLower(cleanLine(a.Severity)), MaxSeverity)
	a.Labels = cleanLabels(a.Labels)
	a.URL = cleanURL(a.URL)
	if !a.StartsAt.IsZero() {
		a.StartsAt = a.StartsAt.UTC()
	}
	switch {
	case a.Firing:
		a.EndsAt = time.Time{}
	case !a.EndsAt.IsZero():
		a.EndsAt = a.EndsAt.UTC()
	}
}

// dropped reports whether r is never kept in alert text: C0 and C1 control
// characters, DEL, and the invisible bidirectional controls that can make
// text read differently from what it says.
func dropped(r rune) bool {
	switch {
	case unicode.IsControl(r):
		return true
	case r == '\u200e', r == '\u200f', r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069':
		return true
	}
	return false
}

// cleanLine makes s one line: valid UTF-8, every control character and line
// break a space, runs of white space one space, trimmed.
func cleanLine(s string) string {
	if plainLine(s) {
		return s
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if dropped(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// plainLine reports whether s is printable ASCII without leading, trailing
// or double spaces: already clean, as most labels and names are.
func plainLine(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e || (c == ' ' && (i == 0 || i == len(s)-1 || s[i-1] == ' ')) {
			return false
		}
	}
	return true
}

// cleanText keeps s's lines and tabs: valid UTF-8, CR LF and CR become LF,
// other control characters are removed, trailing white space is trimmed.
func cleanText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\n', r == '\t':
			return r
		case r == '\r', r == '\u2028', r == '\u2029':
			return '\n'
		case dropped(r):
			return -1
		}
		return r
	}, s)
	return strings.TrimRightFunc(s, unicode.IsSpace)
}

// truncate cuts s to at most max bytes on a rune boundary, ending in "…"
// when it cut.
func truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	const ellipsis = "…"
	return strings.TrimRightFunc(cut(s, max-len(ellipsis)), unicode.IsSpace) + ellipsis
}

// cut returns the longest prefix of s of at most n bytes that ends on a rune
// boundary.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// cleanKey makes a key one line of at most MaxName bytes. A longer key keeps
// its start and ends in "~" and 16 hex digits of its SHA-256, so two long
// keys that share a start stay apart and one key always maps the same way.
func cleanKey(s string) string {
	s = cleanLine(s)
	if len(s) <= MaxName {
		return s
	}
	sum := sha256.Sum256([]byte(s))
	suffix := "~" + hex.EncodeToString(sum[:8])
	return cut(s, MaxName-len(suffix)) + suffix
}

// cleanLabels caps a label set: names and values one line, names at most
// MaxName and values at most MaxText bytes, empty names dropped, at most
// MaxLabels pairs (the first in name order). It returns nil for no labels.
func cleanLabels(in map[string]string) map[string]string {
	if len(in) == 0 {
		return nil
	}
	out := make(map[string]string, min(len(in), MaxLabels))
	for _, k := range sortedKeys(in) {
		name := truncate(cleanLine(k), MaxName)
		if name == "" {
			continue
		}
		if _, seen := out[name]; !seen && len(out) == MaxLabels {
			break
		}
		out[name] = truncate(cleanLine(in[k]), MaxText)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// cleanURL returns raw when it is an absolute http or https URL with a host,
// without its user info (a password in a link must not travel on); "" for
// anything else or anything longer than MaxURL.
func cleanURL(raw string) string {
	raw = strings.TrimSpace(raw)
	if raw == "" || len(raw) > MaxURL || !utf8.ValidString(raw) {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return ""
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
	default:
		return ""
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.User = nil
	s := u.String()
	if len(s) > MaxURL || strings.ContainsFunc(s, dropped) {
		return ""
	}
	return s
}
