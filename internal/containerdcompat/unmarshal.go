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

package containerdcompat

import (
	"context"
	"fmt"
	"io"
	"net/http"

	transfertypes "github.com/containerd/containerd/api/types/transfer"
	"github.com/containerd/containerd/v2/core/streaming"
	"github.com/containerd/containerd/v2/core/transfer/registry"
	tstreaming "github.com/containerd/containerd/v2/core/transfer/streaming"

	"github.com/nodecred/nodecred/internal/logs"
)

// These re-implement what containerd's OCIRegistry.UnmarshalAny
// (core/transfer/registry, identical in 2.1 to 2.4) does with a message,
// for a registry whose credentials nodecred chooses: UnmarshalAny sets the
// credential helper itself, and keeps neither the hosts directory nor the
// default scheme where they can be read back. TestContractUnmarshalAny
// fails when the messages gain a field these do not read.

// BuildRegistry builds the registry a transfer runs with: ref, the options
// containerd's OCIRegistry.UnmarshalAny applies from res (hosts directory,
// default scheme, HTTP debug and trace), headers, and creds. HTTP debug
// dumps go to debugOut, or to containerd's log when it is nil.
func BuildRegistry(ctx context.Context, ref string, res *transfertypes.RegistryResolver, headers http.Header, creds registry.CredentialHelper, debugOut io.WriteCloser) (*registry.OCIRegistry, error) {
	opts := []registry.Opt{registry.WithCredentials(creds)}
	if headers != nil {
		opts = append(opts, registry.WithHeaders(headers))
	}
	if d := res.GetHostDir(); d != "" {
		opts = append(opts, registry.WithHostDir(d))
	}
	if s := res.GetDefaultScheme(); s != "" {
		opts = append(opts, registry.WithDefaultScheme(s))
	}
	switch res.GetHttpDebug() {
	case transfertypes.HTTPDebug_DEBUG:
		opts = append(opts, registry.WithHTTPDebug())
	case transfertypes.HTTPDebug_TRACE:
		opts = append(opts, registry.WithHTTPTrace())
	case transfertypes.HTTPDebug_BOTH:
		opts = append(opts, registry.WithHTTPDebug(), registry.WithHTTPTrace())
	}
	if debugOut != nil {
		opts = append(opts, registry.WithClientStream(debugOut))
	}
	return registry.NewOCIRegistry(ctx, ref, opts...)
}

// MessageHeaders returns res's headers as OCIRegistry.UnmarshalAny reads
// them: one value per key, keys in canonical form.
func MessageHeaders(res *transfertypes.RegistryResolver) http.Header {
	if res == nil {
		return nil
	}
	h := http.Header{}
	for k, v := range res.Headers {
		h.Add(k, v)
	}
	return h
}

// DebugOutput returns where HTTP debug dumps go when res asks for them, as
// OCIRegistry.UnmarshalAny chooses it: the client's logs_stream from sm, or
// containerd's log when the message names none or sm is nil. The returned
// func closes it; call it once the transfer is done.
func DebugOutput(ctx context.Context, res *transfertypes.RegistryResolver, sm streaming.StreamGetter) (io.WriteCloser, func(), error) {
	if res.GetHttpDebug() == transfertypes.HTTPDebug_DISABLED {
		return nil, func() {}, nil
	}
	var w io.WriteCloser
	if sid := res.GetLogsStream(); sid != "" && sm != nil {
		stream, err := sm.Get(ctx, sid)
		if err != nil {
			return nil, nil, fmt.Errorf("failed to get stream for HTTP debug logs: %w", err)
		}
		w = tstreaming.WriteByteStream(ctx, stream)
	} else {
		w = logs.G(ctx).Writer()
	}
	return w, func() {
		if err := w.Close(); err != nil {
			logs.G(ctx).WithError(err).Error("failed to close HTTP debug logs stream")
		}
	}, nil
}
