package twitter

import (
	"slices"
	"sync"
	"unicode"
	"unicode/utf16"

	"github.com/incident-cli/incident/publishers"
)

// tldAt matches (genericTLD | countryTLD | xn--[-0-9a-z]+) at t: the first
// TLD of the lists, in order, that the text holds there (compared as
// JavaScript's case-insensitive matching compares) and that no
// [0-9a-zA-Z@+-] follows.
func tldAt(u []uint16, t int) (int, bool) {
	if t >= len(u) {
		return 0, false
	}
	tldUnits, tldIndex := tldTables()
	for _, i := range tldIndex[canon(u[t])] {
		tld := tldUnits[i]
		if t+len(tld) > len(u) {
			continue
		}
		ok := true
		for k, c := range tld {
			if canon(u[t+k]) != c {
				ok = false
				break
			}
		}
		if e := t + len(tld); ok && (e == len(u) || !tldFollower(u[e])) {
			return e, true
		}
	}
	if asciiPrefixFold(u, t, "xn--") {
		e := t + 4
		for e < len(u) && (isASCIIAlnum(u[e]) || u[e] == '-') {
			e++
		}
		if e > t+4 {
			return e, true
		}
	}
	return 0, false
}

func tldFollower(c uint16) bool { return isASCIIAlnum(c) || c == '@' || c == '+' || c == '-' }

// tldTables are the TLDs, generic then country, in canonical code units,
// and their index by first code unit: built on first use, so a command that
// never counts a post never pays for them.
var tldTables = sync.OnceValues(func() ([][]uint16, map[uint16][]int) {
	var units [][]uint16
	index := map[uint16][]int{}
	for _, t := range append(slices.Clone(publishers.GenericTLDs), publishers.CountryTLDs...) {
		us := utf16.Encode([]rune(t))
		for k, c := range us {
			us[k] = canon(c)
		}
		index[us[0]] = append(index[us[0]], len(units))
		units = append(units, us)
	}
	return units, index
})

// canon is JavaScript's Canonicalize for case-insensitive matching without
// the u flag: the upper case of a code unit, unless it takes more than one
// code unit or would turn a non-ASCII character into an ASCII one.
func canon(c uint16) uint16 {
	r := rune(c)
	switch {
	case r >= 0x1F80 && r <= 0x1FAF, r == 0x1FB3, r == 0x1FC3, r == 0x1FF3:
		return c // Greek with ypogegrammeni: two code units in upper case
	}
	up := unicode.ToUpper(r)
	if up > 0xFFFF || r >= 0x80 && up < 0x80 {
		return c
	}
	return uint16(up)
}

// indexFrom is JavaScript's s.indexOf(sub, from).
func indexFrom(s, sub []uint16, from int) int {
	for i := from; i+len(sub) <= len(s); i++ {
		if slices.Equal(s[i:i+len(sub)], sub) {
			return i
		}
	}
	return -1
}

func asciiPrefix(u []uint16, i int, p string) bool {
	if len(u)-i < len(p) {
		return false
	}
	for k := 0; k < len(p); k++ {
		if u[i+k] != uint16(p[k]) {
			return false
		}
	}
	return true
}

func asciiPrefixFold(u []uint16, i int, p string) bool {
	if len(u)-i < len(p) {
		return false
	}
	for k := 0; k < len(p); k++ {
		c := u[i+k]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != uint16(p[k]) {
			return false
		}
	}
	return true
}

func isASCIIAlnum(c uint16) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || isDigit(c)
}

func isDigit(c uint16) bool { return c >= '0' && c <= '9' }
