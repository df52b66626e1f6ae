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

package cluster

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nodecred/nodecred/test/cluster/kube"
	"github.com/nodecred/nodecred/test/e2e/harness"
)

// TestOneProviderConfig: the kubelet and nodecred's kubelet source share
// one credential provider configuration, a directory of two files as the
// kubelet (1.34 and later) reads it. The kubelet's providers serve the
// kubelet's pulls (it sends the credential with the pull, so nodecred is
// not asked), and nodecred runs a provider for the sandbox image, which the
// kubelet never pulls.
//
// The provider for the pods' images is in the first file; the one for the
// sandbox image only in the second, a drop-in: a kubelet source that read
// the first file alone would have no credential for the sandbox image, and
// the pod would not start.
func TestOneProviderConfig(t *testing.T) {
	skipIfUnable(t)
	reg := startRegistry(t, "provider")
	providerDir := t.TempDir()
	writeFile(t, filepath.Join(providerDir, "10-pods.yaml"), providerConfig("credprovider", reg, repository(reg.hello())))
	writeFile(t, filepath.Join(providerDir, "20-sandbox.yaml"), providerConfig("credprovider-sandbox", reg, repository(reg.pause())))
	// Both providers are test/programs/credprovider, under two names.
	binDir := t.TempDir()
	for _, name := range []string{"credprovider", "credprovider-sandbox"} {
		if err := os.Symlink(progs.CredProvider, filepath.Join(binDir, name)); err != nil {
			t.Fatal(err)
		}
	}

	runs := t.TempDir()
	kubeletRuns, containerdRuns := filepath.Join(runs, "kubelet"), filepath.Join(runs, "containerd")
	n := startNode(t, progs.Containerd, harness.ContainerdConfig{
		HostsDir: hostsDir(t, reg), SandboxImage: reg.pause(),
		Nodecred: fmt.Sprintf(`
[plugins."io.containerd.credentials.v1.nodecred"]
  [[plugins."io.containerd.credentials.v1.nodecred".sources]]
    type = "kubelet"
    config = %q
    bin_dir = %q
`, providerDir, binDir),
		// The provider config sets no PROVIDER_COUNT_FILE, so each
		// provider run appends to the file its parent's environment names.
		Env: []string{"PROVIDER_COUNT_FILE=" + containerdRuns},
	}, kube.KubeletConfig{
		CredentialProviderConfig: providerDir, CredentialProviderBinDir: binDir,
		Env: []string{"PROVIDER_COUNT_FILE=" + kubeletRuns},
	})

	pod, addr := helloPod(t, "provider", n.Name, reg.hello())
	createPod(t, pod)
	waitRunning(t, pod, addr)

	kubeletImages, containerdImages := lines(t, kubeletRuns), lines(t, containerdRuns)
	t.Logf("provider runs by the kubelet: %q; by nodecred: %q", kubeletImages, containerdImages)
	// The kubelet asks with the repository, nodecred with the reference.
	hello, pause := repository(reg.hello()), repository(reg.pause())
	if !contains(kubeletImages, hello) || contains(kubeletImages, pause) {
		t.Errorf("the kubelet ran the provider for %q, want the pod's image %s only", kubeletImages, reg.hello())
	}
	if !contains(containerdImages, pause) || contains(containerdImages, hello) {
		t.Errorf("nodecred ran the provider for %q, want the sandbox image %s only", containerdImages, reg.pause())
	}
	log := n.Containerd.Log()
	if !logHas(log, `msg="credential decision"`, "plugin=nodecred", reg.pause(), "kubelet:"+providerDir) {
		t.Errorf("containerd log has no kubelet-source decision for the sandbox image")
	}
	if !logHas(log, `msg="credential decision"`, "plugin=nodecred", reg.hello(), "source=caller") {
		t.Errorf("containerd log has no caller decision for the pod's image")
	}
}

// providerConfig is a CredentialProviderConfig running test/programs/
// credprovider, as the provider name, for images matching match, returning
// reg's credential.
func providerConfig(name string, reg registry, match string) []byte {
	return []byte(fmt.Sprintf(`apiVersion: kubelet.config.k8s.io/v1
kind: CredentialProviderConfig
providers:
  - name: %s
    matchImages:
      - %q
    defaultCacheDuration: 0s
    apiVersion: credentialprovider.kubelet.k8s.io/v1
    env:
      - name: PROVIDER_USER
        value: %q
      - name: PROVIDER_PASSWORD
        value: %q
`, name, match, reg.user, reg.password))
}

// lines returns the lines of the file at path; none if it does not exist.
func lines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(string(b))
}

// contains reports whether list holds repo, alone or with a tag or digest.
func contains(list []string, repo string) bool {
	for _, v := range list {
		if v == repo || strings.HasPrefix(v, repo+":") || strings.HasPrefix(v, repo+"@") {
			return true
		}
	}
	return false
}

// repository strips the tag from ref (host:port/path:tag).
func repository(ref string) string {
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		return ref[:i]
	}
	return ref
}
