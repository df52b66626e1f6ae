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
	"os"
	"testing"
	"time"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/nodecred/nodecred/test/e2e/harness"
)

// BenchmarkFirstSandboxSlowProvider measures a new node's first
// RunPodSandbox when its sandbox image's credential comes from a kubelet
// provider that takes 3 s (ecr-credential-provider calling the ECR API):
// once right after CRI answers, and once 4 s later, as when the kubelet
// asks after the provider's time has passed. Each run starts a fresh
// containerd. NODECRED_BENCH_CONTAINERD runs another build (one without
// warming, for the comparison in BENCHMARKS.md).
func BenchmarkFirstSandboxSlowProvider(b *testing.B) {
	bin := bins.Containerd
	if alt := os.Getenv("NODECRED_BENCH_CONTAINERD"); alt != "" {
		bin = alt
	}
	reg := startRegistry(b, "node", "private/pause:3.10")
	image := reg.Host + "/private/pause:3.10"
	hostsDir := b.TempDir()
	if err := harness.WriteHostsToml(hostsDir, reg.Host, reg.Host); err != nil {
		b.Fatal(err)
	}
	config, binDir, _ := installProvider(b, reg.Host, map[string]string{
		"PROVIDER_USER": reg.user, "PROVIDER_PASSWORD": reg.password, "PROVIDER_SLEEP": "3s",
	})
	first := func(delay time.Duration) time.Duration {
		dir, err := os.MkdirTemp("", "nc")
		if err != nil {
			b.Fatal(err)
		}
		defer os.RemoveAll(dir)
		c, err := harness.StartContainerd(context.Background(), bin, dir, harness.ContainerdConfig{
			HostsDir: hostsDir, SandboxImage: image, LogLevel: "info",
			Nodecred: nodecredSection("", kubeletSource(config, binDir)),
		})
		if err != nil {
			b.Fatal(err)
		}
		defer c.Stop()
		time.Sleep(delay)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		start := time.Now()
		_, err = c.Runtime().RunPodSandbox(ctx, &runtime.RunPodSandboxRequest{Config: harness.HostNetworkSandbox("warm")})
		took := time.Since(start)
		// Containers cannot start here: RunPodSandbox fails after its pull.
		if err != nil && isAuthError(err) {
			b.Fatalf("sandbox pull refused: %v", err)
		}
		st, err := c.Images().ImageStatus(context.Background(), &runtime.ImageStatusRequest{Image: &runtime.ImageSpec{Image: image}})
		if err != nil || st.GetImage() == nil {
			b.Fatalf("sandbox image not pulled (%v)", err)
		}
		return took
	}
	var atStart, later time.Duration
	for range b.N {
		atStart += first(0)
		later += first(4 * time.Second)
	}
	b.ReportMetric(float64(atStart.Milliseconds())/float64(b.N), "ms-first-sandbox-at-start")
	b.ReportMetric(float64(later.Milliseconds())/float64(b.N), "ms-first-sandbox-4s-after-start")
}
