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

package kube

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/nodecred/nodecred/test/e2e/harness"
)

// NodeConfig is one node: a containerd and a kubelet.
type NodeConfig struct {
	// Containerd is the containerd binary (with or without nodecred).
	Containerd string
	// Kubelet is the kubelet binary.
	Kubelet string
	// Runtime is containerd's config (ContainerdSettings is added to it).
	Runtime harness.ContainerdConfig
	// Node is the kubelet's config; Dir and RuntimeSocket are filled in.
	Node KubeletConfig
}

// Node is a running containerd and the kubelet using it.
type Node struct {
	Name       string
	Dir        string
	Containerd *harness.Containerd
	Kubelet    *Kubelet
	cp         *ControlPlane
}

// ContainerdSettings is the containerd config a kubelet on this host needs
// on top of harness.ContainerdConfig's: an OOM score no lower than
// containerd's own (the host denies CAP_SYS_RESOURCE), and runc's state
// under dir so that the node's containers are found, and only they, when
// cleaning up.
func ContainerdSettings(dir string) string {
	return fmt.Sprintf(`
[plugins."io.containerd.cri.v1.runtime"]
  restrict_oom_score_adj = true
[plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"
[plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc.options]
  Root = %q
`, filepath.Join(dir, "runc"))
}

// StartNode starts containerd and a kubelet registered with cp, their
// files under dir (short: it holds containerd's socket). containerd finds
// containerd-shim-runc-v2 next to its binary and runc on PATH.
func StartNode(ctx context.Context, cp *ControlPlane, dir string, c NodeConfig) (*Node, error) {
	n := &Node{Name: c.Node.Name, Dir: dir, cp: cp}
	rc := c.Runtime
	rc.Nodecred += ContainerdSettings(dir)
	var err error
	if n.Containerd, err = harness.StartContainerd(ctx, c.Containerd, filepath.Join(dir, "containerd"), rc); err != nil {
		n.Stop()
		return nil, err
	}
	kc := c.Node
	kc.Dir = filepath.Join(dir, "node")
	kc.RuntimeSocket = n.Containerd.Socket
	if n.Kubelet, err = StartKubelet(ctx, c.Kubelet, cp, kc); err != nil {
		n.Stop()
		return nil, err
	}
	return n, nil
}

// Stop takes the node down in the order that leaves nothing behind: its
// pods deleted through the API (the kubelet stops their containers), the
// kubelet stopped and its mounts undone, any sandbox left removed through
// CRI, containerd stopped, its mounts, runc containers and shims cleaned
// up, and the Node object deleted. It returns what could not be cleaned.
func (n *Node) Stop() error {
	ctx := context.Background()
	var errs []error
	c := n.cp.Client()
	if n.Kubelet != nil {
		errs = append(errs, n.deletePods(ctx, c))
		errs = append(errs, n.Kubelet.Stop())
	}
	if n.Containerd != nil {
		errs = append(errs, removeSandboxes(ctx, n.Containerd.Runtime()))
		n.Containerd.Stop()
	}
	errs = append(errs, deleteRuncContainers(filepath.Join(n.Dir, "runc")))
	killShims(n.Dir)
	errs = append(errs, Unmount(n.Dir))
	errs = append(errs, c.Delete(ctx, "/api/v1/nodes/"+n.Name))
	return errors.Join(errs...)
}

// deletePods deletes the node's pods and waits up to a minute for the
// kubelet to confirm; then it deletes what is left without waiting.
func (n *Node) deletePods(ctx context.Context, c *Client) error {
	pods, err := c.Pods(ctx, n.Name)
	if err != nil {
		return err
	}
	for _, p := range pods {
		_ = c.Delete(ctx, PodsPath(p.Namespace)+"/"+p.Name)
	}
	deadline := time.Now().Add(time.Minute)
	for len(pods) > 0 && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		if pods, err = c.Pods(ctx, n.Name); err != nil {
			return err
		}
	}
	for _, p := range pods {
		zero := int64(0)
		_ = c.Do(ctx, http.MethodDelete, PodsPath(p.Namespace)+"/"+p.Name, map[string]any{"gracePeriodSeconds": zero}, nil)
	}
	return nil
}

// PodsOn is every pod bound to the node, for a test's own checks.
func (n *Node) PodsOn(ctx context.Context) ([]corev1.Pod, error) {
	return n.cp.Client().Pods(ctx, n.Name)
}

func removeSandboxes(ctx context.Context, rt runtime.RuntimeServiceClient) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	list, err := rt.ListPodSandbox(ctx, &runtime.ListPodSandboxRequest{})
	if err != nil {
		return err
	}
	var errs []error
	for _, s := range list.Items {
		if _, err := rt.StopPodSandbox(ctx, &runtime.StopPodSandboxRequest{PodSandboxId: s.Id}); err != nil {
			errs = append(errs, err)
		}
		if _, err := rt.RemovePodSandbox(ctx, &runtime.RemovePodSandboxRequest{PodSandboxId: s.Id}); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// deleteRuncContainers force-deletes the containers runc still knows under
// root (one directory per containerd namespace).
func deleteRuncContainers(root string) error {
	nss, _ := os.ReadDir(root)
	var errs []error
	for _, ns := range nss {
		nsRoot := filepath.Join(root, ns.Name())
		ids, _ := os.ReadDir(nsRoot)
		for _, id := range ids {
			if out, err := exec.Command("runc", "--root", nsRoot, "delete", "--force", id.Name()).CombinedOutput(); err != nil {
				errs = append(errs, fmt.Errorf("runc delete %s: %w: %s", id.Name(), err, out))
			}
		}
	}
	return errors.Join(errs...)
}

// killShims kills the containerd-shim-runc-v2 processes of the containerd
// whose files are under dir, found by the socket path in their arguments.
func killShims(dir string) {
	procs, _ := os.ReadDir("/proc")
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", p.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(string(b), "\x00")
		if strings.HasSuffix(args[0], "containerd-shim-runc-v2") && strings.Contains(string(b), dir+"/") {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}
