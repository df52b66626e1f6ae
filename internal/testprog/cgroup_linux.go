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

package testprog

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// FreezerCgroup makes a cgroup whose processes can be frozen: under the
// cgroup v1 freezer when it is mounted, else under cgroup v2. It skips the
// test, saying why, when neither can be made. Cleanup thaws the cgroup,
// waits for its processes to end and removes it.
func FreezerCgroup(t *testing.T) string {
	t.Helper()
	var dir, thaw, thawFile string
	switch {
	case fileExists("/sys/fs/cgroup/freezer/freezer.state") || fileExists("/sys/fs/cgroup/freezer/cgroup.procs"):
		dir, thawFile, thaw = "/sys/fs/cgroup/freezer", "freezer.state", "THAWED"
	case fileExists("/sys/fs/cgroup/cgroup.controllers"):
		dir, thawFile, thaw = "/sys/fs/cgroup", "cgroup.freeze", "0"
	default:
		t.Skip("no cgroup v1 freezer at /sys/fs/cgroup/freezer and no cgroup v2 at /sys/fs/cgroup")
	}
	cg := filepath.Join(dir, fmt.Sprintf("nodecred-test-%d", os.Getpid()))
	if err := os.Mkdir(cg, 0o755); err != nil {
		t.Skipf("cannot make a freezer cgroup: %v", err)
	}
	t.Cleanup(func() {
		_ = os.WriteFile(filepath.Join(cg, thawFile), []byte(thaw), 0)
		for range 500 {
			if err := os.Remove(cg); err == nil {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Errorf("cgroup %s still holds processes after the thaw", cg)
	})
	return cg
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// ThawCgroup thaws the cgroup cg.
func ThawCgroup(t *testing.T, cg string) {
	t.Helper()
	var err error
	if fileExists(filepath.Join(cg, "freezer.state")) {
		err = os.WriteFile(filepath.Join(cg, "freezer.state"), []byte("THAWED"), 0)
	} else {
		err = os.WriteFile(filepath.Join(cg, "cgroup.freeze"), []byte("0"), 0)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// WaitFrozen waits until the cgroup holds a process and reports it frozen.
func WaitFrozen(t *testing.T, cg string) {
	t.Helper()
	for range 1000 {
		procs, _ := os.ReadFile(filepath.Join(cg, "cgroup.procs"))
		state, err := os.ReadFile(filepath.Join(cg, "freezer.state"))
		if err != nil {
			state, _ = os.ReadFile(filepath.Join(cg, "cgroup.events"))
		}
		if len(strings.TrimSpace(string(procs))) > 0 && (strings.Contains(string(state), "FROZEN") || strings.Contains(string(state), "frozen 1")) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("cgroup %s never froze", cg)
}
