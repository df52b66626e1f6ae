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
	"path/filepath"
	"testing"

	"github.com/nodecred/nodecred/test/cluster/kube"
	"github.com/nodecred/nodecred/test/e2e/harness"
)

// TestCallerFirst: the kubelet sends a pod's imagePullSecrets with its
// pull, and they win over a node credential that is wrong for that host;
// a pod without them is served by the node source.
func TestCallerFirst(t *testing.T) {
	skipIfUnable(t)
	withSecret := startRegistry(t, "team") // the node credential for it is wrong
	nodeServed := startRegistry(t, "node") // the node credential for it is right; holds the sandbox image
	auth := writeFile(t, filepath.Join(t.TempDir(), "auth.json"), dockerConfig(map[string][2]string{
		withSecret.Host: {withSecret.user, "wrong-" + withSecret.password},
		nodeServed.Host: {nodeServed.user, nodeServed.password},
	}))
	n := startNode(t, progs.Containerd, harness.ContainerdConfig{
		HostsDir: hostsDir(t, withSecret, nodeServed), SandboxImage: nodeServed.pause(), Nodecred: dockerconfigSection(auth),
	}, kube.KubeletConfig{})
	createPullSecret(t, "team-pull", withSecret.Host, withSecret.user, withSecret.password)

	pod, addr := helloPod(t, "caller-secret", n.Name, withSecret.hello(), "team-pull")
	createPod(t, pod)
	waitRunning(t, pod, addr)
	if !logHas(n.Containerd.Log(), `msg="credential decision"`, "plugin=nodecred", withSecret.hello(), "source=caller") {
		t.Errorf("containerd log has no caller decision for %s", withSecret.hello())
	}

	pod, addr = helloPod(t, "caller-none", n.Name, nodeServed.hello())
	createPod(t, pod)
	waitRunning(t, pod, addr)
	if !logHas(n.Containerd.Log(), `msg="credential decision"`, "plugin=nodecred", nodeServed.hello(), "dockerconfig:") {
		t.Errorf("containerd log has no node credential decision for %s", nodeServed.hello())
	}

	// The node credential for the first host really is wrong: a pod
	// without the Secret cannot pull its image. The image is on the node,
	// but the kubelet (KEP-2535) pulls again for a pod without the
	// credentials it was pulled with, and nodecred lends the wrong one.
	pod, _ = helloPod(t, "caller-none-wrong", n.Name, withSecret.hello())
	createPod(t, pod)
	e := waitEvent(t, pod.Name, "Failed", "Failed to pull image", withSecret.hello())
	t.Logf("without the Secret: %s", e)
}
