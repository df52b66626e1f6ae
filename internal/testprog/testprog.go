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

// Package testprog builds, once per test binary, the credential programs
// the tests run: a docker credential helper and a kubelet credential
// provider (test/programs). Only tests import it.
package testprog

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// The test programs are real helper and provider executables, built once.
var programs struct {
	once     sync.Once
	dir      string
	err      error
	helper   string
	provider string
}

// Build returns the paths of the helper (named docker-credential-nodecredtest)
// and the provider, building them on first use.
func Build(t testing.TB) (helper, provider string) {
	t.Helper()
	programs.once.Do(func() {
		programs.dir, programs.err = os.MkdirTemp("", "nodecred-programs")
		if programs.err != nil {
			return
		}
		programs.helper = filepath.Join(programs.dir, "docker-credential-nodecredtest")
		programs.provider = filepath.Join(programs.dir, "credprovider")
		for out, pkg := range map[string]string{
			programs.helper:   "github.com/nodecred/nodecred/test/programs/credhelper",
			programs.provider: "github.com/nodecred/nodecred/test/programs/credprovider",
		} {
			cmd := exec.Command("go", "build", "-o", out, pkg)
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
			if b, err := cmd.CombinedOutput(); err != nil {
				programs.err = fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
				return
			}
		}
	})
	if programs.err != nil {
		t.Fatal(programs.err)
	}
	return programs.helper, programs.provider
}

// Main runs the tests and removes the programs Build made: call it from
// TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if programs.dir != "" {
		os.RemoveAll(programs.dir)
	}
	os.Exit(code)
}
