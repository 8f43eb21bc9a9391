package runbook

import (
	"context"
	"strings"
)

// freshKey marks the context of Publish's deliveries with the update this
// process has just recorded: the first attempt at each of its deliveries is
// Post.Fresh. Deliveries of any other update, and every delivery in Retry,
// are not.
type freshKey struct{}

func freshDeliveries(ctx context.Context, inc *Incident, u *Update) context.Context {
	return context.WithValue(ctx, freshKey{}, key(inc, u, &Channel{})) // "incident/update/": the keys' prefix
}

func isFresh(ctx context.Context, postKey string) bool {
	prefix, _ := ctx.Value(freshKey{}).(string)
	return prefix != "" && strings.HasPrefix(postKey, prefix)
}
