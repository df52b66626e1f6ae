package transfer

import (
	"context"
	"fmt"
	"net/http"

	transfertypes "github.com/containerd/containerd/api/types/transfer"
	"github.com/containerd/containerd/v2/core/transfer/registry"
	"github.com/containerd/typeurl/v2"
)

// rehome returns a copy of r whose credentials come from h, with the
// caller's own credential helper (if r had one) set as h.caller. The
// reference, headers, hosts directory and default scheme are read back by
// marshalling r through in-process streams, the same round trip the gRPC
// transfer proxy makes, since OCIRegistry exposes them no other way.
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
	var opts []registry.Opt
	if res := msg.Resolver; res != nil {
		if len(res.Headers) > 0 {
			headers := http.Header{}
			for k, v := range res.Headers {
				headers.Set(k, v)
			}
			opts = append(opts, registry.WithHeaders(headers))
		}
		if res.HostDir != "" {
			opts = append(opts, registry.WithHostDir(res.HostDir))
		}
		if res.DefaultScheme != "" {
			opts = append(opts, registry.WithDefaultScheme(res.DefaultScheme))
		}
		if res.AuthStream != "" {
			if p := streams.peer(res.AuthStream); p != nil {
				h.caller = &callerCredentials{stream: p}
			}
		}
	}
	opts = append(opts, registry.WithCredentials(h))
	nr, err := registry.NewOCIRegistry(ctx, msg.Reference, opts...)
	if err != nil {
		streams.Close()
		return nil, nil, err
	}
	return nr, streams.Close, nil
}
