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
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nodecred/nodecred/test/cluster/kube"
	"github.com/nodecred/nodecred/test/e2e/harness"
)

const (
	shippedImage    = "docker.io/library/busybox:1.37"
	shippedHostPath = "/etc/containerd/nodecred"
	secretName      = "nodecred-registry-auth"
	// syncWait bounds the way of a Secret change to the node's auth file:
	// the kubelet refreshes the pod's Secret volume at its next sync of the
	// pod (syncFrequency, 10 s here, plus jitter), then the loop copies it
	// at its next round (30 s).
	syncWait = 3 * time.Minute
)

// TestFleetPath runs deploy/auth-sync.yaml as shipped, with two changes: its
// image is a local busybox image on a public loopback registry, and its
// host directory (and the nodecred config's path into it) is a temporary
// directory rather than the host's /etc/containerd/nodecred. The
// containerd config is deploy/nodecred-config.toml as shipped, with that
// path. A pod without imagePullSecrets pulls a private image with the
// synced credentials; the Secret's rotation reaches the node with
// containerd running on; deleting the Secret revokes the credentials.
func TestFleetPath(t *testing.T) {
	skipIfUnable(t)
	if progs.Busybox == "" {
		t.Skip("no static busybox for the DaemonSet's image (make cluster installs Debian's busybox-static as root with apt-get)")
	}
	ctx := context.Background()
	c := cp.Client()
	public, err := harness.StartPublicRegistry(ctx, progs.Registry, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(public.Stop)
	pushPublic(t, public.Host)
	private := startRegistry(t, "robot")
	pushHello(t, private, "2", "3")

	hostDir := filepath.Join(t.TempDir(), "nodecred")
	authFile := filepath.Join(hostDir, "auth.json")
	nodecredConfig := shipped(t, "deploy/nodecred-config.toml", shippedHostPath, hostDir)
	n := startNode(t, progs.Containerd, harness.ContainerdConfig{
		HostsDir:     hostsDir(t, private, registry{Registry: public}),
		SandboxImage: public.Host + "/" + pauseRepo,
		Nodecred:     "\n" + nodecredConfig,
	}, kube.KubeletConfig{SyncFrequency: 10 * time.Second})

	secret := func(password string) *corev1.Secret {
		return &corev1.Secret{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
			ObjectMeta: metav1.ObjectMeta{Name: secretName, Namespace: "kube-system"},
			Type:       corev1.SecretTypeDockerConfigJson,
			Data:       map[string][]byte{corev1.DockerConfigJsonKey: dockerConfig(map[string][2]string{private.Host: {private.user, password}})},
		}
	}
	secretPath := kube.SecretsPath("kube-system") + "/" + secretName
	if err := c.Create(ctx, kube.SecretsPath("kube-system"), secret(private.password)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Delete(ctx, secretPath) })
	manifest := shipped(t, "deploy/auth-sync.yaml", shippedImage, public.Host+"/library/busybox:1.37")
	manifest = strings.ReplaceAll(manifest, shippedHostPath, hostDir)
	if err := c.CreateManifest(ctx, []byte(manifest)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = c.Delete(ctx, "/apis/apps/v1/namespaces/kube-system/daemonsets/nodecred-auth-sync")
		_ = c.Delete(ctx, "/api/v1/namespaces/kube-system/serviceaccounts/nodecred-auth-sync")
	})

	// The DaemonSet's pod copies the Secret to the node.
	start := time.Now()
	synced := waitFile(t, authFile, func(b []byte) bool { return bytes.Contains(b, []byte(private.Host)) })
	t.Logf("auth-sync wrote %s %s after the DaemonSet was created", authFile, time.Since(start).Round(100*time.Millisecond))
	if fi, err := os.Stat(authFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("auth file mode: %v %v, want 0600", fi.Mode(), err)
	}
	pod, addr := helloPod(t, "fleet-1", n.Name, private.hello())
	createPod(t, pod)
	waitRunning(t, pod, addr)

	// Rotate: the registry takes a new password, the Secret gets it.
	rotated := newPassword(private.user)
	if err := private.SetUsers(map[string]string{private.user: rotated}); err != nil {
		t.Fatal(err)
	}
	if err := c.Update(ctx, secretPath, secret(rotated)); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	waitFile(t, authFile, func(b []byte) bool { return !bytes.Equal(b, synced) && len(b) > 0 })
	t.Logf("the rotated Secret reached the node %s after its update", time.Since(start).Round(100*time.Millisecond))
	pod, addr = helloPod(t, "fleet-2", n.Name, private.Host+"/app/hello:2")
	createPod(t, pod)
	waitRunning(t, pod, addr)
	select {
	case <-n.Containerd.Exited():
		t.Fatal("containerd exited during the rotation")
	default:
	}

	// Delete: the credentials leave the node.
	if err := c.Delete(ctx, secretPath); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	waitGone(t, authFile)
	t.Logf("the auth file was removed %s after the Secret was deleted", time.Since(start).Round(100*time.Millisecond))
	pod, _ = helloPod(t, "fleet-3", n.Name, private.Host+"/app/hello:3")
	createPod(t, pod)
	e := waitEvent(t, pod.Name, "Failed", private.Host+"/app/hello:3")
	t.Logf("after the Secret's deletion: %s", e)
}

// shipped returns the repository file at rel with old replaced by new, and
// fails if old is not in it (the file changed: the test must follow).
func shipped(t *testing.T, rel, old, new string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(progs.root, rel))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(old)) {
		t.Fatalf("%s no longer holds %q", rel, old)
	}
	return strings.ReplaceAll(string(b), old, new)
}

// pushPublic pushes the sandbox image and a busybox image (Debian's static
// busybox with the applets the DaemonSet's loop runs) to the public
// registry at host.
func pushPublic(t *testing.T, host string) {
	t.Helper()
	pause, err := harness.NewRunnableImage(map[string]string{"pause": progs.Pause}, nil, "/pause")
	if err != nil {
		t.Fatal(err)
	}
	name, tag, _ := strings.Cut(pauseRepo, ":")
	if err := pause.Push(host, name, tag, "", ""); err != nil {
		t.Fatal(err)
	}
	links := map[string]string{}
	for _, applet := range []string{"sh", "cmp", "cp", "chmod", "mv", "rm", "date", "sleep", "echo", "cat", "ls"} {
		links["bin/"+applet] = "busybox"
	}
	bb, err := harness.NewRunnableImage(map[string]string{"bin/busybox": progs.Busybox}, links, "/bin/sh")
	if err != nil {
		t.Fatal(err)
	}
	if err := bb.Push(host, "library/busybox", "1.37", "", ""); err != nil {
		t.Fatal(err)
	}
}

// pushHello tags the hello image with more tags on reg, so that a pod can
// ask for an image the node has not pulled yet.
func pushHello(t *testing.T, reg registry, tags ...string) {
	t.Helper()
	img, err := harness.NewRunnableImage(map[string]string{"hello": progs.Hello}, nil, "/hello")
	if err != nil {
		t.Fatal(err)
	}
	if err := img.PushTags(reg.Host, "app/hello", tags, reg.user, reg.password); err != nil {
		t.Fatal(err)
	}
}

// waitFile waits until the file at path exists with contents ok accepts,
// and returns them.
func waitFile(t *testing.T, path string, ok func([]byte) bool) []byte {
	t.Helper()
	deadline := time.Now().Add(syncWait)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(path); err == nil && ok(b) {
			return b
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("%s: not written as expected after %s", path, syncWait)
	return nil
}

func waitGone(t *testing.T, path string) {
	t.Helper()
	deadline := time.Now().Add(syncWait)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(path); os.IsNotExist(err) {
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("%s still there %s after the Secret was deleted", path, syncWait)
}
