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

package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/nodecred/nodecred/test/e2e/harness"
)

// sandboxSetup is a private registry holding the sandbox image, a hosts
// directory for it and an auth file with valid credentials.
type sandboxSetup struct {
	reg      testRegistry
	image    string
	hostsDir string
	authFile string
}

func newSandboxSetup(t *testing.T) sandboxSetup {
	reg := startRegistry(t, "node", "private/pause:3.10")
	hostsDir := hostsDirFor(t, reg)
	auth := authFileFor(t, reg)
	return sandboxSetup{reg: reg, image: reg.Host + "/private/pause:3.10", hostsDir: hostsDir, authFile: auth}
}

// runSandbox calls RunPodSandbox and returns its error. Containers cannot
// start on this machine, so even a good pull ends in an error after it.
func runSandbox(t *testing.T, c *harness.Containerd, name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, err := c.Runtime().RunPodSandbox(ctx, &runtime.RunPodSandboxRequest{Config: harness.HostNetworkSandbox(name)})
	return err
}

// imagePresent reports whether CRI has ref in its image store.
func imagePresent(t *testing.T, c *harness.Containerd, ref string) bool {
	t.Helper()
	resp, err := c.Images().ImageStatus(context.Background(), &runtime.ImageStatusRequest{Image: &runtime.ImageSpec{Image: ref}})
	if err != nil {
		t.Fatalf("ImageStatus %s: %v", ref, err)
	}
	return resp.GetImage() != nil
}

// eventuallyPresent waits up to 10 s for ref to appear in CRI's image
// store: an image pulled by a client other than CRI reaches it through
// containerd's events, in the background.
func eventuallyPresent(t *testing.T, c *harness.Containerd, ref string) bool {
	t.Helper()
	for range 200 {
		if imagePresent(t, c, ref) {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

func TestSandboxImagePulledWithNodeCredentials(t *testing.T) {
	s := newSandboxSetup(t)
	c := startContainerd(t, bins.Containerd, harness.ContainerdConfig{
		HostsDir:     s.hostsDir,
		SandboxImage: s.image,
		Nodecred:     nodecredSection("", dockerconfigSource(s.authFile)),
	})
	err := runSandbox(t, c, "nodecred-a")
	t.Logf("RunPodSandbox: %v", err)
	if err != nil && isAuthError(err) {
		t.Fatalf("sandbox image pull was refused by the registry: %v", err)
	}
	if !imagePresent(t, c, s.image) {
		t.Fatalf("sandbox image %s not pulled; RunPodSandbox: %v", s.image, err)
	}
	if !strings.Contains(c.Log(), "source=\"dockerconfig:"+s.authFile+"\"") {
		t.Errorf("containerd log has no credential decision naming the dockerconfig source")
	}
}

func TestSandboxImagePullFailsOnStockContainerd(t *testing.T) {
	s := newSandboxSetup(t)
	// Stock containerd gets the same hosts directory and sandbox image, and
	// valid credentials in docker's config.json under its HOME: it has no
	// way to use them.
	home := t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, ".docker"), 0o700); err != nil {
		t.Fatal(err)
	}
	auth, err := os.ReadFile(s.authFile)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(home, ".docker"), "config.json", string(auth))
	c := startContainerd(t, bins.StockContainerd, harness.ContainerdConfig{
		HostsDir:     s.hostsDir,
		SandboxImage: s.image,
		Env:          []string{"HOME=" + home},
	})
	err = runSandbox(t, c, "stock-b")
	t.Logf("RunPodSandbox: %v", err)
	if err == nil || !isAuthError(err) {
		t.Fatalf("stock containerd: RunPodSandbox error = %v, want an authorization failure", err)
	}
	if imagePresent(t, c, s.image) {
		t.Fatalf("stock containerd pulled the private sandbox image")
	}
}

func isAuthError(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "no basic auth credentials") || strings.Contains(msg, "401 Unauthorized") ||
		strings.Contains(msg, "authorization failed") || strings.Contains(msg, "unauthorized")
}
