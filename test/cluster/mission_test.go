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
	"time"

	"github.com/nodecred/nodecred/test/cluster/kube"
	"github.com/nodecred/nodecred/test/e2e/harness"
)

// TestMission: CRI's sandbox image and the pod's own image are both on a
// registry that wants credentials, and the pod sends none. Stock
// containerd cannot make the pod's sandbox; with nodecred the pod runs.
func TestMission(t *testing.T) {
	skipIfUnable(t)
	reg := startRegistry(t, "node")

	t.Run("stock", func(t *testing.T) {
		n := startNode(t, progs.StockContainerd, harness.ContainerdConfig{
			HostsDir: hostsDir(t, reg), SandboxImage: reg.pause(),
		}, kube.KubeletConfig{})
		pod, _ := helloPod(t, "mission-stock", n.Name, reg.hello())
		createPod(t, pod)
		e := waitEvent(t, pod.Name, "FailedCreatePodSandBox", "no basic auth credentials")
		t.Logf("stock containerd: %s", e)
	})

	t.Run("nodecred", func(t *testing.T) {
		auth := writeFile(t, filepath.Join(t.TempDir(), "auth.json"), dockerConfig(map[string][2]string{reg.Host: {reg.user, reg.password}}))
		n := startNode(t, progs.Containerd, harness.ContainerdConfig{
			HostsDir: hostsDir(t, reg), SandboxImage: reg.pause(), Nodecred: dockerconfigSection(auth),
		}, kube.KubeletConfig{})
		pod, addr := helloPod(t, "mission-nodecred", n.Name, reg.hello())
		createPod(t, pod)
		took := waitRunning(t, pod, addr)
		t.Logf("pod Running and answering %s after creation", took.Round(100*time.Millisecond))
		log := n.Containerd.Log()
		for _, ref := range []string{reg.pause(), reg.hello()} {
			if !logHas(log, `msg="credential decision"`, "plugin=nodecred", ref, "dockerconfig:") {
				t.Errorf("containerd log has no node credential decision for %s", ref)
			}
		}
	})
}
