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
	"path/filepath"
	"strings"
	"testing"
)

func TestParseRequires(t *testing.T) {
	gomod := []byte(`module github.com/containerd/containerd/v2

go 1.24.2

require github.com/urfave/cli/v2 v2.27.6

require (
	k8s.io/cri-api v0.32.3
	github.com/containerd/plugin v1.0.0 // indirect
)

replace example.com/x => ../x
`)
	deps := parseRequires(gomod)
	for mod, want := range map[string]string{"github.com/urfave/cli/v2": "v2.27.6", "k8s.io/cri-api": "v0.32.3", "github.com/containerd/plugin": "v1.0.0"} {
		if deps[mod] != want {
			t.Errorf("%s = %q, want %q", mod, deps[mod], want)
		}
	}
	if _, ok := deps["example.com/x"]; ok || len(deps) != 3 {
		t.Errorf("deps = %v", deps)
	}
}

func TestUnitPackages(t *testing.T) {
	list := []byte(`github.com/nodecred/nodecred
github.com/nodecred/nodecred/credentials
github.com/nodecred/nodecred/test/conformance
github.com/nodecred/nodecred/test/e2e
github.com/nodecred/nodecred/test/e2e/harness
github.com/nodecred/nodecred/test/repro
github.com/nodecred/nodecred/test/cluster
github.com/nodecred/nodecred/test/cluster/kube
`)
	got := strings.Join(unitPackages(list), " ")
	want := "github.com/nodecred/nodecred github.com/nodecred/nodecred/credentials github.com/nodecred/nodecred/test/e2e/harness github.com/nodecred/nodecred/test/cluster/kube"
	if got != want {
		t.Errorf("unitPackages = %s, want %s", got, want)
	}
}

// The copy holds tracked and untracked files, with their modes, and not
// what .gitignore excludes: a build output at the root is not copied.
func TestCopyModule(t *testing.T) {
	root, dst := t.TempDir(), t.TempDir()
	files := map[string]os.FileMode{
		"go.mod":          0o644,
		"hack/version.sh": 0o755,
		"new.go":          0o644, // untracked, not ignored
		"containerd":      0o755, // ignored build output
		"bin/nodecred":    0o755, // ignored
	}
	for name, mode := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(name), mode); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, ".gitignore"), []byte("bin/\n/containerd\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"init", "-q"}, {"add", "go.mod", "hack/version.sh", ".gitignore"}} {
		if out, err := exec.Command("git", append([]string{"-C", root}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	if err := copyModule(root, dst); err != nil {
		t.Fatal(err)
	}
	for name, mode := range files {
		info, err := os.Stat(filepath.Join(dst, name))
		ignored := name == "containerd" || strings.HasPrefix(name, "bin/")
		switch {
		case ignored && err == nil:
			t.Errorf("%s is ignored but was copied", name)
		case ignored:
		case err != nil:
			t.Errorf("%s not copied: %v", name, err)
		case info.Mode().Perm() != mode:
			t.Errorf("%s copied with mode %v, want %v", name, info.Mode().Perm(), mode)
		}
	}
}

// TestHasPerFileMigration reads containerd's own source: 2.2 merges its
// config files before migrating them, 2.4 migrates each file.
func TestHasPerFileMigration(t *testing.T) {
	for version, want := range map[string]bool{"v2.2.9": false, "v2.4.2": true} {
		got, err := hasPerFileMigration(version)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("hasPerFileMigration(%s) = %t, want %t", version, got, want)
		}
	}
}
