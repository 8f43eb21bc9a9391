package twitter

import (
	"testing"

	"github.com/incident-cli/incident/internal/countcheck"
)

// TestCountAgreesWithTwitterText counts a few thousand random texts (CJK,
// emoji sequences, flags, keycaps, combining marks, zero-width and
// bidirectional characters, URLs with and without a scheme, cut URLs,
// mentions, hashtags) with weigh and with npm twitter-text 3.1.0's
// parseTweet: every weighted length must agree. See internal/countcheck for
// the seed and for what makes it skip.
func TestCountAgreesWithTwitterText(t *testing.T) {
	countcheck.Compare(t, "twitter", countcheck.Seed(t), countcheck.N(t), func(s string) int {
		n, _ := weigh(s)
		return n
	})
}
