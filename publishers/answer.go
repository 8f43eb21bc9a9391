package publishers

import (
	"fmt"
	"io"
)

// MaxAnswer is the most of a service's answer a channel reads: far more than
// any answer these APIs give, far less than a hostile or broken service can
// stream.
const MaxAnswer = 4 << 20

// ErrAnswerTooLarge is the error of a read past MaxAnswer. Retrying may
// help (a proxy's error page), so it is not permanent.
var ErrAnswerTooLarge = fmt.Errorf("the answer is larger than %d MiB; the service (or a proxy before it) misbehaves", MaxAnswer>>20)

// ReadAnswer reads a whole answer body of at most MaxAnswer bytes; a longer
// one is ErrAnswerTooLarge, read no further.
func ReadAnswer(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxAnswer+1))
	if err != nil {
		return b, err
	}
	if len(b) > MaxAnswer {
		return b[:MaxAnswer], ErrAnswerTooLarge
	}
	return b, nil
}

// LimitBody wraps a response body a library reads (go-mastodon decodes
// straight from it): reading past MaxAnswer fails with ErrAnswerTooLarge.
func LimitBody(body io.ReadCloser) io.ReadCloser {
	return &limitedBody{body: body, left: MaxAnswer}
}

type limitedBody struct {
	body io.ReadCloser
	left int64
}

func (l *limitedBody) Read(p []byte) (int, error) {
	if l.left <= 0 {
		// One byte more than allowed tells a body that ends exactly at
		// the limit from one that goes on.
		var one [1]byte
		if n, err := l.body.Read(one[:]); n == 0 && err != nil {
			return 0, err
		}
		return 0, ErrAnswerTooLarge
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.body.Read(p)
	l.left -= int64(n)
	return n, err
}

func (l *limitedBody) Close() error { return l.body.Close() }
