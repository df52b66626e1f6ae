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

package containerdcompat_test

import (
	"context"
	"errors"
	"io"
	"sync"

	"github.com/containerd/containerd/v2/core/streaming"
	"github.com/containerd/typeurl/v2"
)

// pipeEnd is one end of an in-memory stream; the other end receives what
// it sends. recvs, when set, is told each time Recv is called.
type pipeEnd struct {
	in, out chan typeurl.Any
	done    chan struct{}
	once    *sync.Once
	recvs   chan struct{}
}

func pipe() (a, b *pipeEnd) {
	x, y, done, once := make(chan typeurl.Any), make(chan typeurl.Any), make(chan struct{}), &sync.Once{}
	return &pipeEnd{in: x, out: y, done: done, once: once}, &pipeEnd{in: y, out: x, done: done, once: once}
}

func (p *pipeEnd) Send(a typeurl.Any) error {
	select {
	case p.out <- a:
		return nil
	case <-p.done:
		return io.EOF
	}
}

func (p *pipeEnd) Recv() (typeurl.Any, error) {
	if p.recvs != nil {
		p.recvs <- struct{}{}
	}
	select {
	case a := <-p.in:
		return a, nil
	case <-p.done:
		return nil, io.EOF
	}
}

func (p *pipeEnd) Close() error {
	p.once.Do(func() { close(p.done) })
	return nil
}

// streams is a stream manager: Create hands out one end of a new pipe,
// peer and Get the other.
type streams struct {
	mu    sync.Mutex
	peers map[string]*pipeEnd
	// recvs is given to the serving end of each stream created.
	recvs chan struct{}
}

var _ streaming.StreamManager = (*streams)(nil)

func (s *streams) Create(_ context.Context, id string) (streaming.Stream, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.peers == nil {
		s.peers = map[string]*pipeEnd{}
	}
	serving, peer := pipe()
	serving.recvs = s.recvs
	s.peers[id] = peer
	return serving, nil
}

func (s *streams) Get(_ context.Context, id string) (streaming.Stream, error) {
	if p := s.peer(id); p != nil {
		return p, nil
	}
	return nil, errors.New("no stream " + id)
}

func (s *streams) Register(context.Context, string, streaming.Stream) error {
	return errors.New("not supported")
}

func (s *streams) peer(id string) *pipeEnd {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peers[id]
}

func (s *streams) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.peers {
		p.Close()
	}
}
