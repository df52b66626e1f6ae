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
	"errors"
	"fmt"
	"sync"

	transfertypes "github.com/containerd/containerd/api/types/transfer"
	"github.com/containerd/containerd/v2/core/streaming"
	"github.com/containerd/containerd/v2/core/transfer/registry"
	"github.com/containerd/typeurl/v2"
)

// Exchanger sends one request on a credential stream and waits for its
// reply.
type Exchanger interface {
	Exchange(ctx context.Context, req typeurl.Any) (Reply, error)
}

// CallerCredentials asks the credential helper the caller attached to its
// OCIRegistry (kubelet auth through CRI, `ctr --user`, a client's callback)
// over the stream the caller serves it on: for a gRPC client, the stream
// named in the message's auth_stream; for an in-process caller, the
// in-process stream that OCIRegistry.MarshalAny serves it on. The wire
// format is containerd's AuthRequest and AuthResponse, read as containerd's
// own credCallback (core/transfer/registry) reads it; unlike credCallback,
// a request the caller's helper failed fails at once (Reply.Unanswered),
// and a wait is bounded by ctx.
type CallerCredentials struct {
	mu     sync.Mutex // one request on the stream at a time
	stream Exchanger
	broken error
}

var _ registry.CredentialHelper = (*CallerCredentials)(nil)

// NewCallerCredentials returns the credential helper that asks over stream.
func NewCallerCredentials(stream Exchanger) *CallerCredentials {
	return &CallerCredentials{stream: stream}
}

// errCallerFailed is the error of a request the caller's credential helper
// failed.
var errCallerFailed = errors.New("the caller's credential helper failed")

// GetCredentials asks the caller for host's credentials.
func (c *CallerCredentials) GetCredentials(ctx context.Context, ref, host string) (registry.Credentials, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.broken != nil {
		return registry.Credentials{}, c.broken
	}
	req, err := typeurl.MarshalAny(&transfertypes.AuthRequest{Host: host, Reference: ref})
	if err != nil {
		return registry.Credentials{}, err
	}
	r, err := c.stream.Exchange(ctx, req)
	if err != nil {
		// A request may still be in flight: replies would no longer pair up.
		c.broken = fmt.Errorf("caller credential stream closed: %w", err)
		return registry.Credentials{}, c.broken
	}
	if r.Unanswered {
		return registry.Credentials{}, fmt.Errorf("host %s: %w", host, errCallerFailed)
	}
	var resp transfertypes.AuthResponse
	if err := typeurl.UnmarshalTo(r.Msg, &resp); err != nil {
		return registry.Credentials{}, errors.New("caller credential stream: malformed response")
	}
	creds := registry.Credentials{Host: host}
	switch resp.AuthType {
	case transfertypes.AuthType_CREDENTIALS:
		creds.Username, creds.Secret = resp.Username, resp.Secret
	case transfertypes.AuthType_REFRESH:
		creds.Secret = resp.Secret
	case transfertypes.AuthType_HEADER:
		creds.Header = resp.Secret
	}
	return creds, nil
}

// ClientStream is the daemon's end of a gRPC client's credential stream,
// as containerd's stream manager hands it out. The exchange is the one
// containerd's own credCallback makes (core/transfer/registry): send the
// request, receive the reply; only the wait is bounded by ctx.
type ClientStream struct {
	Stream streaming.Stream
}

// Exchange sends req and waits for its reply or ctx.
func (s ClientStream) Exchange(ctx context.Context, req typeurl.Any) (Reply, error) {
	if err := s.Stream.Send(req); err != nil {
		return Reply{}, err
	}
	type result struct {
		msg typeurl.Any
		err error
	}
	got := make(chan result, 1)
	go func() {
		msg, err := s.Stream.Recv()
		got <- result{msg, err}
	}()
	select {
	case r := <-got:
		if r.err != nil {
			return Reply{}, r.err
		}
		return Reply{Msg: r.msg}, nil
	case <-ctx.Done():
		// The receive ends when the client closes its stream.
		return Reply{}, ctx.Err()
	}
}
