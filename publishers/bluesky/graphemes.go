package bluesky

import (
	"sort"
	"unicode/utf16"
)

// graphemes counts s in grapheme clusters the way Bluesky does: its
// lexicon's maxGraphemes is checked with npm graphemer 1.4.0, which differs
// from Unicode's rules (UAX #29) around regional indicators (a flag followed
// by two combining marks is two clusters there) and in its own property
// tables. This is a port of graphemer's countGraphemes, over UTF-16 code
// units as JavaScript sees the text, with its tables (tables.go, generated
// from graphemer); internal/countcheck compares the two on random texts.
func graphemes(s string) int {
	u := utf16.Encode([]rune(s))
	count := 0
	for i := 0; i < len(u); count++ {
		i = nextBreak(u, i)
	}
	return count
}

// nextBreak is graphemer's Graphemer.nextBreak: the end of the cluster
// starting at index. graphemer's shouldBreak looks at the properties of the
// whole cluster so far; the few facts it takes from them are kept as the
// cluster grows (see cluster), so a long cluster costs linear time.
func nextBreak(u []uint16, index int) int {
	if index >= len(u)-1 {
		return len(u)
	}
	cp := codePointAt(u, index)
	c := cluster{prev: breakProperty(cp), lastRI: -1, lastEP: -1, lastNonExtend: -1}
	if c.prev == gbRegionalIndicator {
		c.lastRI = 0
	}
	if pictographic(cp) {
		c.lastEP = 0
	}
	for i := index + 1; i < len(u); i++ {
		if isPair(u, i-1) {
			continue // the second half of a pair already read
		}
		cp := codePointAt(u, i)
		if c.add(breakProperty(cp), pictographic(cp)) {
			return i
		}
	}
	return len(u)
}

// cluster is what graphemer's shouldBreak uses of the properties of the
// code points of a cluster so far, all[0..k]: the last one (prev), the last
// regional indicator, how many regional indicators follow the first code
// point, the last Extended_Pictographic, and the last code point before prev
// that is not Extend.
type cluster struct {
	k, prev       int
	lastRI, riRun int // riRun: all[1..riRun] are regional indicators
	lastEP        int
	lastNonExtend int // in all[0..k-1]
}

// add decides whether the cluster breaks before a code point with
// Grapheme_Cluster_Break next (GraphemerHelper.shouldBreak), and if not,
// takes it in.
func (c *cluster) add(next int, nextEP bool) bool {
	j := c.k + 1 // next's index
	lastRI, riRun := c.lastRI, c.riRun
	if next == gbRegionalIndicator {
		lastRI = j
		if riRun == j-1 {
			riRun = j
		}
	}
	if c.decide(next, nextEP, lastRI, riRun) {
		return true
	}
	if c.prev != gbExtend {
		c.lastNonExtend = c.k
	}
	c.k, c.prev, c.lastRI, c.riRun = j, next, lastRI, riRun
	if nextEP {
		c.lastEP = j
	}
	return false
}

func (c *cluster) decide(next int, nextEP bool, lastRI, riRun int) bool {
	previous := c.prev
	// graphemer's "lookahead terminator" for GB12 and GB13: a last regional
	// indicator with only regional indicators between it and the first code
	// point breaks, unless previous is Prepend or a regional indicator
	if lastRI > 0 && riRun >= lastRI-1 && previous != gbPrepend && previous != gbRegionalIndicator {
		return true
	}
	switch {
	case previous == gbCr && next == gbLf:
		return false // GB3
	case previous == gbControl || previous == gbCr || previous == gbLf:
		return true // GB4
	case next == gbControl || next == gbCr || next == gbLf:
		return true // GB5
	case previous == gbL && (next == gbL || next == gbV || next == gbLv || next == gbLvt):
		return false // GB6
	case (previous == gbLv || previous == gbV) && (next == gbV || next == gbT):
		return false // GB7
	case (previous == gbLvt || previous == gbT) && next == gbT:
		return false // GB8
	case next == gbExtend || next == gbZwj, next == gbSpacingmark, previous == gbPrepend:
		return false // GB9, GB9a, GB9b
	}
	// GB11: \p{Extended_Pictographic} Extend* ZWJ × \p{Extended_Pictographic}
	if c.lastEP >= 0 && c.lastNonExtend <= c.lastEP && previous == gbZwj && nextEP {
		return false
	}
	if c.lastRI >= 1 {
		return true // GB12, GB13: a regional indicator in the middle
	}
	return !(previous == gbRegionalIndicator && next == gbRegionalIndicator)
}

func isPair(u []uint16, i int) bool {
	return i >= 0 && i+1 < len(u) && u[i] >= 0xD800 && u[i] <= 0xDBFF && u[i+1] >= 0xDC00 && u[i+1] <= 0xDFFF
}

// codePointAt is GraphemerHelper.codePointAt.
func codePointAt(u []uint16, i int) rune {
	c := rune(u[i])
	switch {
	case c >= 0xD800 && c <= 0xDBFF && i < len(u)-1:
		if lo := rune(u[i+1]); lo >= 0xDC00 && lo <= 0xDFFF {
			return (c-0xD800)*0x400 + lo - 0xDC00 + 0x10000
		}
	case c >= 0xDC00 && c <= 0xDFFF && i >= 1:
		if hi := rune(u[i-1]); hi >= 0xD800 && hi <= 0xDBFF {
			return (hi-0xD800)*0x400 + c - 0xDC00 + 0x10000
		}
	}
	return c
}

type breakRange struct {
	from, to rune
	value    int
}

func breakProperty(cp rune) int {
	i := sort.Search(len(breakRanges), func(i int) bool { return breakRanges[i].to >= cp })
	if i < len(breakRanges) && breakRanges[i].from <= cp {
		return breakRanges[i].value
	}
	return gbOther
}

func pictographic(cp rune) bool {
	i := sort.Search(len(pictographicRanges), func(i int) bool { return pictographicRanges[i][1] >= cp })
	return i < len(pictographicRanges) && pictographicRanges[i][0] <= cp
}
