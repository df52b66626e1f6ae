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
	"fmt"

	transfertypes "github.com/containerd/containerd/api/types/transfer"
	"github.com/containerd/containerd/v2/core/streaming"
	"github.com/containerd/containerd/v2/core/transfer/plugins"
	"github.com/containerd/containerd/v2/core/transfer/registry"
	"github.com/containerd/typeurl/v2"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/nodecred/nodecred/internal/containerdcompat"
)

// receivedRegistry is an OCIRegistry message as containerd's gRPC transfer
// service received it from a client (ctr, the Go client, nerdctl), kept as
// the message rather than turned into a registry.OCIRegistry.
//
// Why: containerd's OCIRegistry.UnmarshalAny (core/transfer/registry,
// identical in 2.1 to 2.4) applies the message's hosts directory and default
// scheme to its resolver but does not store them in the object, so they
// cannot be read back from it, and its HTTP debug stream is taken by the
// object it builds. Service resolves OCIRegistry messages to this type
// instead, through containerd's transfer type registry, and the Transferrer
// builds the registry the transfer runs with from the message's own fields.
type receivedRegistry struct {
	msg *transfertypes.OCIRegistry
	// value is the message as it arrived.
	value []byte
	// streams is the stream manager the message arrived with: its
	// auth_stream and logs_stream name streams there.
	streams streaming.StreamGetter
}

// receivedRegistryTypeURL is the type URL Service gives an OCIRegistry
// message so that the transfer service resolves it to receivedRegistry.
// The message's bytes are unchanged.
const receivedRegistryTypeURL = "github.com/nodecred/nodecred/transfer/ReceivedOCIRegistry"

// ociRegistryTypeURL is the type URL of containerd's OCIRegistry message.
var ociRegistryTypeURL = mustTypeURL(&transfertypes.OCIRegistry{})

func init() {
	typeurl.Register(&receivedRegistry{}, receivedRegistryTypeURL)
	plugins.Register(&receivedRegistry{}, &receivedRegistry{})
}

func mustTypeURL(v any) string {
	u, err := typeurl.TypeURL(v)
	if err != nil {
		panic(err)
	}
	return u
}

// String names the source in logs and errors, as OCIRegistry does.
func (r *receivedRegistry) String() string {
	return fmt.Sprintf("OCI Registry (%s)", r.msg.GetReference())
}

// UnmarshalAny keeps the message and the stream manager. The transfer
// service calls it in place of OCIRegistry.UnmarshalAny.
func (r *receivedRegistry) UnmarshalAny(_ context.Context, sm streaming.StreamGetter, a typeurl.Any) error {
	var msg transfertypes.OCIRegistry
	if err := proto.Unmarshal(a.GetValue(), &msg); err != nil {
		return fmt.Errorf("failed to unmarshal OCI registry: %w", err)
	}
	r.msg, r.value, r.streams = &msg, a.GetValue(), sm
	return nil
}

// stock returns the registry.OCIRegistry containerd itself builds from the
// message, for a transfer that gets no node credentials: it is then exactly
// stock containerd's.
func (r *receivedRegistry) stock(ctx context.Context) (*registry.OCIRegistry, error) {
	var reg registry.OCIRegistry
	if err := reg.UnmarshalAny(ctx, r.streams, &anypb.Any{TypeUrl: ociRegistryTypeURL, Value: r.value}); err != nil {
		return nil, err
	}
	return &reg, nil
}

// withCredentials returns a registry built from the message as
// OCIRegistry.UnmarshalAny builds it, whose credentials come from h, with
// the client's own credential stream (if it sent one) as h.caller. The
// returned func ends the HTTP debug output; call it once the transfer is
// done.
func (r *receivedRegistry) withCredentials(ctx context.Context, h *credentialHelper) (*registry.OCIRegistry, func(), error) {
	res := r.msg.GetResolver()
	if sid := res.GetAuthStream(); sid != "" {
		stream, err := r.streams.Get(ctx, sid)
		if err != nil {
			return nil, nil, fmt.Errorf("failed to get auth stream %q: %w", sid, err)
		}
		h.caller = containerdcompat.NewCallerCredentials(containerdcompat.ClientStream{Stream: stream})
	}
	out, done, err := containerdcompat.DebugOutput(ctx, res, r.streams)
	if err != nil {
		return nil, nil, err
	}
	nr, err := containerdcompat.BuildRegistry(ctx, r.msg.GetReference(), res, containerdcompat.MessageHeaders(res), h, out)
	if err != nil {
		done()
		return nil, nil, err
	}
	return nr, done, nil
}
