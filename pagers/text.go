package pagers

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rivo/uniseg"
)

// Plain makes text from an untrusted source (an alert's summary, a
// service's answer) safe to put in a page: line breaks become "\n", and
// every other control character (escape sequences, NUL, bidi overrides)
// is dropped. Tabs become spaces. Invalid UTF-8 becomes U+FFFD.
func Plain(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n':
			return r
		case r == '\r':
			return '\n'
		case r == '\t':
			return ' '
		case unicode.IsControl(r), unicode.Is(unicode.Bidi_Control, r):
			return -1
		}
		return r
	}, s)
}

// Ellipsis ends a text that Cut shortened.
const Ellipsis = "…"

// Cut shortens s to at most limit units, as size counts them (nil: Unicode
// code points), ending it with Ellipsis. It never splits a grapheme (an
// emoji with its modifiers, a letter with its accents) and, when there is
// a space in the last quarter of what fits, it cuts at that space, so a
// word is not broken. size must be additive: the size of a string is the
// sum of the sizes of its parts (code points and UTF-16 units are).
func Cut(s string, limit int, size func(string) int) string {
	if size == nil {
		size = utf8.RuneCountInString
	}
	if size(s) <= limit {
		return s
	}
	room := limit - size(Ellipsis)
	if room <= 0 {
		return ""
	}
	end, used := 0, 0
	space, spaceUsed := -1, 0
	g := uniseg.NewGraphemes(s)
	for g.Next() {
		c := g.Str()
		n := size(c)
		if used+n > room {
			break
		}
		from, _ := g.Positions()
		if strings.TrimSpace(c) == "" {
			space, spaceUsed = from, used
		}
		used += n
		_, end = g.Positions()
	}
	if space > 0 && spaceUsed >= used*3/4 {
		end = space
	}
	return strings.TrimRightFunc(s[:end], unicode.IsSpace) + Ellipsis
}

// UTF16Len counts s in UTF-16 code units, the way SMS gateways count
// characters (an emoji is two).
func UTF16Len(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

// CheckPerson checks a name in a pager's `to` table: it is what follows
// the colon in an escalation target ("pushover:alice"), so it holds no
// colon, comma or space, and "oncall" is taken (the [[rota]]'s person).
func CheckPerson(name string) error {
	switch {
	case name == "":
		return errors.New("a person's name is empty")
	case strings.EqualFold(name, "oncall"):
		return errors.New(`"oncall" is not a person: in escalation targets it names the [[rota]]'s person on call; use a real name`)
	case strings.IndexFunc(name, func(r rune) bool { return r == ':' || r == ',' || unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
		return fmt.Errorf("person %q: a name holds no colon, comma or space (it is written \"pager:%s\" in escalation targets)", name, "NAME")
	}
	return nil
}
