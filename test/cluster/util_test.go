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
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nodecred/nodecred/test/cluster/kube"
	"github.com/nodecred/nodecred/test/e2e/harness"
)

const (
	// pauseRepo and helloRepo are the repositories every test registry
	// holds: the sandbox image and the pods' image.
	pauseRepo = "pause:3.10"
	helloRepo = "app/hello:1"
	// podTimeout bounds a pod's way to Running; pods start in seconds.
	podTimeout = 3 * time.Minute
)

// secrets holds every secret form the run has used; each containerd log
// is scanned for all of them when its node stops.
var secrets harness.Secrets

var nextNode struct {
	sync.Mutex
	i int
}

func skipIfUnable(t *testing.T) {
	t.Helper()
	if skipAll != "" {
		t.Skip(skipAll)
	}
}

// newPassword returns a random password whose forms the scans look for.
func newPassword(user string) string { return secrets.NewPassword(user) }

// registry is a started registry with one user, holding the sandbox image
// and the pods' image.
type registry struct {
	*harness.Registry
	user, password string
}

func (r registry) pause() string { return r.Host + "/" + pauseRepo }
func (r registry) hello() string { return r.Host + "/" + helloRepo }

func startRegistry(t *testing.T, user string) registry {
	t.Helper()
	password := newPassword(user)
	r, err := harness.StartRegistry(context.Background(), progs.Registry, t.TempDir(), map[string]string{user: password})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Stop)
	for repo, img := range map[string]struct {
		file, entry string
	}{pauseRepo: {progs.Pause, "/pause"}, helloRepo: {progs.Hello, "/hello"}} {
		image, err := harness.NewRunnableImage(map[string]string{strings.TrimPrefix(img.entry, "/"): img.file}, nil, img.entry)
		if err != nil {
			t.Fatal(err)
		}
		name, tag, _ := strings.Cut(repo, ":")
		if err := image.Push(r.Host, name, tag, user, password); err != nil {
			t.Fatal(err)
		}
	}
	return registry{Registry: r, user: user, password: password}
}

// hostsDir sends each registry's host to it over plain HTTP.
func hostsDir(t *testing.T, regs ...registry) string {
	t.Helper()
	dir := t.TempDir()
	for _, r := range regs {
		if err := harness.WriteHostsToml(dir, r.Host, r.Host); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// dockerConfig is a docker config.json with an auth entry per host.
func dockerConfig(auths map[string][2]string) []byte {
	m := map[string]map[string]map[string]string{"auths": {}}
	for host, up := range auths {
		m["auths"][host] = map[string]string{"auth": base64.StdEncoding.EncodeToString([]byte(up[0] + ":" + up[1]))}
	}
	b, _ := json.Marshal(m)
	return b
}

func writeFile(t *testing.T, path string, data []byte) string {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// dockerconfigSection is the nodecred section with one dockerconfig source.
func dockerconfigSection(path string) string {
	return fmt.Sprintf(`
[plugins."io.containerd.credentials.v1.nodecred"]
  [[plugins."io.containerd.credentials.v1.nodecred".sources]]
    type = "dockerconfig"
    path = %q
`, path)
}

// startNode starts containerd (bin) and a kubelet as the next node, and
// takes it down when the test ends, scanning containerd's log for every
// secret of the run.
func startNode(t *testing.T, bin string, rc harness.ContainerdConfig, kc kube.KubeletConfig) *kube.Node {
	t.Helper()
	nextNode.Lock()
	if nextNode.i == len(nodeNames) {
		nextNode.Unlock()
		t.Fatal("out of node names: add more in nodeNames")
	}
	kc.Name = nodeNames[nextNode.i]
	nextNode.i++
	nextNode.Unlock()
	dir, err := os.MkdirTemp("", "nc")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	n, err := kube.StartNode(context.Background(), cp, dir, kube.NodeConfig{Containerd: bin, Kubelet: progs.Kubelet, Runtime: rc, Node: kc})
	if err != nil {
		os.RemoveAll(dir)
		t.Fatal(err)
	}
	t.Logf("node %s (%s) registered in %s", n.Name, bin, time.Since(start).Round(100*time.Millisecond))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("kubelet log (last lines):\n%s", n.Kubelet.Tail(40))
			t.Logf("containerd log (last lines):\n%s", tail(n.Containerd.Log(), 40))
		}
		if err := n.Stop(); err != nil {
			t.Errorf("node %s cleanup: %v", n.Name, err)
		}
		leaks := secrets.Leaks(n.Containerd.Log())
		if len(leaks) > 0 {
			t.Errorf("containerd log carries %d secret form(s)", len(leaks))
		}
		// Removed on failure too: the log tails above are what is kept.
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("node %s: %v", n.Name, err)
		}
	})
	return n
}

// helloPod is a pod on node running image (test/programs/hello), which
// answers on a free loopback port with a text of its own; the pod uses the
// host's network, tolerates every taint (the node has no CNI, so it stays
// NotReady) and is BestEffort.
func helloPod(t *testing.T, name, node, image string, pullSecrets ...string) (*corev1.Pod, string) {
	t.Helper()
	addr, err := harness.FreeAddress()
	if err != nil {
		t.Fatal(err)
	}
	no := false
	grace := int64(2)
	pod := &corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: corev1.PodSpec{
			NodeSelector:                  map[string]string{"kubernetes.io/hostname": node},
			HostNetwork:                   true,
			Tolerations:                   []corev1.Toleration{{Operator: corev1.TolerationOpExists}},
			AutomountServiceAccountToken:  &no,
			TerminationGracePeriodSeconds: &grace,
			Containers: []corev1.Container{{
				Name:            "hello",
				Image:           image,
				ImagePullPolicy: corev1.PullIfNotPresent,
				Env: []corev1.EnvVar{
					{Name: "HELLO_ADDRESS", Value: addr},
					{Name: "HELLO_TEXT", Value: "hello from " + name},
				},
			}},
		},
	}
	for _, s := range pullSecrets {
		pod.Spec.ImagePullSecrets = append(pod.Spec.ImagePullSecrets, corev1.LocalObjectReference{Name: s})
	}
	return pod, addr
}

// createPod creates pod and deletes it when the test ends (the node's
// cleanup also does).
func createPod(t *testing.T, pod *corev1.Pod) {
	t.Helper()
	c := cp.Client()
	if err := c.CreatePod(context.Background(), pod); err != nil {
		t.Fatal(err)
	}
}

// waitRunning waits until the pod is Running with its container started,
// and then checks that the container answers at addr with its own text.
func waitRunning(t *testing.T, pod *corev1.Pod, addr string) time.Duration {
	t.Helper()
	start := time.Now()
	_, err := cp.Client().WaitPod(context.Background(), pod.Namespace, pod.Name, podTimeout, func(p *corev1.Pod) bool {
		return p.Status.Phase == corev1.PodRunning && len(p.Status.ContainerStatuses) == 1 &&
			p.Status.ContainerStatuses[0].State.Running != nil
	})
	if err != nil {
		t.Fatalf("%v; events: %q", err, podEvents(t, pod.Name))
	}
	took := time.Since(start)
	want := "hello from " + pod.Name
	var got string
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		if got = httpGet(addr); got == want {
			return took
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("pod %s is Running but its container does not answer at %s (got %q)", pod.Name, addr, got)
	return took
}

// waitEvent waits until one of the pod's events holds every one of parts,
// and returns it.
func waitEvent(t *testing.T, name string, parts ...string) string {
	t.Helper()
	deadline := time.Now().Add(podTimeout)
	var events []string
	for time.Now().Before(deadline) {
		events = podEvents(t, name)
		for _, e := range events {
			if logHas(e, parts...) {
				return e
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("pod %s: no event with %q after %s; events: %q", name, parts, podTimeout, events)
	return ""
}

// podEvents returns the messages of the events about pod default/name,
// each as "Reason: message".
func podEvents(t *testing.T, name string) []string {
	t.Helper()
	ev, err := cp.Client().PodEvents(context.Background(), "default", name)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// createPullSecret creates a kubernetes.io/dockerconfigjson Secret in the
// default namespace with host's credentials.
func createPullSecret(t *testing.T, name, host, user, password string) {
	t.Helper()
	s := &corev1.Secret{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Type:       corev1.SecretTypeDockerConfigJson,
		Data:       map[string][]byte{corev1.DockerConfigJsonKey: dockerConfig(map[string][2]string{host: {user, password}})},
	}
	c := cp.Client()
	if err := c.Create(context.Background(), kube.SecretsPath("default"), s); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Delete(context.Background(), kube.SecretsPath("default")+"/"+name) })
}

func httpGet(addr string) string {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get("http://" + addr + "/")
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func tail(text string, n int) string {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
