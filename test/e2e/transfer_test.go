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
	"net/http"
	"testing"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/transfer/image"
	"github.com/containerd/containerd/v2/core/transfer/registry"
	"github.com/containerd/containerd/v2/pkg/namespaces"

	"github.com/nodecred/nodecred/test/e2e/harness"
	"github.com/nodecred/nodecred/transfer"
)

// client returns a containerd client for c.
func client(t *testing.T, c *harness.Containerd) *containerd.Client {
	t.Helper()
	cl, err := containerd.New(c.Socket)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	return cl
}

// transferPull pulls ref in namespace ns through the transfer API with src
// as the source and no credentials.
func transferPull(cl *containerd.Client, ns, ref string, src any) error {
	ctx := namespaces.WithNamespace(context.Background(), ns)
	return cl.Transfer(ctx, src, image.NewStore(ref))
}

func hasImage(t *testing.T, cl *containerd.Client, ns, ref string) bool {
	t.Helper()
	_, err := cl.ImageService().Get(namespaces.WithNamespace(context.Background(), ns), ref)
	return err == nil
}

func ociRegistry(t *testing.T, ref, hostsDir string) *registry.OCIRegistry {
	t.Helper()
	r, err := registry.NewOCIRegistry(context.Background(), ref, registry.WithHostDir(hostsDir))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestTransferPullServedByNodeSource(t *testing.T) {
	reg := startRegistry(t, "node", "app/web:1", "app/web:2")
	hostsDir := hostsDirFor(t, reg)
	auth := authFileFor(t, reg)
	c := startContainerd(t, bins.Containerd, harness.ContainerdConfig{
		HostsDir: hostsDir,
		Nodecred: nodecredSection("", dockerconfigSource(auth)),
	})
	cl := client(t, c)

	ref := reg.Host + "/app/web:1"
	if err := transferPull(cl, "default", ref, ociRegistry(t, ref, hostsDir)); err != nil {
		t.Fatalf("transfer pull with an OCIRegistry and no credentials: %v", err)
	}
	if !hasImage(t, cl, "default", ref) {
		t.Fatalf("%s missing after pull", ref)
	}

	ref2 := reg.Host + "/app/web:2"
	if err := transferPull(cl, "default", ref2, &transfer.NodeRegistry{Reference: ref2, HostDir: hostsDir}); err != nil {
		t.Fatalf("transfer pull with a NodeRegistry: %v", err)
	}
	if !hasImage(t, cl, "default", ref2) {
		t.Fatalf("%s missing after pull", ref2)
	}
}

func TestNamespaceScoping(t *testing.T) {
	reg := startRegistry(t, "node", "app/web:1")
	hostsDir := hostsDirFor(t, reg)
	auth := authFileFor(t, reg)
	c := startContainerd(t, bins.Containerd, harness.ContainerdConfig{
		HostsDir: hostsDir,
		Nodecred: nodecredSection("namespaces = [\"k8s.io\"]\n", dockerconfigSource(auth)),
	})
	cl := client(t, c)
	ref := reg.Host + "/app/web:1"

	err := transferPull(cl, "default", ref, ociRegistry(t, ref, hostsDir))
	if err == nil || !isAuthError(err) {
		t.Fatalf("pull in namespace default: err = %v, want an authorization failure", err)
	}
	wantClause(t, "pull in namespace default", err, `node credentials: not lent to namespace "default"`, auth)
	if err := transferPull(cl, "default", ref, &transfer.NodeRegistry{Reference: ref, HostDir: hostsDir}); err == nil {
		t.Fatalf("NodeRegistry pull in namespace default succeeded; want it refused")
	}
	if hasImage(t, cl, "default", ref) {
		t.Fatalf("namespace default got the image")
	}
	if err := transferPull(cl, "k8s.io", ref, ociRegistry(t, ref, hostsDir)); err != nil {
		t.Fatalf("pull in namespace k8s.io: %v", err)
	}
}

func TestPushGetsNodeCredentialsOnlyWhenAllowed(t *testing.T) {
	for _, push := range []bool{false, true} {
		t.Run(map[bool]string{false: "push=false", true: "push=true"}[push], func(t *testing.T) {
			reg := startRegistry(t, "node", "app/web:1")
			hostsDir := hostsDirFor(t, reg)
			auth := authFileFor(t, reg)
			top := "push = false\n"
			if push {
				top = "push = true\n"
			}
			c := startContainerd(t, bins.Containerd, harness.ContainerdConfig{
				HostsDir: hostsDir,
				Nodecred: nodecredSection(top, dockerconfigSource(auth)),
			})
			cl := client(t, c)
			src := reg.Host + "/app/web:1"
			if err := transferPull(cl, "default", src, ociRegistry(t, src, hostsDir)); err != nil {
				t.Fatalf("pull: %v", err)
			}
			dst := reg.Host + "/app/pushed:1"
			ctx := namespaces.WithNamespace(context.Background(), "default")
			err := cl.Transfer(ctx, image.NewStore(src), ociRegistry(t, dst, hostsDir))
			pushed := manifestExists(t, reg, "app/pushed", "1")
			switch {
			case push && (err != nil || !pushed):
				t.Fatalf("push with push = true: err = %v, manifest in registry = %v", err, pushed)
			case !push && (err == nil || !isAuthError(err) || pushed):
				t.Fatalf("push with push = false: err = %v, manifest in registry = %v; want an authorization failure", err, pushed)
			case !push:
				wantClause(t, "push with push = false", err, "node credentials: not lent to pushes (push = false)", auth)
			}
		})
	}
}

// manifestExists asks the registry directly, with its credentials.
func manifestExists(t *testing.T, reg testRegistry, repo, tag string) bool {
	t.Helper()
	req, _ := http.NewRequest(http.MethodHead, "http://"+reg.Host+"/v2/"+repo+"/manifests/"+tag, nil)
	req.SetBasicAuth(reg.user, reg.password)
	req.Header.Set("Accept", "application/vnd.oci.image.manifest.v1+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}
