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

package version

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

func TestGet(t *testing.T) {
	vcs := func(rev, modified string) []debug.BuildSetting {
		return []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: modified}}
	}
	const rev = "0202c25f0e1d2c3b4a5968778695a4b3c2d1e0f1"
	for _, tc := range []struct {
		name    string
		stamped string
		info    *debug.BuildInfo
		want    string
	}{
		{"stamped from a tag", "v0.1.0", nil, "0.1.0"},
		{"stamped after a tag", "0.1.0-3-g0202c25f0e1d", &debug.BuildInfo{Main: debug.Module{Path: Module, Version: "v9.9.9"}}, "0.1.0-3-g0202c25f0e1d"},
		{"stamped without a tag", "0.0.0-dev+0202c25f0e1d", nil, "0.0.0-dev+0202c25f0e1d"},
		{"no build info", "", nil, "0.0.0-dev"},
		{"go install at a tag", "", &debug.BuildInfo{Main: debug.Module{Path: Module, Version: "v0.2.0"}}, "0.2.0"},
		{"go build in a clean checkout", "", &debug.BuildInfo{Main: debug.Module{Path: Module, Version: "v0.0.0-20261127055000-0202c25f0e1d"}, Settings: vcs(rev, "false")}, "0.0.0-dev+0202c25f0e1d"},
		{"go build in a dirty checkout", "", &debug.BuildInfo{Main: debug.Module{Path: Module, Version: "v0.1.1-0.20261127055000-0202c25f0e1d+dirty"}, Settings: vcs(rev, "true")}, "0.0.0-dev+0202c25f0e1d.dirty"},
		{"go build without git", "", &debug.BuildInfo{Main: debug.Module{Path: Module, Version: "(devel)"}}, "0.0.0-dev"},
		{"imported by a distribution's containerd", "", &debug.BuildInfo{
			Main: debug.Module{Path: "example.com/distro/containerd", Version: "(devel)"},
			Deps: []*debug.Module{{Path: ContainerdModule, Version: "v2.4.2"}, {Path: Module, Version: "v0.3.1"}},
		}, "0.3.1"},
		{"imported and replaced by a directory", "", &debug.BuildInfo{
			Main: debug.Module{Path: "example.com/distro/containerd"},
			Deps: []*debug.Module{{Path: Module, Version: "v0.3.1", Replace: &debug.Module{Path: "../nodecred"}}},
		}, "0.0.0-dev"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := get(tc.stamped, tc.info); got != tc.want {
				t.Errorf("get(%q) = %q, want %q", tc.stamped, got, tc.want)
			}
		})
	}
}

func TestModuleVersion(t *testing.T) {
	info := &debug.BuildInfo{
		Main: debug.Module{Path: Module},
		Deps: []*debug.Module{
			{Path: ContainerdModule, Version: "v2.4.2"},
			{Path: "github.com/containerd/plugin", Version: "v1.0.0", Replace: &debug.Module{Path: "github.com/fork/plugin", Version: "v1.0.1"}},
		},
	}
	for path, want := range map[string]string{ContainerdModule: "v2.4.2", "github.com/containerd/plugin": "v1.0.1", "example.com/absent": "unknown"} {
		if got := moduleVersion(info, path, "unknown"); got != want {
			t.Errorf("moduleVersion(%s) = %q, want %q", path, got, want)
		}
	}
	if got := moduleVersion(nil, ContainerdModule, "unknown"); got != "unknown" {
		t.Errorf("moduleVersion(nil) = %q", got)
	}
}

// A real binary stamped as the Makefile stamps it reports that version,
// and the containerd module version this module requires.
func TestStampedBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	dir := t.TempDir()
	main := filepath.Join(dir, "main.go")
	src := `package main

import (
	"fmt"

	"github.com/nodecred/nodecred/version"
)

func main() { fmt.Println(version.Get(), version.Containerd(), version.Go()) }
`
	if err := os.WriteFile(main, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "v")
	build := exec.Command("go", "build", "-ldflags", "-X "+Module+"/version.Version=v1.2.3-4-gabcdef012345", "-o", bin, main)
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin).Output()
	if err != nil {
		t.Fatal(err)
	}
	want := "1.2.3-4-gabcdef012345 " + requiredContainerd(t) + " " + Go()
	if got := strings.TrimSpace(string(out)); got != want {
		t.Errorf("stamped binary printed %q, want %q", got, want)
	}
}

// requiredContainerd reads the containerd version go.mod requires.
func requiredContainerd(t *testing.T) string {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Version}}", ContainerdModule).Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}
