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
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nodecred/nodecred/test/cluster/kube"
	"github.com/nodecred/nodecred/test/e2e/harness"
)

// TestKEP2535 measures what the kubelet's image pull credential
// verification (KEP-2535, KubeletEnsureSecretPulledImages, beta and on by
// default in 1.35, policy NeverVerifyPreloadedImages) does next to node
// credentials. The sandbox image is public here, so that stock containerd
// runs pods too.
//
// An image that node credentials pulled: the kubelet sent none, so it
// records the image as accessible to every pod on the node
// (nodePodsAccessible), and a later pod without credentials uses it
// without a pull, even after the node credential is gone.
//
// An image a pod's imagePullSecrets pulled: the kubelet records that
// Secret, and for a later pod without it pulls again, sending nothing.
// Stock containerd then pulls anonymously and the pod fails; nodecred
// lends the node credential, so the pod runs when the node may pull the
// image itself.
func TestKEP2535(t *testing.T) {
	skipIfUnable(t)
	public, err := harness.StartPublicRegistry(context.Background(), progs.Registry, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(public.Stop)
	pushPublic(t, public.Host)
	sandbox := public.Host + "/" + pauseRepo

	t.Run("node credentials", func(t *testing.T) {
		reg := startRegistry(t, "node")
		auth := writeFile(t, filepath.Join(t.TempDir(), "auth.json"), dockerConfig(map[string][2]string{reg.Host: {reg.user, reg.password}}))
		n := startNode(t, progs.Containerd, harness.ContainerdConfig{
			HostsDir: hostsDir(t, reg, registry{Registry: public}), SandboxImage: sandbox, Nodecred: dockerconfigSection(auth),
		}, kube.KubeletConfig{})
		pod, addr := helloPod(t, "kep-node-1", n.Name, reg.hello())
		createPod(t, pod)
		waitRunning(t, pod, addr)
		creds := pulledRecord(t, n, repository(reg.hello()))
		t.Logf("kubelet's record for %s: %+v", repository(reg.hello()), creds)
		if !creds.NodePodsAccessible || len(creds.KubernetesSecrets) != 0 {
			t.Errorf("record for an image node credentials pulled: %+v, want nodePodsAccessible only", creds)
		}

		// The node credential goes; a pod without credentials still runs
		// the image, with no pull.
		if err := os.Remove(auth); err != nil {
			t.Fatal(err)
		}
		pod, addr = helloPod(t, "kep-node-2", n.Name, reg.hello())
		createPod(t, pod)
		waitRunning(t, pod, addr)
		e := waitEvent(t, pod.Name, "Pulled", "already present on machine and can be accessed by the pod")
		t.Logf("second pod without credentials, node credential removed: %s", e)
	})

	for _, tc := range []struct {
		name, bin string
		// runs says whether the pod without the Secret runs.
		runs bool
	}{
		{"pod secret/nodecred", progs.Containerd, true},
		{"pod secret/stock", progs.StockContainerd, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := startRegistry(t, "team")
			rc := harness.ContainerdConfig{HostsDir: hostsDir(t, reg, registry{Registry: public}), SandboxImage: sandbox}
			if tc.bin == progs.Containerd {
				auth := writeFile(t, filepath.Join(t.TempDir(), "auth.json"), dockerConfig(map[string][2]string{reg.Host: {reg.user, reg.password}}))
				rc.Nodecred = dockerconfigSection(auth)
			}
			n := startNode(t, tc.bin, rc, kube.KubeletConfig{})
			secret := "kep-pull-" + strings.ReplaceAll(strings.ToLower(tc.name[len("pod secret/"):]), " ", "-")
			createPullSecret(t, secret, reg.Host, reg.user, reg.password)
			pod, addr := helloPod(t, secret+"-1", n.Name, reg.hello(), secret)
			createPod(t, pod)
			waitRunning(t, pod, addr)
			creds := pulledRecord(t, n, repository(reg.hello()))
			t.Logf("kubelet's record for %s: %+v", repository(reg.hello()), creds)
			if creds.NodePodsAccessible || len(creds.KubernetesSecrets) != 1 || creds.KubernetesSecrets[0].Name != secret {
				t.Errorf("record for an image a Secret pulled: %+v, want that Secret only", creds)
			}

			pod, addr = helloPod(t, secret+"-2", n.Name, reg.hello())
			createPod(t, pod)
			if tc.runs {
				waitRunning(t, pod, addr)
				e := waitEvent(t, pod.Name, "Pulled", "Successfully pulled")
				t.Logf("second pod without the Secret: %s", e)
				if !logHas(n.Containerd.Log(), `msg="credential decision"`, "plugin=nodecred", reg.hello(), "dockerconfig:") {
					t.Error("containerd log has no node credential decision for the kubelet's second pull")
				}
			} else {
				e := waitEvent(t, pod.Name, "Failed", "Failed to pull image", reg.hello())
				t.Logf("second pod without the Secret: %s", e)
			}
		})
	}
}

// pullCredentials is the credentials part of the kubelet's
// ImagePulledRecord (kubelet.config.k8s.io/v1beta1, k8s.io/kubelet's
// config/v1beta1, whose package would bring component-base into go.mod):
// the fields read here.
type pullCredentials struct {
	KubernetesSecrets []struct {
		Namespace string `json:"namespace"`
		Name      string `json:"name"`
	} `json:"kubernetesSecrets"`
	NodePodsAccessible bool `json:"nodePodsAccessible"`
}

type pulledImageRecord struct {
	Kind              string                     `json:"kind"`
	ImageRef          string                     `json:"imageRef"`
	CredentialMapping map[string]pullCredentials `json:"credentialMapping"`
}

// pulledRecord returns the kubelet's KEP-2535 record of the credentials
// image (a repository, without tag) was pulled with. The record's
// credential hashes are left out: a hash of a credential is not printed.
func pulledRecord(t *testing.T, n *kube.Node, image string) pullCredentials {
	t.Helper()
	dir := filepath.Join(n.Kubelet.RootDir, "image_manager", "pulled")
	files, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(dir, f.Name()))
		if err != nil {
			t.Fatal(err)
		}
		var rec pulledImageRecord
		if err := json.Unmarshal(b, &rec); err != nil || rec.Kind != "ImagePulledRecord" {
			t.Fatalf("%s: not an ImagePulledRecord (%v): %s", f.Name(), err, b)
		}
		if creds, ok := rec.CredentialMapping[image]; ok {
			return creds
		}
	}
	t.Fatalf("no record in %s for %s", dir, image)
	return pullCredentials{}
}
