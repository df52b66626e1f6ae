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

// Package harness runs the real parts nodecred's end-to-end tests and demo
// need, on loopback: containerd built from this module, stock containerd of
// the same version, and a distribution registry with htpasswd auth.
package harness

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// RegistryModule is the distribution registry built from the Go module proxy.
const RegistryModule = "github.com/distribution/distribution/v3/cmd/registry@v3.1.2"

// Binaries are the programs the tests run.
type Binaries struct {
	// Containerd is containerd built from this module, with nodecred.
	Containerd string
	// Nodecred is the operator CLI.
	Nodecred string
	// StockContainerd is containerd of the same version without nodecred.
	StockContainerd string
	// Registry is the distribution registry.
	Registry string
	// CredHelper is the test docker credential helper (test/programs/credhelper).
	CredHelper string
	// CredProvider is the test kubelet credential provider (test/programs/credprovider).
	CredProvider string
}

// Build builds the binaries into repoRoot/bin (the registry into
// repoRoot/bin/tools). Go's build cache makes repeat builds quick.
func Build(ctx context.Context, repoRoot string) (Binaries, error) {
	bin := filepath.Join(repoRoot, "bin")
	b := Binaries{
		Containerd:      filepath.Join(bin, "containerd"),
		Nodecred:        filepath.Join(bin, "nodecred"),
		StockContainerd: filepath.Join(bin, "containerd-stock"),
		Registry:        filepath.Join(bin, "tools", "registry"),
		CredHelper:      filepath.Join(bin, "test", "docker-credential-nodecredtest"),
		CredProvider:    filepath.Join(bin, "test", "credprovider"),
	}
	steps := []struct {
		args []string
		env  []string
	}{
		{args: []string{"build", "-o", b.Containerd, "./cmd/containerd"}},
		{args: []string{"build", "-o", b.Nodecred, "./cmd/nodecred"}},
		{args: []string{"build", "-o", b.StockContainerd, "github.com/containerd/containerd/v2/cmd/containerd"}},
		{args: []string{"install", RegistryModule}, env: []string{"GOBIN=" + filepath.Dir(b.Registry)}},
		{args: []string{"build", "-o", b.CredHelper, "./test/programs/credhelper"}},
		{args: []string{"build", "-o", b.CredProvider, "./test/programs/credprovider"}},
	}
	for _, s := range steps {
		if s.args[0] == "install" {
			if _, err := os.Stat(b.Registry); err == nil {
				continue
			}
		}
		cmd := exec.CommandContext(ctx, "go", s.args...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		cmd.Dir = repoRoot
		cmd.Env = append(append(os.Environ(), "CGO_ENABLED=0"), s.env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			return Binaries{}, fmt.Errorf("go %s: %w\n%s", strings.Join(s.args, " "), err, out)
		}
	}
	return b, nil
}

// RepoRoot finds the module root above dir.
func RepoRoot(dir string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod above %s", dir)
		}
	}
}
