// Package transfer wraps containerd's transfer service so that image pulls
// (and, when allowed, pushes) get the node's registry credentials whenever
// the caller sent none.
package transfer

import (
	"context"
	"fmt"
	"slices"

	"github.com/containerd/containerd/v2/core/transfer"
	"github.com/containerd/containerd/v2/core/transfer/registry"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	"github.com/containerd/errdefs"

	"github.com/nodecred/nodecred/credentials"
)

// Options say who may borrow the node's credentials.
type Options struct {
	// Namespaces are the containerd namespaces whose transfers get node
	// credentials; empty means all.
	Namespaces []string
	// Push lends node credentials to pushes too.
	Push bool
}

// Transferrer is a transfer.Transferrer that re-homes registry sources (and
// destinations, with Options.Push) onto credentials that ask the caller
// first and the node source second. Every other transfer passes through
// untouched.
type Transferrer struct {
	inner  transfer.Transferrer
	source credentials.Source
	opts   Options
}

var _ transfer.Transferrer = (*Transferrer)(nil)

// New wraps inner.
func New(inner transfer.Transferrer, source credentials.Source, opts Options) *Transferrer {
	return &Transferrer{inner: inner, source: source, opts: opts}
}

// Unwrap returns the wrapped transferrer.
func (t *Transferrer) Unwrap() transfer.Transferrer { return t.inner }

// Transfer runs the transfer through the wrapped transferrer.
func (t *Transferrer) Transfer(ctx context.Context, src, dst any, opts ...transfer.Opt) error {
	ns, _ := namespaces.Namespace(ctx)
	allowed := len(t.opts.Namespaces) == 0 || slices.Contains(t.opts.Namespaces, ns)

	switch s := src.(type) {
	case *NodeRegistry:
		if !allowed {
			return fmt.Errorf("namespace %q may not use node credentials: %w", ns, errdefs.ErrPermissionDenied)
		}
		r, err := s.registry(ctx, &credentialHelper{ctx: ctx, node: t.source, namespace: ns})
		if err != nil {
			return err
		}
		return t.inner.Transfer(ctx, r, dst, opts...)
	case *registry.OCIRegistry:
		if allowed {
			return t.rehomed(ctx, s, ns, func(r *registry.OCIRegistry) error {
				return t.inner.Transfer(ctx, r, dst, opts...)
			})
		}
	}
	if d, ok := dst.(*registry.OCIRegistry); ok && allowed && t.opts.Push {
		return t.rehomed(ctx, d, ns, func(r *registry.OCIRegistry) error {
			return t.inner.Transfer(ctx, src, r, opts...)
		})
	}
	return t.inner.Transfer(ctx, src, dst, opts...)
}

func (t *Transferrer) rehomed(ctx context.Context, r *registry.OCIRegistry, ns string, run func(*registry.OCIRegistry) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	nr, done, err := rehome(ctx, r, &credentialHelper{ctx: ctx, node: t.source, namespace: ns})
	if err != nil {
		return err
	}
	defer done()
	return run(nr)
}
