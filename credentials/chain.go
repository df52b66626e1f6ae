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

package credentials

import (
	"context"
	"errors"
	"io"

	"github.com/containerd/log"

	"github.com/nodecred/nodecred/internal/logs"
	"github.com/nodecred/nodecred/metrics"
)

// Named is a Source with the name it is logged under and its type.
type Named struct {
	// Name is what logs, metrics and Credential.Source call the source,
	// such as "helper:ecr-login"; it may carry a path, so a Report never
	// shows it.
	Name string
	// Type is the source's type as configured ("dockerconfig", "helper",
	// "kubelet", "static"): a Report names the source by it and its place
	// in the chain. Empty, the Report uses Name instead.
	Type string
	Source
}

// Chain asks its sources in order; the first one that finds a credential
// wins. A source that fails is counted, logged and skipped, so one broken
// source never stops the others from serving. A failure a source returns
// again from its cache is logged once (see Unreported).
type Chain []Named

var (
	_ Source    = Chain(nil)
	_ Reporter  = Chain(nil)
	_ io.Closer = Chain(nil)
)

// Get returns the first credential found, with Source set to the name of
// the source that served it. It returns an error only when no source found
// a credential and ctx is done.
func (c Chain) Get(ctx context.Context, req Request) (Credential, error) {
	cred, _, err := c.lookup(ctx, req, false)
	return cred, err
}

// GetReport is Get that also says what the sources did (see Report).
func (c Chain) GetReport(ctx context.Context, req Request) (Credential, Report, error) {
	return c.lookup(ctx, req, true)
}

// lookup is Get, with a Report when report is set: without, nothing is
// recorded, so Get costs what it did before reports existed.
func (c Chain) lookup(ctx context.Context, req Request, report bool) (Credential, Report, error) {
	var r Report
	if report {
		r.chain = c
	}
	for i, s := range c {
		cred, err := s.Get(ctx, req)
		if err != nil {
			metrics.Lookup(s.Name, "error")
			if ctx.Err() != nil {
				return Credential{}, r, ctx.Err()
			}
			if Unreported(err) {
				logs.With(ctx, log.Fields{
					"source": s.Name,
					"host":   req.Host,
				}).WithError(err).Warn("credential source failed, asking the next one")
			}
			if report {
				r.failed = append(r.failed, failure{index: i, err: err})
			}
			continue
		}
		if !cred.IsZero() {
			metrics.Lookup(s.Name, "hit")
			cred.Source = s.Name
			r.served = i + 1
			return cred, r, nil
		}
		metrics.Lookup(s.Name, "miss")
	}
	return Credential{}, r, ctx.Err()
}

// Close closes every source of the chain that has a lifecycle (an
// io.Closer): sources that run programs stop their renewals and runs. The
// plugin closes its chain when containerd stops.
func (c Chain) Close() error {
	var errs []error
	for _, s := range c {
		if cl, ok := s.Source.(io.Closer); ok {
			errs = append(errs, cl.Close())
		}
	}
	return errors.Join(errs...)
}
