package pagers

import (
	"errors"
	"sync"
	"time"

	"github.com/incident-cli/incident/publishers"
)

// Each pages people one by one with send and collects what it answered:
// the people reached, in order, with their results, and the failures
// joined into one error. A person failing does not stop the others.
// Retryable failures come first in the joined error, so that
// publishers.Retryable and publishers.RetryAfter (which read the first)
// call for a retry when one can help; the permanent ones fail again
// harmlessly, and a Delivered keeps the retry from paging those reached.
func Each[T any](people []string, send func(person string) (T, error)) (reached []string, results []T, err error) {
	var retryable, permanent []error
	for _, name := range people {
		r, err := send(name)
		if err != nil {
			if publishers.Retryable(err) {
				retryable = append(retryable, err)
			} else {
				permanent = append(permanent, err)
			}
			continue
		}
		reached, results = append(reached, name), append(results, r)
	}
	return reached, results, errors.Join(append(retryable, permanent...)...)
}

// Remember is how long a Delivered keeps what a page key reached.
const Remember = 24 * time.Hour

// Delivered remembers, for a day, what a service answered for each person
// a page key reached, so that a retry of the page in this process (after
// a partial failure, or a lost answer the service confirmed) pages only
// those not reached yet. Services that do not deduplicate (Pushover,
// Twilio) need it; it cannot help a retry from another process. The zero
// value is ready.
type Delivered[T any] struct {
	mu sync.Mutex
	m  map[string]delivered[T]
}

type delivered[T any] struct {
	v  T
	at time.Time
}

// Get returns what key reached person with, if it did; an empty key is
// never remembered.
func (d *Delivered[T]) Get(key, person string, now time.Time) (T, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for k, x := range d.m {
		if now.Sub(x.at) > Remember {
			delete(d.m, k)
		}
	}
	x, ok := d.m[key+"\n"+person]
	return x.v, ok && key != ""
}

// Put records that key reached person with v.
func (d *Delivered[T]) Put(key, person string, v T, now time.Time) {
	if key == "" {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.m == nil {
		d.m = map[string]delivered[T]{}
	}
	d.m[key+"\n"+person] = delivered[T]{v, now}
}
