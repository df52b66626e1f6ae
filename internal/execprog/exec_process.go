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
	"os/exec"
	"sync"
)

// ownedProcess is a started program and what is known to be its own: the
// program itself until it is reaped, its process group while the program
// holds the group's id, and its descendants (see killTree). Its signals go
// only there.
type ownedProcess struct {
	cmd *exec.Cmd
	pid int

	mu     sync.Mutex // held while signalling, so that the program is not reaped meanwhile
	reaped bool       // the program's pid, and so its group's id, may name another process now
}

func newOwnedProcess(cmd *exec.Cmd) *ownedProcess {
	return &ownedProcess{cmd: cmd, pid: cmd.Process.Pid}
}

// wait waits for the program to exit, kills what is left of its process
// group, and reaps it. Where the system lets it wait without reaping
// (awaitExit), the group is killed while the exited program still holds
// the group's id, so no other process can have taken it.
func (p *ownedProcess) wait() error {
	if awaitExit(p.pid) {
		p.mu.Lock()
		killGroup(p.pid)
		p.reaped = true
		p.mu.Unlock()
		return p.cmd.Wait()
	}
	err := p.cmd.Wait()
	p.mu.Lock()
	p.reaped = true
	p.mu.Unlock()
	// Without awaitExit, the group can only be killed after the program
	// was reaped: a new process could have taken the id meanwhile.
	killGroup(p.pid)
	return err
}
