package transfer

import (
	"context"
	"fmt"

	transfertypes "github.com/containerd/containerd/api/types/transfer"
	"github.com/containerd/containerd/v2/core/transfer/registry"
	"github.com/containerd/log"
	"github.com/containerd/typeurl/v2"

	"github.com/nodecred/nodecred/internal/containerdcompat"
)

// rehome returns a copy of r, a registry built in-process (by CRI), whose
// credentials come from h, with the caller's own credential helper (if r
// had one) set as h.caller.
//
// A registry that NewOCIRegistry built carries its options, but exposes
// them only through MarshalAny. So r is marshalled through in-process
// streams, the same round trip the gRPC transfer proxy makes: that gives
// the reference, hosts directory, default scheme and HTTP debug setting, and
// serves the caller's credential helper on a stream we can ask. The
// headers, which MarshalAny flattens, are read from r itself (containerdcompat.Headers).
// HTTP debug output that an in-process caller sends to its own writer
// (WithClientStream) goes to containerd's log instead; CRI sets none.
//
// Registries that gRPC clients send never get here: Service hands them to
// the Transferrer as receivedRegistry, with their message intact.
//
// The returned func ends the caller's credential stream; call it once the
// transfer is done.
func rehome(ctx context.Context, r *registry.OCIRegistry, h *credentialHelper) (*registry.OCIRegistry, func(), error) {
	streams := newLocalStreams()
	a, err := r.MarshalAny(ctx, streams)
	if err != nil {
		streams.Close()
		return nil, nil, fmt.Errorf("failed to read registry options: %w", err)
	}
	var msg transfertypes.OCIRegistry
	if err := typeurl.UnmarshalTo(a, &msg); err != nil {
		streams.Close()
		return nil, nil, fmt.Errorf("failed to read registry options: %w", err)
	}
	res := msg.GetResolver()
	if sid := res.GetAuthStream(); sid != "" {
		if p := streams.peer(sid); p != nil {
			h.caller = &callerCredentials{stream: p}
		}
	}
	headers, ok := containerdcompat.Headers(r)
	if !ok {
		log.G(ctx).Warn("nodecred: cannot read the registry's headers directly; using OCIRegistry.MarshalAny's single-valued copy")
		headers = messageHeaders(res)
	}
	out, endDebug, err := debugOutput(ctx, res, nil)
	if err != nil {
		streams.Close()
		return nil, nil, err
	}
	nr, err := buildRegistry(ctx, msg.GetReference(), res, headers, h, out)
	if err != nil {
		endDebug()
		streams.Close()
		return nil, nil, err
	}
	return nr, func() { endDebug(); streams.Close() }, nil
}
