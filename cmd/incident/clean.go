package main

import (
	"strings"
	"unicode"
)

// clean makes text from outside (a monitoring system's alert, a service's
// answer) safe to print on a terminal: control characters, escape sequences
// and bidirectional overrides become spaces or go, newlines stay.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return r
		case unicode.IsControl(r), r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
			return -1
		}
		return r
	}, s)
}
