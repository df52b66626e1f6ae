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

package main

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRunReapsOnSIGCHLDAndReturnsOnTerm feeds run the signals the runtime
// and the kernel send: a child's exit, then SIGTERM.
func TestRunReapsOnSIGCHLDAndReturnsOnTerm(t *testing.T) {
	pid := exitedChild(t)
	sigs := make(chan os.Signal, 2)
	sigs <- syscall.SIGCHLD
	sigs <- syscall.SIGTERM
	done := make(chan struct{})
	go func() { run(sigs); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("run did not return after SIGTERM")
	}
	if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); !os.IsNotExist(err) {
		t.Fatalf("child %d was not reaped (stat: %v)", pid, err)
	}
}

// exitedChild starts a child that exits at once and waits, without
// reaping it, until it is a zombie. The child is single-threaded (true(1)):
// a multi-threaded one shows as a zombie before wait4 can collect it.
func exitedChild(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("/bin/true")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	for range 6000 {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			t.Fatal(err)
		}
		// The state follows the parenthesised command name.
		if _, after, ok := strings.Cut(string(b), ") "); ok && strings.HasPrefix(after, "Z") {
			return pid
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("child %d did not exit", pid)
	return 0
}
