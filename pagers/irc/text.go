package irc

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"
)

// maxLine is RFC 2812's limit on a line, CR LF included.
const maxLine = 512

// Clean makes s safe to send as one IRC parameter: CR, LF, NUL and every
// other control character (IRC's colour and bold codes included) become
// spaces, runs of spaces collapse, and the ends are trimmed. Nothing in an
// alert's summary can then end our line and start a command of its own.
func Clean(s string) string {
	s = strings.ToValidUTF8(s, "?")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// split cuts text into pieces of at most n bytes, at a space where it can
// and never inside a UTF-8 sequence.
func split(text string, n int) []string {
	if n < 16 {
		n = 16
	}
	var out []string
	for len(text) > n {
		cut := n
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		if sp := strings.LastIndexByte(text[:cut], ' '); sp > n/2 {
			cut = sp
		}
		out = append(out, strings.TrimRight(text[:cut], " "))
		text = strings.TrimLeft(text[cut:], " ")
	}
	if text != "" {
		out = append(out, text)
	}
	return out
}

// bucket paces what we send after registration, as servers expect of a
// client (RFC 1459 §8.10: a 2 s penalty per message, 10 s of credit): a
// burst, then one line per interval.
type bucket struct {
	burst  float64
	every  time.Duration
	now    func() time.Time
	sleep  func(ctx context.Context, d time.Duration) error
	tokens float64
	last   time.Time
}

func newBucket(burst int, every time.Duration, now func() time.Time, sleep func(context.Context, time.Duration) error) *bucket {
	return &bucket{burst: float64(burst), every: every, now: now, sleep: sleep, tokens: float64(burst)}
}

// take waits, if need be, until a line may go out.
func (b *bucket) take(ctx context.Context) error {
	b.refill()
	if b.tokens < 1 {
		if err := b.sleep(ctx, time.Duration((1-b.tokens)*float64(b.every))); err != nil {
			return err
		}
		b.refill()
		b.tokens = max(b.tokens, 1)
	}
	b.tokens--
	return nil
}

func (b *bucket) refill() {
	now := b.now()
	if !b.last.IsZero() {
		b.tokens = min(b.burst, b.tokens+float64(now.Sub(b.last))/float64(b.every))
	}
	b.last = now
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
