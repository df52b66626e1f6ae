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

package execprog

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/nodecred/nodecred/internal/logs"
)

// maxStuckRuns is how many runs of one program may be killed but not yet
// exited before nodecred stops starting more: each holds a process slot
// and its pipes, and a program stuck on a hung mount gets stuck again.
const maxStuckRuns = 3

// stuck counts, per program path, the runs that were killed at their
// timeout but have not exited (see Run).
var stuck = stuckRuns{n: map[string]int{}}

type stuckRuns struct {
	mu sync.Mutex
	n  map[string]int
}

// check fails fast when path already has maxStuckRuns stuck runs.
func (s *stuckRuns) check(path string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := s.n[path]; n >= maxStuckRuns {
		return fmt.Errorf("not run: %d earlier runs of it were killed at their timeout and have not exited (stuck in the kernel, as on a hung mount); it runs again once one exits", n)
	}
	return nil
}

// add counts a stuck run of path until waited, its reaper, reports the
// exit.
func (s *stuckRuns) add(path string, waited <-chan error) {
	s.mu.Lock()
	s.n[path]++
	s.mu.Unlock()
	since := time.Now()
	go func() {
		<-waited
		s.mu.Lock()
		if s.n[path]--; s.n[path] <= 0 {
			delete(s.n, path)
		}
		s.mu.Unlock()
		logs.G(context.TODO()).WithField("program", path).WithField("stuck", time.Since(since).Round(time.Second).String()).
			Info("timed-out credential program reaped")
	}()
}

// count returns the stuck runs of path.
func (s *stuckRuns) count(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n[path]
}

// stuckError is a run whose program was killed and did not exit within
// reapWait.
type stuckError struct {
	timeout  time.Duration
	timedOut bool // false: the lookup ended the run, not the timeout
}

func (e *stuckError) Error() string {
	why := "timed out after " + e.timeout.String()
	if !e.timedOut {
		why = "stopped"
	}
	return fmt.Sprintf("%s; killed, but it could not be reaped within %s (stuck in the kernel, as on a hung NFS or FUSE mount): reaped in the background when it exits", why, reapWait)
}
