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

// Command compat runs nodecred's unit tests and end-to-end suite against
// each containerd minor whose CRI pulls through the transfer service. For
// each version it copies this module to a temporary directory, gives the
// copy a go.mod that starts from that containerd (with the k8s.io modules at
// the version containerd itself uses), and runs there `go vet`, the unit
// tests (every package but the e2e, conformance and reproducibility suites)
// and `go test ./test/e2e/`, which builds the custom containerd and stock
// containerd of that version.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

const containerdModule = "github.com/containerd/containerd/v2"

func main() {
	versions := flag.String("versions", "v2.2.9 v2.3.7 v2.4.2", "containerd versions, the newest patch of each minor nodecred builds against")
	keep := flag.Bool("keep", false, "keep the temporary copies")
	flag.Parse()
	root, err := os.Getwd()
	if err != nil {
		fail(err)
	}
	type result struct {
		version, outcome string
		took             time.Duration
	}
	var results []result
	failed := false
	for _, v := range strings.Fields(*versions) {
		start := time.Now()
		err := check(root, v, *keep)
		r := result{version: v, outcome: "pass", took: time.Since(start).Round(time.Second)}
		if err != nil {
			r.outcome, failed = "FAIL: "+err.Error(), true
		}
		results = append(results, r)
		fmt.Printf("==> containerd %s: %s (%s)\n", v, r.outcome, r.took)
	}
	fmt.Println("\ncontainerd  result")
	for _, r := range results {
		fmt.Printf("%-10s  %s\n", r.version, firstLine(r.outcome))
	}
	if failed {
		os.Exit(1)
	}
}

func check(root, version string, keep bool) error {
	deps, err := containerdDeps(version)
	if err != nil {
		return err
	}
	k8s := deps["k8s.io/cri-api"]
	if k8s == "" {
		return fmt.Errorf("containerd %s requires no k8s.io/cri-api", version)
	}
	dir, err := os.MkdirTemp("", "nodecred-compat-"+version+"-")
	if err != nil {
		return err
	}
	if !keep {
		defer os.RemoveAll(dir)
	}
	if err := copyModule(root, dir); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module github.com/nodecred/nodecred\n\ngo 1.26\n"), 0o644); err != nil {
		return err
	}
	os.Remove(filepath.Join(dir, "go.sum"))
	env := os.Environ()
	var tags []string
	// containerd 2.1 to 2.3 build their command with urfave/cli v2.
	if _, v2 := deps["github.com/urfave/cli/v2"]; v2 {
		tags = append(tags, "nodecred_cliv2")
	}
	// containerd 2.1 and 2.2 migrate the merged config rather than each
	// file, and have no LoadConfigWithPlugins (nodeconfig/load_merged.go).
	perFile, err := hasPerFileMigration(version)
	if err != nil {
		return err
	}
	if !perFile {
		tags = append(tags, "nodecred_mergedconfig")
	}
	if len(tags) > 0 {
		env = append(env, "GOFLAGS=-tags="+strings.Join(tags, ","))
	}
	run := func(s ...string) ([]byte, error) {
		cmd := exec.Command(s[0], s[1:]...)
		cmd.Dir, cmd.Env = dir, env
		out, err := cmd.CombinedOutput()
		if err != nil {
			return nil, fmt.Errorf("%s: %w\n%s", strings.Join(s, " "), err, tail(out, 40))
		}
		return out, nil
	}
	for _, s := range [][]string{
		{"go", "get", containerdModule + "@" + version, "k8s.io/cri-api@" + k8s, "k8s.io/kubelet@" + k8s, "k8s.io/api@" + k8s, "k8s.io/apimachinery@" + k8s},
		{"go", "mod", "tidy"},
		{"go", "vet", "./..."},
	} {
		if _, err := run(s...); err != nil {
			return err
		}
	}
	list, err := run("go", "list", "./...")
	if err != nil {
		return err
	}
	if _, err := run(append([]string{"go", "test", "-count=1", "-timeout", "20m"}, unitPackages(list)...)...); err != nil {
		return err
	}
	_, err = run("go", "test", "-count=1", "-timeout", "20m", "./test/e2e/")
	return err
}

// unitPackages picks from `go list ./...` output the packages `make unit`
// tests: all but the e2e, conformance and cluster suites, which need root
// and built binaries, and the reproducibility check, which clones the git repository
// the copy does not have.
func unitPackages(list []byte) []string {
	var pkgs []string
	for _, p := range strings.Fields(string(list)) {
		switch {
		case strings.HasSuffix(p, "/test/e2e"), strings.HasSuffix(p, "/test/conformance"), strings.HasSuffix(p, "/test/repro"),
			strings.HasSuffix(p, "/test/cluster"):
		default:
			pkgs = append(pkgs, p)
		}
	}
	return pkgs
}

// moduleInfo is what `go mod download -json` says of containerd at version.
type moduleInfo struct{ GoMod, Dir string }

func download(version string) (moduleInfo, error) {
	var info moduleInfo
	out, err := exec.Command("go", "mod", "download", "-json", containerdModule+"@"+version).Output()
	if err != nil {
		return info, fmt.Errorf("go mod download %s@%s: %w", containerdModule, version, err)
	}
	err = json.Unmarshal(out, &info)
	return info, err
}

// hasPerFileMigration reports whether containerd at version loads its
// config with LoadConfigWithPlugins, which migrates each file before
// merging (containerd 2.3 and later).
func hasPerFileMigration(version string) (bool, error) {
	info, err := download(version)
	if err != nil {
		return false, err
	}
	src, err := os.ReadFile(filepath.Join(info.Dir, "cmd", "containerd", "server", "config", "config.go"))
	if err != nil {
		return false, err
	}
	return bytes.Contains(src, []byte("func LoadConfigWithPlugins(")), nil
}

// containerdDeps returns the requirements of containerd's go.mod at version.
func containerdDeps(version string) (map[string]string, error) {
	info, err := download(version)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(info.GoMod)
	if err != nil {
		return nil, err
	}
	return parseRequires(data), nil
}

// parseRequires returns module versions from a go.mod's require lines,
// single or in blocks.
func parseRequires(data []byte) map[string]string {
	deps := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(sc.Text()), "require "))
		if len(f) >= 2 && strings.Contains(f[0], ".") && strings.HasPrefix(f[1], "v") {
			deps[f[0]] = f[1]
		}
	}
	return deps
}

// copyModule copies the files git tracks or would track: not what
// .gitignore excludes (bin/, dist/, build outputs at the root).
func copyModule(root, dir string) error {
	out, err := exec.Command("git", "-C", root, "ls-files", "-co", "--exclude-standard").Output()
	if err != nil {
		return fmt.Errorf("git ls-files: %w", err)
	}
	for _, name := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		src := filepath.Join(root, name)
		info, err := os.Stat(src)
		if err != nil || info.IsDir() {
			continue // deleted in the work tree
		}
		data, err := os.ReadFile(src)
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(dst, data, info.Mode().Perm()); err != nil {
			return err
		}
	}
	return nil
}

func tail(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "compat:", err)
	os.Exit(1)
}
