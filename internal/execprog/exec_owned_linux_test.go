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
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nodecred/nodecred/internal/testprog"
)

// TestOwnedTreeSignalsOnlyDescendants: a listing of the program's tree that
// has gone stale, so that one of its pids now names a process outside the
// tree (as a reused pid would), signals the program and not that process:
// each parent is checked after the pidfd is opened.
func TestOwnedTreeSignalsOnlyDescendants(t *testing.T) {
	start := func() *exec.Cmd {
		c := exec.Command("sleep", "3600")
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Process.Kill(); _ = c.Wait() })
		return c
	}
	program, outside := start(), start()
	tr := ownedTree(program.Process.Pid, []int{program.Process.Pid, outside.Process.Pid})
	tr.signal(unix.SIGKILL)
	tr.close()
	if err := program.Wait(); err == nil {
		t.Fatal("the program was not killed")
	}
	if !testprog.Alive(outside.Process.Pid) {
		t.Fatal("a process outside the program's tree was killed")
	}
}

// TestOwnedTreeReachesSetsidGrandchild: a descendant that left the
// program's process group is still in its tree.
func TestOwnedTreeReachesSetsidGrandchild(t *testing.T) {
	c := exec.Command("sh", "-c", "setsid sleep 3600 & wait")
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Process.Kill(); _ = c.Wait() })
	var tree []int
	for range 500 {
		if tree = descendants(c.Process.Pid); len(tree) >= 2 {
			break
		}
		unix.Nanosleep(&unix.Timespec{Nsec: 10e6}, nil)
	}
	tr := ownedTree(c.Process.Pid, tree)
	defer tr.close()
	if n := len(tr.fds) + len(tr.pids); n != len(tree) || n < 2 {
		t.Fatalf("owned %d of the tree's %d processes %v, want all, at least the shell and its setsid child", n, len(tree), tree)
	}
	grandchild := tree[len(tree)-1]
	tr.signal(unix.SIGKILL)
	testprog.WaitDead(t, grandchild)
}
