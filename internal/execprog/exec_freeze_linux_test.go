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
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nodecred/nodecred/internal/testprog"
)

// TestTooManyStuckRunsFailFast: once a program has maxStuckRuns runs that
// were killed but never exited, the runner starts no more of it.
func TestTooManyStuckRunsFailFast(t *testing.T) {
	cg := testprog.FreezerCgroup(t)
	_, prog := testprog.Build(t)
	// A copy of its own, so that the count is this test's alone.
	path := filepath.Join(t.TempDir(), "frozen-provider")
	b, err := os.ReadFile(prog)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o755); err != nil {
		t.Fatal(err)
	}
	c := Command{
		Path:    path,
		Env:     Env([]string{"PROVIDER_MODE=freeze", "PROVIDER_FREEZE_CGROUP=" + cg}),
		Stdin:   []byte(`{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"r.io/a"}`),
		Timeout: 200 * time.Millisecond,
	}
	for i := range maxStuckRuns {
		_, _, err := Run(context.Background(), c)
		var se *stuckError
		if !errors.As(err, &se) {
			t.Fatalf("run %d: err = %v, want a stuck run", i, err)
		}
		testprog.WaitFrozen(t, cg)
	}
	_, _, err = Run(context.Background(), c)
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("not run: %d earlier runs", maxStuckRuns)) {
		t.Fatalf("err = %v, want the run refused", err)
	}
	procs, _ := os.ReadFile(filepath.Join(cg, "cgroup.procs"))
	if n := len(strings.Fields(string(procs))); n != maxStuckRuns {
		t.Fatalf("cgroup holds %d processes, want %d: the refused run must not start", n, maxStuckRuns)
	}
	testprog.ThawCgroup(t, cg)
	for i := 0; stuck.count(path) != 0; i++ {
		if i == 1000 {
			t.Fatal("the thawed runs were never reaped")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, _, err := Run(context.Background(), Command{Path: path, Env: Env(nil), Stdin: c.Stdin, Timeout: 10 * time.Second}); err != nil {
		t.Fatalf("once reaped, the program runs again: %v", err)
	}
}
