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
// one credential provider configuration. The kubelet's providers serve the
// kubelet's pulls (it sends the credential with the pull, so nodecred is
// not asked), and nodecred runs the same provider for the sandbox image,
// which the kubelet never pulls.
//
// The kubelet is given the directory; nodecred the one file in it, as its
// kubelet source takes a file. Once it takes a directory too,
// nodecredConfig becomes providerDir.
func TestOneProviderConfig(t *testing.T) {
	skipIfUnable(t)
	reg := startRegistry(t, "provider")
	providerDir := t.TempDir()
	providerFile := writeFile(t, filepath.Join(providerDir, "credential-provider.yaml"), providerConfig(reg))
	nodecredConfig := providerFile

	runs := t.TempDir()
	kubeletRuns, containerdRuns := filepath.Join(runs, "kubelet"), filepath.Join(runs, "containerd")
	binDir := filepath.Dir(progs.CredProvider)
	n := startNode(t, progs.Containerd, harness.ContainerdConfig{
		HostsDir: hostsDir(t, reg), SandboxImage: reg.pause(),
		Nodecred: fmt.Sprintf(`
[plugins."io.containerd.credentials.v1.nodecred"]
  [[plugins."io.containerd.credentials.v1.nodecred".sources]]
    type = "kubelet"
    config = %q
    bin_dir = %q
`, nodecredConfig, binDir),
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
	if !logHas(log, "nodecred: credential decision", reg.pause(), "kubelet:") {
		t.Errorf("containerd log has no kubelet-source decision for the sandbox image")
	}
	if !logHas(log, "nodecred: credential decision", reg.hello(), "source=caller") {
		t.Errorf("containerd log has no caller decision for the pod's image")
	}
}

// providerConfig is a CredentialProviderConfig running test/programs/
// credprovider for reg's host, returning reg's credential.
func providerConfig(reg registry) []byte {
	return []byte(fmt.Sprintf(`apiVersion: kubelet.config.k8s.io/v1
kind: CredentialProviderConfig
providers:
  - name: credprovider
    matchImages:
      - %q
    defaultCacheDuration: 0s
    apiVersion: credentialprovider.kubelet.k8s.io/v1
    env:
      - name: PROVIDER_USER
        value: %q
      - name: PROVIDER_PASSWORD
        value: %q
`, reg.Host, reg.user, reg.password))
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
