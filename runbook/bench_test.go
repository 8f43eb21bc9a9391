package runbook

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/incident-cli/incident/publishers"
)

// slowChannel answers every post after a fixed delay, like a distant API.
type slowChannel struct{ delay time.Duration }

func (s slowChannel) Publish(ctx context.Context, p publishers.Post) (publishers.Receipt, error) {
	select {
	case <-time.After(s.delay):
		return publishers.Receipt{ID: p.Key, URL: "https://example.com/" + p.Key}, nil
	case <-ctx.Done():
		return publishers.Receipt{}, ctx.Err()
	}
}

// BenchmarkFanOut publishes one update to a status page and five link
// channels that each take 300 ms to answer. Link channels run concurrently,
// so an update takes about two round trips (status page, then every link at
// once), not six.
func BenchmarkFanOut(b *testing.B) {
	const delay = 300 * time.Millisecond
	rb := testRunbook(b, nil)
	rb.RetryPolicy.Timeout = 5 * time.Second
	rb.StatusPage = &Channel{Name: "status page", Type: "slow", StatusPage: true, Pub: slowChannel{delay}}
	for i := range 5 {
		rb.Links = append(rb.Links, &Channel{Name: fmt.Sprint("link", i), Type: "slow", Template: "social.txt.tmpl", Pub: slowChannel{delay}})
	}
	id := open(b, rb).Incident.ID
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		res, err := rb.Publish(context.Background(), id, Draft{Via: "update", Status: Identified, Message: fmt.Sprint("update ", i)}, PublishOptions{})
		if err != nil || res.Failed() > 0 {
			b.Fatal(err, res.Channels)
		}
		b.ReportMetric(float64(time.Since(start))/float64(delay), "round-trips")
	}
}
