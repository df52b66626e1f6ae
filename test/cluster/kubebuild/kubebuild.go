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

// Package kubebuild builds the unmodified Kubernetes node and control plane
// programs the cluster suite runs (kubelet, kube-apiserver,
// kube-controller-manager, kube-scheduler and etcd) from the Go module
// proxy, into directories named after their versions so that a second run
// finds them and builds nothing.
package kubebuild

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

const (
	// KubernetesVersion is the Kubernetes release the suite runs.
	KubernetesVersion = "v1.35.4"
	// EtcdVersion is the etcd server Kubernetes KubernetesVersion's go.mod
	// requires.
	EtcdVersion = "v3.6.5"
)

// KubernetesCommands are the Kubernetes programs built, each from
// k8s.io/kubernetes/cmd/NAME.
var KubernetesCommands = []string{"kubelet", "kube-apiserver", "kube-controller-manager", "kube-scheduler"}

// Programs are the paths of the built programs.
type Programs struct {
	Kubelet, APIServer, ControllerManager, Scheduler, Etcd string
}

// Paths returns where the programs live under toolsDir: one directory per
// version.
func Paths(toolsDir string) Programs {
	k := filepath.Join(toolsDir, "kubernetes-"+KubernetesVersion)
	return Programs{
		Kubelet:           filepath.Join(k, "kubelet"),
		APIServer:         filepath.Join(k, "kube-apiserver"),
		ControllerManager: filepath.Join(k, "kube-controller-manager"),
		Scheduler:         filepath.Join(k, "kube-scheduler"),
		Etcd:              filepath.Join(toolsDir, "etcd-"+EtcdVersion, "etcd"),
	}
}

// Build builds whatever of the programs is missing under toolsDir and
// returns their paths. log receives one line per program built.
func Build(ctx context.Context, toolsDir string, log io.Writer) (Programs, error) {
	p := Paths(toolsDir)
	if !exist(p.Kubelet, p.APIServer, p.ControllerManager, p.Scheduler) {
		fmt.Fprintf(log, "kubebuild: building Kubernetes %s (%s)\n", KubernetesVersion, strings.Join(KubernetesCommands, ", "))
		if err := buildKubernetes(ctx, filepath.Dir(p.Kubelet)); err != nil {
			return Programs{}, err
		}
	}
	if !exist(p.Etcd) {
		fmt.Fprintf(log, "kubebuild: building etcd %s\n", EtcdVersion)
		if err := buildEtcd(ctx, filepath.Dir(p.Etcd)); err != nil {
			return Programs{}, err
		}
	}
	return p, nil
}

// buildKubernetes builds KubernetesCommands into out. k8s.io/kubernetes
// cannot be built with "go install": its go.mod replaces the k8s.io/*
// staging modules with directories its module zip leaves out. So the module
// is copied and those replacements point at the staging modules' published
// releases, v0.X.Y for Kubernetes v1.X.Y.
func buildKubernetes(ctx context.Context, out string) error {
	work, err := editedCopy(ctx, "k8s.io/kubernetes@"+KubernetesVersion, out, func(gomod string) []string {
		var edits []string
		for _, r := range StagingReplaces(gomod) {
			edits = append(edits, "-replace", r+"="+r+"@"+StagingVersion(KubernetesVersion))
		}
		return edits
	})
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	ldflags := VersionLDFlags(KubernetesVersion)
	for _, c := range KubernetesCommands {
		if err := goCmd(ctx, work, "build", "-trimpath", "-ldflags", ldflags, "-o", filepath.Join(out, c), "./cmd/"+c); err != nil {
			return err
		}
	}
	return nil
}

// buildEtcd builds etcd's server into out. Its go.mod replaces its sibling
// modules with relative directories; dropped, the published modules of the
// go.mod's versions are used.
func buildEtcd(ctx context.Context, out string) error {
	work, err := editedCopy(ctx, "go.etcd.io/etcd/server/v3@"+EtcdVersion, out, func(gomod string) []string {
		var edits []string
		for _, r := range RelativeReplaces(gomod) {
			edits = append(edits, "-dropreplace", r)
		}
		return edits
	})
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	return goCmd(ctx, work, "build", "-trimpath", "-o", filepath.Join(out, "etcd"), ".")
}

// editedCopy downloads module (path@version), copies it to a work
// directory beside out and applies to its go.mod the `go mod edit` flags
// that edits returns for it. The caller removes the directory.
func editedCopy(ctx context.Context, module, out string, edits func(gomod string) []string) (string, error) {
	src, err := download(ctx, module)
	if err != nil {
		return "", err
	}
	work, err := copyModule(src, out)
	if err != nil {
		return "", err
	}
	gomod, err := os.ReadFile(filepath.Join(work, "go.mod"))
	if err == nil {
		if flags := edits(string(gomod)); len(flags) > 0 {
			err = goCmd(ctx, work, append([]string{"mod", "edit"}, flags...)...)
		}
	}
	if err != nil {
		os.RemoveAll(work)
		return "", err
	}
	return work, nil
}

// StagingVersion is the release of the k8s.io staging modules published
// with Kubernetes version v (v1.35.4: v0.35.4).
func StagingVersion(v string) string {
	return "v0." + strings.TrimPrefix(v, "v1.")
}

// VersionLDFlags stamps version v into component-base, which the programs
// report (--version, the node's kubeletVersion, /version).
func VersionLDFlags(v string) string {
	major, rest, _ := strings.Cut(strings.TrimPrefix(v, "v"), ".")
	minor, _, _ := strings.Cut(rest, ".")
	const pkg = "k8s.io/component-base/version"
	return fmt.Sprintf("-X %[1]s.gitVersion=%[2]s -X %[1]s.gitMajor=%[3]s -X %[1]s.gitMinor=%[4]s -X %[1]s.gitTreeState=clean",
		pkg, v, major, minor)
}

// StagingReplaces returns the modules gomod replaces with its staging
// directories (./staging/...).
func StagingReplaces(gomod string) []string {
	var mods []string
	for _, r := range replaces(gomod) {
		if strings.HasPrefix(r[1], "./staging/") {
			mods = append(mods, r[0])
		}
	}
	return mods
}

// RelativeReplaces returns the modules gomod replaces with relative
// directories.
func RelativeReplaces(gomod string) []string {
	var mods []string
	for _, r := range replaces(gomod) {
		if strings.HasPrefix(r[1], "./") || strings.HasPrefix(r[1], "../") {
			mods = append(mods, r[0])
		}
	}
	return mods
}

// replaces returns go.mod's replace directives as (old, new) pairs, the
// versions left off; both the one-line and the block form.
func replaces(gomod string) [][2]string {
	var out [][2]string
	inBlock := false
	for _, line := range strings.Split(gomod, "\n") {
		line = strings.TrimSpace(line)
		if i := strings.Index(line, "//"); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		switch {
		case line == "replace (":
			inBlock = true
			continue
		case inBlock && line == ")":
			inBlock = false
			continue
		case strings.HasPrefix(line, "replace "):
			line = strings.TrimPrefix(line, "replace ")
		case !inBlock:
			continue
		}
		old, repl, ok := strings.Cut(line, "=>")
		if !ok {
			continue
		}
		oldF, newF := strings.Fields(old), strings.Fields(repl)
		if len(oldF) == 0 || len(newF) == 0 {
			continue
		}
		out = append(out, [2]string{oldF[0], newF[0]})
	}
	return out
}

// download fetches module@version into the module cache and returns its
// directory.
func download(ctx context.Context, modVersion string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", "mod", "download", "-json", modVersion)
	cmd.Env = goEnv()
	cmd.Dir = os.TempDir()
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go mod download %s: %w\n%s", modVersion, err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), `"Dir": `); ok {
			return strings.Trim(strings.TrimSuffix(v, ","), `"`), nil
		}
	}
	return "", fmt.Errorf("go mod download %s: no directory in %s", modVersion, out)
}

// copyModule copies the read-only module directory src into a new writable
// directory next to out, leaving out vendor/ and go.work (the build uses
// go.mod and the module cache).
func copyModule(src, out string) (string, error) {
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return "", err
	}
	work, err := os.MkdirTemp(filepath.Dir(out), ".build-")
	if err != nil {
		return "", err
	}
	err = filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if rel == "vendor" || rel == "go.work" || rel == "go.work.sum" {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		dst := filepath.Join(work, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
	if err != nil {
		os.RemoveAll(work)
		return "", err
	}
	return work, nil
}

func goCmd(ctx context.Context, dir string, args ...string) error {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = goEnv()
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

// goEnv is the environment of the go commands: outside any workspace,
// resolving modules from go.mod (-mod=mod: the copies have no vendor/),
// without stamping the state of the repository the copy sits in
// (-buildvcs=false), static binaries.
func goEnv() []string {
	return append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod -buildvcs=false", "CGO_ENABLED=0")
}

func exist(paths ...string) bool {
	for _, p := range paths {
		if _, err := os.Stat(p); err != nil {
			return false
		}
	}
	return true
}
