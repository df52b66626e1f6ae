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
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// KubeletConfig is what a node varies in the kubelet's settings.
type KubeletConfig struct {
	// Name is the node's name; the control plane must know it.
	Name string
	// Dir holds the kubelet's root directory, config, pod logs and log.
	Dir string
	// RuntimeSocket is containerd's CRI socket.
	RuntimeSocket string
	// CredentialProviderConfig and CredentialProviderBinDir are the
	// kubelet's --image-credential-provider-config (a file or a directory)
	// and --image-credential-provider-bin-dir; empty for none.
	CredentialProviderConfig, CredentialProviderBinDir string
	// Env is added to the kubelet's environment (its credential providers
	// inherit it).
	Env []string
	// SyncFrequency is how often the kubelet syncs each pod (and so
	// refreshes its Secret volumes); zero for the kubelet's default (1m).
	SyncFrequency time.Duration
}

// Kubelet is a running kubelet registered as a node.
type Kubelet struct {
	*Process
	Name string
	// RootDir is the kubelet's --root-dir.
	RootDir string
}

// RenderKubeletConfig returns the KubeletConfiguration for a kubelet on
// this kind of host, listening on loopback ports port and healthzPort:
// cgroup v1 allowed (failCgroupV1), swap allowed, no QoS cgroups and no
// node allocatable enforcement (the host's cgroups are not ours to
// divide), the cgroupfs driver as containerd's runc uses, no resolv.conf
// (there is no cluster DNS), eviction and image garbage collection only
// near a full disk (the disk is shared), pod logs under dir.
func RenderKubeletConfig(c KubeletConfig, port, healthzPort string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: 127.0.0.1
port: %s
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: %s
authentication:
  anonymous:
    enabled: false
  webhook:
    enabled: false
authorization:
  mode: AlwaysAllow
containerRuntimeEndpoint: unix://%s
failCgroupV1: false
failSwapOn: false
cgroupsPerQOS: false
enforceNodeAllocatable: []
cgroupDriver: cgroupfs
resolvConf: ""
podLogsDir: %s
localStorageCapacityIsolation: false
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard:
  memory.available: 1Mi
  nodefs.available: 1%%
  imagefs.available: 1%%
  nodefs.inodesFree: 1%%
`, port, healthzPort, c.RuntimeSocket, filepath.Join(c.Dir, "pod-logs"))
	if c.SyncFrequency > 0 {
		fmt.Fprintf(&b, "syncFrequency: %s\n", c.SyncFrequency)
	}
	return b.String()
}

// StartKubelet starts bin as node c.Name of cp and waits until the node is
// registered.
func StartKubelet(ctx context.Context, bin string, cp *ControlPlane, c KubeletConfig) (*Kubelet, error) {
	tok, err := cp.nodeToken(c.Name)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return nil, err
	}
	kubeconfig, err := cp.WriteKubeconfig(filepath.Join(c.Dir, "kubelet.kubeconfig"), tok)
	if err != nil {
		return nil, err
	}
	_, port, _ := net.SplitHostPort(freeAddress())
	_, healthz, _ := net.SplitHostPort(freeAddress())
	cfgPath := filepath.Join(c.Dir, "kubelet.yaml")
	if err := os.WriteFile(cfgPath, []byte(RenderKubeletConfig(c, port, healthz)), 0o600); err != nil {
		return nil, err
	}
	k := &Kubelet{Name: c.Name, RootDir: filepath.Join(c.Dir, "kubelet")}
	args := []string{
		"--config", cfgPath, "--kubeconfig", kubeconfig,
		"--root-dir", k.RootDir, "--hostname-override", c.Name, "--node-ip", "127.0.0.1", "--v", "2",
	}
	if c.CredentialProviderConfig != "" {
		args = append(args, "--image-credential-provider-config", c.CredentialProviderConfig,
			"--image-credential-provider-bin-dir", c.CredentialProviderBinDir)
	}
	if k.Process, err = start("kubelet "+c.Name, bin, filepath.Join(c.Dir, "kubelet.log"), c.Env, args...); err != nil {
		return nil, err
	}
	client := cp.Client()
	if err := waitUntil(ctx, k.Process, 2*time.Minute, func() bool {
		return client.Get(ctx, "/api/v1/nodes/"+c.Name, nil) == nil
	}); err != nil {
		k.Stop()
		return nil, err
	}
	return k, nil
}

// Stop stops the kubelet and undoes its mounts: the bind mount of its root
// directory and any pod volume still mounted.
func (k *Kubelet) Stop() error {
	k.Process.Stop()
	return Unmount(k.RootDir)
}
