package main

import (
	"io"
	"strings"
	"unicode/utf8"
)

// clean makes text that came from a service or a record (a teammate's, or
// anyone's who can push to the runbook) safe to print on a terminal: it
// drops escape sequences (CSI, OSC, DCS and the like, so nothing retitles,
// clears or repaints the terminal), every other C0 control but newline and
// tab, DEL, the C1 controls, and the bidirectional overrides and isolates
// (which reorder what a line seems to say); invalid UTF-8 becomes U+FFFD.
// Every text printer goes through it (see terminalWriter).
func clean(s string) string {
	if isClean(s) {
		return s
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == 0x1b:
			i += escapeLen(s[i:])
			continue
		case r == '\n' || r == '\t':
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f):
			i += size
			continue
		case (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069):
			i += size
			continue
		}
		b.WriteString(s[i : i+size])
		i += size
	}
	return b.String()
}

// isClean reports whether s needs no cleaning (the common case, fast).
func isClean(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 0x20 && c != '\n' && c != '\t') || c == 0x7f || c >= 0x80 {
			return false
		}
	}
	return true
}

// escapeLen is the length of the escape sequence at the start of s (which
// starts with ESC): CSI (ESC [ ... final byte), OSC (ESC ] ... BEL or ST),
// DCS, SOS, PM and APC (ESC P, X, ^, _ ... ST), or ESC and one character.
// An unterminated sequence runs to the end of s.
func escapeLen(s string) int {
	if len(s) < 2 {
		return len(s)
	}
	switch s[1] {
	case '[':
		for i := 2; i < len(s); i++ {
			if s[i] >= 0x40 && s[i] <= 0x7e {
				return i + 1
			}
		}
		return len(s)
	case ']', 'P', 'X', '^', '_':
		for i := 2; i < len(s); i++ {
			if s[i] == 0x07 && s[1] == ']' {
				return i + 1
			}
			if s[i] == 0x1b && i+1 < len(s) && s[i+1] == '\\' {
				return i + 2
			}
		}
		return len(s)
	}
	_, size := utf8.DecodeRuneInString(s[1:])
	return 1 + size
}

// terminalWriter cleans everything a command prints (see clean). JSON
// output does not go through it: encoding/json escapes control characters
// itself, and data must reach a program exactly as recorded.
type terminalWriter struct{ w io.Writer }

func (t terminalWriter) Write(p []byte) (int, error) {
	if _, err := io.WriteString(t.w, clean(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// line is clean(s) on one line: runs of spaces, tabs and line breaks become
// one space, so a field that came from a service or a record cannot start a
// line of its own (a fake "✓ delivered") or break a table's columns.
func line(s string) string {
	return strings.Join(strings.Fields(clean(s)), " ")
}
