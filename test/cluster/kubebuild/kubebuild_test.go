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

package kubebuild

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// gomod is the shape of k8s.io/kubernetes's and etcd server's go.mod
// replace directives.
const gomod = `module k8s.io/kubernetes

require k8s.io/api v0.0.0

replace (
	k8s.io/api => ./staging/src/k8s.io/api
	k8s.io/kubelet => ./staging/src/k8s.io/kubelet // a comment
	github.com/example/fork v1.0.0 => github.com/other/fork v1.0.1
)

replace go.etcd.io/etcd/api/v3 => ../api
replace go.etcd.io/etcd => ./FORBIDDEN_DEPENDENCY
`

func TestStagingReplaces(t *testing.T) {
	got := StagingReplaces(gomod)
	want := []string{"k8s.io/api", "k8s.io/kubelet"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestRelativeReplaces(t *testing.T) {
	got := RelativeReplaces(gomod)
	want := []string{"k8s.io/api", "k8s.io/kubelet", "go.etcd.io/etcd/api/v3", "go.etcd.io/etcd"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestStagingVersion(t *testing.T) {
	if got := StagingVersion("v1.35.4"); got != "v0.35.4" {
		t.Fatalf("got %q", got)
	}
}

func TestVersionLDFlags(t *testing.T) {
	want := "-X k8s.io/component-base/version.gitVersion=v1.35.4 -X k8s.io/component-base/version.gitMajor=1" +
		" -X k8s.io/component-base/version.gitMinor=35 -X k8s.io/component-base/version.gitTreeState=clean"
	if got := VersionLDFlags("v1.35.4"); got != want {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}

// TestPathsAreKeyedByVersion: a new version lands in a new directory, so a
// cached build of another version is never taken for it.
func TestPathsAreKeyedByVersion(t *testing.T) {
	p := Paths("/tools")
	if p.Kubelet != filepath.Join("/tools", "kubernetes-"+KubernetesVersion, "kubelet") {
		t.Errorf("kubelet at %s", p.Kubelet)
	}
	if p.Etcd != filepath.Join("/tools", "etcd-"+EtcdVersion, "etcd") {
		t.Errorf("etcd at %s", p.Etcd)
	}
}

// TestCopyModuleLeavesOutVendorAndWorkspace: the copy builds from go.mod and
// the module cache only.
func TestCopyModuleLeavesOutVendorAndWorkspace(t *testing.T) {
	src := t.TempDir()
	for _, f := range []string{"go.mod", "go.work", "go.work.sum", "vendor/modules.txt", "cmd/kubelet/kubelet.go"} {
		writeFile(t, filepath.Join(src, f))
	}
	out := filepath.Join(t.TempDir(), "kubernetes-v0")
	work, err := copyModule(src, out)
	if err != nil {
		t.Fatal(err)
	}
	for f, want := range map[string]bool{"go.mod": true, "cmd/kubelet/kubelet.go": true, "go.work": false, "go.work.sum": false, "vendor": false} {
		if got := exist(filepath.Join(work, f)); got != want {
			t.Errorf("%s copied: %v, want %v", f, got, want)
		}
	}
	if filepath.Dir(work) != filepath.Dir(out) {
		t.Errorf("work directory %s is not next to %s", work, out)
	}
}

func writeFile(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("x\n"), 0o444); err != nil {
		t.Fatal(err)
	}
}
