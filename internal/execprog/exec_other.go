//go:build !unix

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
	"errors"
	"os/exec"
)

// CanKillTree is false: nodecred has no way here yet to kill a program's
// whole process tree at timeout. On Windows that takes a job object that
// the program is assigned to before it runs, and so a hook between start
// and resume that this runner does not have. Without it a helper's
// children would outlive the timeout, so programs are not run at all:
// helper and kubelet sources are refused at startup (sourceconfig.refuseExec), and
// credHelpers and credsStore entries of a docker config fail each lookup
// with errNoTreeKill.
const CanKillTree = false

var errNoTreeKill = errors.New("nodecred does not run credential programs on this system: it cannot kill a program's whole process tree at timeout here")

// ownProcessGroup makes cmd.Start fail with errNoTreeKill before anything
// runs.
func ownProcessGroup(cmd *exec.Cmd) { cmd.Err = errNoTreeKill }

// awaitExit cannot wait without reaping here.
func awaitExit(int) bool { return false }

// killTree kills the program itself; nothing starts here, see ownProcessGroup.
func (p *ownedProcess) killTree() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.reaped {
		_ = p.cmd.Process.Kill()
	}
}

// killGroup has no group to kill.
func killGroup(int) {}
