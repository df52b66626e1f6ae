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
	"testing"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/nodecred/nodecred/test/e2e/harness"
)

func criPull(c *harness.Containerd, ref string, auth *runtime.AuthConfig) error {
	_, err := c.Images().PullImage(context.Background(), &runtime.PullImageRequest{
		Image: &runtime.ImageSpec{Image: ref},
		Auth:  auth,
	})
	return err
}

func TestCRIPullWithoutAuthUsesNodeSource(t *testing.T) {
	reg := startRegistry(t, "node", "app/web:1")
	hostsDir := hostsDirFor(t, reg)
	pwFile := writeFile(t, t.TempDir(), "password", reg.password+"\n")
	c := startContainerd(t, bins.Containerd, harness.ContainerdConfig{
		HostsDir: hostsDir,
		Nodecred: nodecredSection("", staticSource(reg.Host, reg.user, pwFile)),
	})
	ref := reg.Host + "/app/web:1"
	if err := criPull(c, ref, nil); err != nil {
		t.Fatalf("CRI PullImage with no auth: %v", err)
	}
	if !imagePresent(t, c, ref) {
		t.Fatalf("%s not in the image store after pull", ref)
	}
}

func TestCRIPullCallerCredentialsWinOverNodeSource(t *testing.T) {
	reg := startRegistry(t, "kubelet", "app/web:1")
	hostsDir := hostsDirFor(t, reg)
	// The node source has a wrong password: the pull can only succeed with
	// the credentials the kubelet sends.
	wrong := newPassword(reg.user)
	pwFile := writeFile(t, t.TempDir(), "password", wrong)
	c := startContainerd(t, bins.Containerd, harness.ContainerdConfig{
		HostsDir: hostsDir,
		Nodecred: nodecredSection("", staticSource(reg.Host, reg.user, pwFile)),
	})
	ref := reg.Host + "/app/web:1"
	if err := criPull(c, ref, nil); err == nil || !isAuthError(err) {
		t.Fatalf("pull with the wrong node password and no kubelet auth: err = %v, want an authorization failure", err)
	}
	auth := &runtime.AuthConfig{Username: reg.user, Password: reg.password}
	if err := criPull(c, ref, auth); err != nil {
		t.Fatalf("pull with kubelet auth: %v", err)
	}
	if !imagePresent(t, c, ref) {
		t.Fatalf("%s not in the image store after pull", ref)
	}
}
