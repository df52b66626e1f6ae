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
	"bytes"
	"errors"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// awaitExit waits for pid, a child of this process, to exit, and leaves it
// unreaped (WNOWAIT): while it is a zombie, its pid and process group id
// are not given to any other process.
func awaitExit(pid int) bool {
	for {
		var info unix.Siginfo
		err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if !errors.Is(err, unix.EINTR) {
			return err == nil
		}
	}
}

// killTree kills the program, its process group, and every process
// descended from it, including children that called setsid and so left the
// group. It stops the tree first, so that nothing forks or exits between the
// look and the kill, then walks parent links in /proc. A descendant whose
// parent had already exited was reparented to init and is out of reach.
//
// A process is signalled only through a pidfd opened before its parent was
// checked (see ownedTree), so a pid that was reused by another process
// meanwhile is never signalled; the process group only while the program
// is not reaped, so that its id is still the program's.
func (p *ownedProcess) killTree() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.reaped {
		return
	}
	stop := ownedTree(p.pid, descendants(p.pid))
	stop.signal(unix.SIGSTOP)
	stop.close()
	kill := ownedTree(p.pid, descendants(p.pid))
	defer kill.close()
	killGroup(p.pid)
	kill.signal(unix.SIGKILL)
}

// tree is processes to signal, each held by a pidfd, or by pid where the
// kernel has no pidfds (before Linux 5.3).
type tree struct {
	fds  []int
	pids []int
}

// ownedTree opens the root, which is this process's unreaped child, and
// each of candidates (root and its descendants, parents before children, as
// descendants lists them) whose parent, read after the pidfd was opened,
// is already in the tree. A pid reused since the listing by a process
// outside the tree fails that check; one that exits after the check keeps
// its pidfd, which then signals nothing.
func ownedTree(root int, candidates []int) tree {
	var t tree
	owned := map[int]bool{}
	noPidfd := false
	for _, pid := range candidates {
		fd := -1
		if !noPidfd {
			var err error
			fd, err = unix.PidfdOpen(pid, 0)
			switch {
			case errors.Is(err, unix.ENOSYS):
				noPidfd, fd = true, -1
			case err != nil:
				continue // gone
			}
		}
		if pid != root {
			if ppid, ok := parentOf(pid); !ok || !owned[ppid] {
				if fd >= 0 {
					unix.Close(fd)
				}
				continue
			}
		}
		owned[pid] = true
		if fd >= 0 {
			t.fds = append(t.fds, fd)
		} else {
			t.pids = append(t.pids, pid)
		}
	}
	return t
}

func (t tree) signal(sig unix.Signal) {
	for _, fd := range t.fds {
		_ = unix.PidfdSendSignal(fd, sig, nil, 0)
	}
	for _, pid := range t.pids {
		_ = unix.Kill(pid, sig)
	}
}

func (t tree) close() {
	for _, fd := range t.fds {
		unix.Close(fd)
	}
}

// descendants returns root and every process below it, from /proc, parents
// before children.
func descendants(root int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return []int{root}
	}
	children := map[int][]int{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid, ok := parentOf(pid); ok {
			children[ppid] = append(children[ppid], pid)
		}
	}
	tree := []int{root}
	for i := 0; i < len(tree); i++ {
		tree = append(tree, children[tree[i]]...)
	}
	return tree
}

// parentOf reads the parent pid from /proc/PID/stat: the fourth field,
// counted after the command name, which may itself hold spaces and ")".
func parentOf(pid int) (int, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, false
	}
	fields := strings.Fields(string(b[i+1:]))
	if len(fields) < 2 {
		return 0, false
	}
	ppid, err := strconv.Atoi(fields[1])
	return ppid, err == nil
}
