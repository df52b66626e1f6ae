package credentials

import (
	"context"

	"github.com/containerd/log"

	"github.com/nodecred/nodecred/metrics"
)

// Named is a Source with the name it is logged under.
type Named struct {
	Name string
	Source
}

// Chain asks its sources in order; the first one that finds a credential
// wins. A source that fails is counted, logged and skipped, so one broken
// source never stops the others from serving. A failure a source returns
// again from its cache is logged once (see unreported).
type Chain []Named

var _ Source = Chain(nil)

// Get returns the first credential found, with Source set to the name of
// the source that served it. It returns an error only when no source found
// a credential and ctx is done.
func (c Chain) Get(ctx context.Context, req Request) (Credential, error) {
	for _, s := range c {
		cred, err := s.Get(ctx, req)
		if err != nil {
			metrics.Lookup(s.Name, "error")
			if ctx.Err() != nil {
				return Credential{}, ctx.Err()
			}
			if unreported(err) {
				log.G(ctx).WithFields(log.Fields{
					"source": s.Name,
					"host":   req.Host,
				}).WithError(err).Warn("nodecred: credential source failed, asking the next one")
			}
			continue
		}
		if !cred.IsZero() {
			metrics.Lookup(s.Name, "hit")
			cred.Source = s.Name
			return cred, nil
		}
		metrics.Lookup(s.Name, "miss")
	}
	return Credential{}, ctx.Err()
}
