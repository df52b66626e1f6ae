/*
   Copyright The nodecred Authors.

   Licensed under the Apache License, Version 2.0 (the "License");
   you may not use this file except in compliance with the License.
   You may obtain a copy of the License at

       http://www.apache.org/licenses/LICENSE-2.0

   Unless required by applicable law or agreed to in writing, software
   distributed under the License is distributed on an "AS IS" BASIS,
   WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
   See the License for the specific language governing permissions and
   limitations under the License.
*/

// Package transfer wraps containerd's transfer service so that image pulls
// (and, when allowed, pushes) get the node's registry credentials whenever
// the caller sent none, with every other registry option as the caller set
// it. Transferrer wraps the local transferrer; Service wraps the transfer
// gRPC service so that the registries gRPC clients send reach Transferrer
// with their message intact.
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

// Transfer runs the transfer through the wrapped transferrer. A registry
// source, or with Options.Push a registry destination, in a namespace that
// may use node credentials is handed on as an equivalent registry whose
// credentials come from the caller first and the node source second.
func (t *Transferrer) Transfer(ctx context.Context, src, dst any, opts ...transfer.Opt) error {
	ns, _ := namespaces.Namespace(ctx)
	allowed := len(t.opts.Namespaces) == 0 || slices.Contains(t.opts.Namespaces, ns)
	if _, ok := src.(*NodeRegistry); ok && !allowed {
		return fmt.Errorf("namespace %q may not use node credentials: %w", ns, errdefs.ErrPermissionDenied)
	}

	notLent := t.notLent(src, dst, ns, allowed)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	rec := &record{}
	var cleanup []func()
	defer func() {
		for _, f := range cleanup {
			f()
		}
	}()
	var err error
	if nr, ok := src.(*NodeRegistry); ok {
		src, err = nr.registry(ctx, t.helper(ctx, ns, rec))
	} else {
		src, err = t.prepare(ctx, src, ns, allowed, rec, &cleanup)
	}
	if err != nil {
		return err
	}
	dst, err = t.prepare(ctx, dst, ns, allowed && t.opts.Push, rec, &cleanup)
	if err != nil {
		return err
	}
	err = t.inner.Transfer(ctx, src, dst, opts...)
	if err == nil {
		return nil
	}
	return rec.explain(ctx, err, notLent)
}

// notLent says why node credentials were not lent to a registry of this
// transfer, if they were not: a clause for a failed transfer's error.
func (t *Transferrer) notLent(src, dst any, ns string, allowed bool) string {
	switch {
	case !allowed && (isRegistry(src) || isRegistry(dst)):
		return fmt.Sprintf("not lent to namespace %q", ns)
	case !t.opts.Push && isRegistry(dst):
		return "not lent to pushes (push = false)"
	}
	return ""
}

// isRegistry reports whether v is a registry that the Transferrer may give
// node credentials.
func isRegistry(v any) bool {
	switch v.(type) {
	case *receivedRegistry, *registry.OCIRegistry:
		return true
	}
	return false
}

// prepare returns what the wrapped transferrer gets in place of v: with
// lend, a registry whose credentials come from the caller first and the node
// source second; without, the registry stock containerd would use. Anything
// that is not a registry is returned as it is. Functions to run once the
// transfer is done are added to cleanup.
func (t *Transferrer) prepare(ctx context.Context, v any, ns string, lend bool, rec *record, cleanup *[]func()) (any, error) {
	switch r := v.(type) {
	case *receivedRegistry:
		if !lend {
			return r.stock(ctx)
		}
		nr, done, err := r.withCredentials(ctx, t.helper(ctx, ns, rec))
		if err != nil {
			return nil, err
		}
		*cleanup = append(*cleanup, done)
		return nr, nil
	case *registry.OCIRegistry:
		if !lend {
			return r, nil
		}
		nr, done, err := rehome(ctx, r, t.helper(ctx, ns, rec))
		if err != nil {
			return nil, err
		}
		*cleanup = append(*cleanup, done)
		return nr, nil
	}
	return v, nil
}

func (t *Transferrer) helper(ctx context.Context, ns string, rec *record) *credentialHelper {
	return &credentialHelper{ctx: ctx, node: t.source, namespace: ns, record: rec}
}
