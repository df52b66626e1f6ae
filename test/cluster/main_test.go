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

// Package cluster runs a real Kubernetes node on loopback: unmodified
// etcd, kube-apiserver, kube-controller-manager, kube-scheduler and
// kubelet, against containerd built from this module (and, where the
// behaviour differs, stock containerd of the same version), runc from the
// host, and distribution registries with htpasswd auth. Pods use the
// host's network (there is no CNI) and images of static programs
// (test/programs/pause and hello). It needs root.
package cluster

import (
	"context"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nodecred/nodecred/test/cluster/kube"
	"github.com/nodecred/nodecred/test/cluster/kubebuild"
	"github.com/nodecred/nodecred/test/e2e/harness"
)

// progs are every program the suite runs.
var progs struct {
	harness.Binaries
	kubebuild.Programs
	Shim, Pause, Hello, Runc, Busybox string
	root                              string
}

// skipAll, when set, says why no test can run here (no runc).
var skipAll string

// cp is the control plane every test's node registers with.
var cp *kube.ControlPlane

// nodeNames are the node identities the control plane knows; each test's
// node takes the next one (a node's name is not reused).
var nodeNames = func() []string {
	var n []string
	for i := range 24 {
		n = append(n, fmt.Sprintf("node-%d", i))
	}
	return n
}()

func TestMain(m *testing.M) {
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "cluster: these tests start a kubelet and containerd and must run as root")
		os.Exit(1)
	}
	code, err := run(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "cluster:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func run(m *testing.M) (int, error) {
	ctx := context.Background()
	wd, _ := os.Getwd()
	root, err := harness.RepoRoot(wd)
	if err != nil {
		return 0, err
	}
	progs.root = root
	start := time.Now()
	if progs.Binaries, err = harness.Build(ctx, root); err != nil {
		return 0, err
	}
	if progs.Programs, err = kubebuild.Build(ctx, filepath.Join(root, "bin", "tools"), os.Stdout); err != nil {
		return 0, err
	}
	if err := buildLocal(ctx, root); err != nil {
		return 0, err
	}
	fmt.Printf("cluster: programs ready in %s\n", time.Since(start).Round(time.Second))
	if progs.Runc, err = exec.LookPath("runc"); err != nil {
		skipAll = "runc is not installed (make cluster installs Debian's runc package as root with apt-get)"
	}
	if b, err := exec.LookPath("busybox"); err == nil && isStatic(b) {
		progs.Busybox = b
	}
	printVersions()
	if skipAll != "" {
		fmt.Println("cluster: every test skips:", skipAll)
		return m.Run(), nil
	}

	dir, err := os.MkdirTemp("", "ncp")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	start = time.Now()
	if cp, err = kube.StartControlPlane(ctx, progs.Programs, dir, nodeNames...); err != nil {
		return 0, err
	}
	fmt.Printf("cluster: control plane ready in %s\n", time.Since(start).Round(100*time.Millisecond))
	code := m.Run()
	cp.Stop()
	if code != 0 {
		for _, p := range cp.Processes() {
			fmt.Printf("--- %s log (last lines)\n%s\n", p.Name, p.Tail(15))
		}
	}
	return code, nil
}

// buildLocal builds containerd's runc shim next to bin/containerd and
// bin/containerd-stock (containerd looks for it there), and the static
// programs the images hold.
func buildLocal(ctx context.Context, root string) error {
	bin := filepath.Join(root, "bin")
	progs.Shim = filepath.Join(bin, "containerd-shim-runc-v2")
	progs.Pause = filepath.Join(bin, "test", "pause")
	progs.Hello = filepath.Join(bin, "test", "hello")
	for out, pkg := range map[string]string{
		progs.Shim:  "github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2",
		progs.Pause: "./test/programs/pause",
		progs.Hello: "./test/programs/hello",
	} {
		cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build %s: %w\n%s", pkg, err, out)
		}
	}
	return nil
}

// printVersions prints the first line each program gives for its version.
func printVersions() {
	for _, v := range []struct {
		name string
		args []string
	}{
		{"kubelet", []string{progs.Kubelet, "--version"}},
		{"kube-apiserver", []string{progs.APIServer, "--version"}},
		{"kube-controller-manager", []string{progs.ControllerManager, "--version"}},
		{"kube-scheduler", []string{progs.Scheduler, "--version"}},
		{"etcd", []string{progs.Etcd, "--version"}},
		{"containerd (nodecred)", []string{progs.Containerd, "--version"}},
		{"containerd (stock)", []string{progs.StockContainerd, "--version"}},
		{"containerd-shim-runc-v2", []string{progs.Shim, "-v"}},
		{"runc", []string{progs.Runc, "--version"}},
		{"registry", []string{progs.Registry, "--version"}},
		{"busybox", []string{progs.Busybox}},
	} {
		if v.args[0] == "" {
			fmt.Printf("cluster: %-24s not installed\n", v.name)
			continue
		}
		out, _ := exec.Command(v.args[0], v.args[1:]...).CombinedOutput()
		// The first line, and the next one when the first only names the
		// program (the shim's "containerd-shim-runc-v2:").
		lines := strings.SplitN(strings.TrimSpace(string(out)), "\n", 3)
		line := lines[0]
		if strings.HasSuffix(line, ":") && len(lines) > 1 {
			line += " " + lines[1]
		}
		fmt.Printf("cluster: %-24s %s\n", v.name, strings.Join(strings.Fields(line), " "))
	}
}

// isStatic reports whether the ELF file at path asks for no program
// interpreter, so that an image of this one file runs.
func isStatic(path string) bool {
	f, err := elf.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return false
		}
	}
	return true
}

// logHas reports whether text holds every one of parts on one line.
func logHas(text string, parts ...string) bool {
	for _, line := range strings.Split(text, "\n") {
		ok := true
		for _, p := range parts {
			if !strings.Contains(line, p) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}
