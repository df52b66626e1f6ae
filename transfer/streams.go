package transfer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/containerd/containerd/v2/core/streaming"
	"github.com/containerd/typeurl/v2"
)

// localStreams is an in-process streaming.StreamCreator: it stands where the
// gRPC transfer proxy's stream manager stands when OCIRegistry.MarshalAny
// sets up its credential stream, so the caller's credential helper can be
// asked from this side. Each stream created here has a peer end kept for us.
type localStreams struct {
	mu    sync.Mutex
	peers map[string]*peerEnd
}

var _ streaming.StreamCreator = (*localStreams)(nil)

func newLocalStreams() *localStreams {
	return &localStreams{peers: map[string]*peerEnd{}}
}

// Create returns the serving end of a new stream named id.
func (l *localStreams) Create(_ context.Context, id string) (streaming.Stream, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.peers[id]; ok {
		return nil, fmt.Errorf("stream %q already exists", id)
	}
	p := &peerEnd{
		requests: make(chan typeurl.Any),
		replies:  make(chan reply, 1),
		done:     make(chan struct{}),
	}
	l.peers[id] = p
	return &servingEnd{peer: p}, nil
}

// peer returns our end of stream id, or nil.
func (l *localStreams) peer(id string) *peerEnd {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.peers[id]
}

// Close ends every stream; the serving goroutines see io.EOF and return.
func (l *localStreams) Close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, p := range l.peers {
		p.close()
	}
}

// reply is one answer from the serving end. unanswered is set when the
// serving end went back to Recv without answering the last request: that is
// how OCIRegistry.MarshalAny's loop handles a failing credential helper
// (it logs and continues), and it lets us fail that request at once rather
// than wait for an answer that never comes.
type reply struct {
	msg        typeurl.Any
	unanswered bool
}

// peerEnd is our end of an in-process stream.
type peerEnd struct {
	requests chan typeurl.Any
	replies  chan reply
	done     chan struct{}
	once     sync.Once
}

func (p *peerEnd) close() { p.once.Do(func() { close(p.done) }) }

// exchange sends req and waits for its reply, ctx or the stream's end.
func (p *peerEnd) exchange(ctx context.Context, req typeurl.Any) (reply, error) {
	select {
	case p.requests <- req:
	case <-p.done:
		return reply{}, io.EOF
	case <-ctx.Done():
		return reply{}, ctx.Err()
	}
	select {
	case r := <-p.replies:
		return r, nil
	case <-p.done:
		return reply{}, io.EOF
	case <-ctx.Done():
		return reply{}, ctx.Err()
	}
}

// servingEnd is used by one goroutine, the registry's serving loop.
type servingEnd struct {
	peer     *peerEnd
	awaiting bool // a request was received and not yet answered
}

func (s *servingEnd) Recv() (typeurl.Any, error) {
	if s.awaiting {
		s.awaiting = false
		if err := s.put(reply{unanswered: true}); err != nil {
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
	return s.put(reply{msg: msg})
}

func (s *servingEnd) put(r reply) error {
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
