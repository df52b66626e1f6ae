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

package dockerconfig

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nodecred/nodecred/credentials"
	"github.com/nodecred/nodecred/credentials/helper"
	"github.com/nodecred/nodecred/internal/answercache"
)

// helperSet resolves helper names from a docker config to programs on PATH
// and keeps one helper.Client (and so one cache) per program.
type helperSet struct {
	timeout time.Duration
	renew   bool
	mu      sync.Mutex
	clients map[string]*helper.Client
	missing *answercache.Cache[error] // names not found on PATH, not looked up again for a while
	closed  bool                      // the source was closed: no helper runs
}

func newHelperSet(timeout time.Duration, renew bool) *helperSet {
	return &helperSet{timeout: timeout, renew: renew, clients: map[string]*helper.Client{}, missing: answercache.New[error]("helper", "", nil, false)}
}

// get returns the client for helper name, or an error when
// docker-credential-NAME is not on PATH, as running it from docker would.
func (s *helperSet) get(name string) (*helper.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.clients[name]; ok {
		return c, nil
	}
	if s.closed {
		return nil, errSourceClosed
	}
	if err, ok := s.missing.Lookup(name); ok {
		return nil, err
	}
	program, err := helper.Resolve(name)
	if err != nil {
		// A ProgramError, so that the chain logs it once while it is cached.
		err = fmt.Errorf("failed to run credential helper named in docker config: %w", &credentials.ProgramError{Kind: "helper", Program: "docker-credential-" + name, Status: err.Error()})
		s.missing.Store(name, err, answercache.MinFailureTTL, nil, false)
		return nil, err
	}
	c := helper.NewClient(program, nil, s.timeout)
	c.SetRenew(s.renew)
	s.clients[name] = c
	return c, nil
}

// keepOnly closes and forgets the clients of helpers not in names, so that
// a helper removed from the docker config is not run or renewed again;
// closed, it also refuses new ones.
func (s *helperSet) keepOnly(names map[string]bool, closed bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = s.closed || closed
	for name, c := range s.clients {
		if !names[name] {
			c.Close()
			delete(s.clients, name)
		}
	}
}

// errSourceClosed is a lookup on a source closed at shutdown.
var errSourceClosed = errors.New("credential source closed: containerd is stopping")
