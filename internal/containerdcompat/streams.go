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
	"io"
	"sync"

	transfertypes "github.com/containerd/containerd/api/types/transfer"
	"github.com/containerd/containerd/v2/core/streaming"
	"github.com/containerd/containerd/v2/core/transfer/registry"
	"github.com/containerd/typeurl/v2"
)

// LocalStreams is an in-process streaming.StreamCreator: it stands where the
// gRPC transfer proxy's stream manager stands when OCIRegistry.MarshalAny
// sets up its credential stream, so the caller's credential helper can be
// asked from this side. Each stream created here has a peer end kept for
// the asker.
//
// It relies on the serving loop of OCIRegistry.MarshalAny (containerd
// core/transfer/registry, 2.1 to 2.4): one Recv per request, one Send per
// answer, and after a failing credential helper a Recv with no Send
// before it. TestContractMarshalAnyServesCredentials guards that loop.
type LocalStreams struct {
	mu    sync.Mutex
	peers map[string]*Peer
}

var _ streaming.StreamCreator = (*LocalStreams)(nil)

// newLocalStreams returns a stream creator with no streams.
func newLocalStreams() *LocalStreams {
	return &LocalStreams{peers: map[string]*Peer{}}
}

// Create returns the serving end of a new stream named id.
func (l *LocalStreams) Create(_ context.Context, id string) (streaming.Stream, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.peers[id]; ok {
		return nil, fmt.Errorf("stream %q already exists", id)
	}
	p := &Peer{
		requests: make(chan typeurl.Any),
		replies:  make(chan Reply, 1),
		done:     make(chan struct{}),
	}
	l.peers[id] = p
	return &servingEnd{peer: p}, nil
}

// Peer returns the asker's end of stream id, or nil.
func (l *LocalStreams) Peer(id string) *Peer {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.peers[id]
}

// Close ends every stream; the serving goroutines see io.EOF and return.
func (l *LocalStreams) Close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, p := range l.peers {
		p.close()
	}
}

// Reply is one answer from the serving end of a credential stream.
type Reply struct {
	// Msg is the answer, an AuthResponse.
	Msg typeurl.Any
	// Unanswered is set when the serving end went back to Recv without
	// answering the last request: that is how OCIRegistry.MarshalAny's
	// loop handles a failing credential helper (it logs and continues),
	// and it lets the asker fail that request at once rather than wait for
	// an answer that never comes.
	Unanswered bool
}

// Peer is the asker's end of an in-process stream.
type Peer struct {
	requests chan typeurl.Any
	replies  chan Reply
	done     chan struct{}
	once     sync.Once
}

func (p *Peer) close() { p.once.Do(func() { close(p.done) }) }

// Exchange sends req and waits for its reply, ctx or the stream's end.
func (p *Peer) Exchange(ctx context.Context, req typeurl.Any) (Reply, error) {
	select {
	case p.requests <- req:
	case <-p.done:
		return Reply{}, io.EOF
	case <-ctx.Done():
		return Reply{}, ctx.Err()
	}
	select {
	case r := <-p.replies:
		return r, nil
	case <-p.done:
		return Reply{}, io.EOF
	case <-ctx.Done():
		return Reply{}, ctx.Err()
	}
}

// servingEnd is used by one goroutine, the registry's serving loop.
type servingEnd struct {
	peer     *Peer
	awaiting bool // a request was received and not yet answered
}

func (s *servingEnd) Recv() (typeurl.Any, error) {
	if s.awaiting {
		s.awaiting = false
		if err := s.put(Reply{Unanswered: true}); err != nil {
			return nil, err
		}
	}
	select {
	case req := <-s.peer.requests:
		s.awaiting = true
		return req, nil
	case <-s.peer.done:
		return nil, io.EOF
	}
}

func (s *servingEnd) Send(msg typeurl.Any) error {
	if !s.awaiting {
		return errors.New("send without a request")
	}
	s.awaiting = false
	return s.put(Reply{Msg: msg})
}

func (s *servingEnd) put(r Reply) error {
	select {
	case s.peer.replies <- r:
		return nil
	case <-s.peer.done:
		return io.EOF
	}
}

func (s *servingEnd) Close() error {
	s.peer.close()
	return nil
}

// ReadBack returns the message OCIRegistry.MarshalAny makes of r, which
// carries the options r was built with, and, when r has a credential
// helper, a helper that asks it through the stream MarshalAny serves it
// on. Close the returned streams once the helper is no longer needed; they
// are returned rather than their Close method value, which would cost an
// allocation per pull.
func ReadBack(ctx context.Context, r *registry.OCIRegistry) (*transfertypes.OCIRegistry, *CallerCredentials, *LocalStreams, error) {
	streams := newLocalStreams()
	a, err := r.MarshalAny(ctx, streams)
	if err != nil {
		streams.Close()
		return nil, nil, nil, fmt.Errorf("failed to read registry options: %w", err)
	}
	var msg transfertypes.OCIRegistry
	if err := typeurl.UnmarshalTo(a, &msg); err != nil {
		streams.Close()
		return nil, nil, nil, fmt.Errorf("failed to read registry options: %w", err)
	}
	var caller *CallerCredentials
	if sid := msg.GetResolver().GetAuthStream(); sid != "" {
		if p := streams.Peer(sid); p != nil {
			caller = NewCallerCredentials(p)
		}
	}
	return &msg, caller, streams, nil
}
