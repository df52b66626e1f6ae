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
