package bluesky

import (
	"testing"

	"github.com/incident-cli/incident/internal/countcheck"
)

// TestCountAgreesWithGraphemer counts a few thousand random texts with our
// grapheme counter and with npm graphemer 1.4.0 (what Bluesky's lexicon
// validation counts with): every count must agree. See internal/countcheck
// for the seed and for what makes it skip.
func TestCountAgreesWithGraphemer(t *testing.T) {
	countcheck.Compare(t, "graphemer", countcheck.Seed(t), countcheck.N(t), graphemes)
}
