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

package transfer

import (
	"context"

	"github.com/containerd/containerd/v2/core/transfer/registry"
	"github.com/containerd/log"

	"github.com/nodecred/nodecred/internal/containerdcompat"
	"github.com/nodecred/nodecred/internal/logs"
)

// rehome returns a copy of r, a registry built in-process (by CRI), whose
// credentials come from h, with the caller's own credential helper (if r
// had one) set as h.caller.
//
// A registry that NewOCIRegistry built carries its options, but exposes
// them only through MarshalAny, so they are read back through the same
// round trip the gRPC transfer proxy makes (containerdcompat.ReadBack):
// that gives the reference, hosts directory, default scheme and HTTP debug
// setting, and the caller's credential helper to ask. The headers, which
// MarshalAny flattens, are read from r itself (containerdcompat.Headers).
// HTTP debug output that an in-process caller sends to its own writer
// (WithClientStream) goes to containerd's log instead; CRI sets none.
//
// Registries that gRPC clients send never get here: Service hands them to
// the Transferrer as receivedRegistry, with their message intact.
//
// The returned func ends the caller's credential stream; call it once the
// transfer is done.
func rehome(ctx context.Context, r *registry.OCIRegistry, h *credentialHelper) (*registry.OCIRegistry, func(), error) {
	msg, caller, streams, err := containerdcompat.ReadBack(ctx, r)
	if err != nil {
		return nil, nil, err
	}
	if caller != nil {
		h.caller = caller
	}
	res := msg.GetResolver()
	headers, ok := containerdcompat.Headers(r)
	if !ok {
		logs.With(ctx, log.Fields{"effect": "using OCIRegistry.MarshalAny's single-valued copy"}).
			Warn("cannot read the registry's headers directly")
		headers = containerdcompat.MessageHeaders(res)
	}
	out, endDebug, err := containerdcompat.DebugOutput(ctx, res, nil)
	if err != nil {
		streams.Close()
		return nil, nil, err
	}
	nr, err := containerdcompat.BuildRegistry(ctx, msg.GetReference(), res, headers, h, out)
	if err != nil {
		endDebug()
		streams.Close()
		return nil, nil, err
	}
	return nr, func() { endDebug(); streams.Close() }, nil
}
