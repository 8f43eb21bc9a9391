package publishers

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestAnswerLimits(t *testing.T) {
	for _, tc := range []struct {
		name    string
		size    int
		tooMuch bool
	}{
		{"small", 10, false},
		{"exactly the limit", MaxAnswer, false},
		{"one byte over", MaxAnswer + 1, true},
		{"far over", 3 * MaxAnswer, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := strings.Repeat("x", tc.size)
			b, err := ReadAnswer(strings.NewReader(body))
			if errors.Is(err, ErrAnswerTooLarge) != tc.tooMuch || len(b) != min(tc.size, MaxAnswer) {
				t.Errorf("ReadAnswer: %d bytes, %v", len(b), err)
			}
			n, err := io.Copy(io.Discard, LimitBody(io.NopCloser(bytes.NewReader([]byte(body)))))
			if errors.Is(err, ErrAnswerTooLarge) != tc.tooMuch || n != int64(min(tc.size, MaxAnswer)) {
				t.Errorf("LimitBody: %d bytes, %v", n, err)
			}
		})
	}
}
