package credentials

import (
	"context"

	"golang.org/x/sync/singleflight"
)

// shared runs fn once for all concurrent callers with the same key. fn runs
// detached from every caller, bounded by its program's own timeout, so that
// the callers who still want the answer get it; each caller stops waiting
// when its own ctx is done, as a cancelled pull should.
func shared[T any](ctx context.Context, g *singleflight.Group, key string, fn func() T) (T, error) {
	ch := g.DoChan(key, func() (any, error) { return fn(), nil })
	select {
	case r := <-ch:
		return r.Val.(T), nil
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}
