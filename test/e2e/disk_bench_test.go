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
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/nodecred/nodecred/test/e2e/harness"
)

// BenchmarkDiscardUnpackedLayersDiskKept measures what moving a node off
// discard_unpacked_layers = true (so that CRI pulls through the transfer
// service) costs in disk: the content store's size after a real CRI pull
// of one image, with the key set and without it. The image has four
// layers of 8 MiB of random bytes, which gzip does not shrink.
func BenchmarkDiscardUnpackedLayersDiskKept(b *testing.B) {
	reg := startRegistry(b, "node")
	img, err := harness.NewImage(4, 8<<20)
	if err != nil {
		b.Fatal(err)
	}
	if err := img.Push(reg.Host, "big/app", "1", reg.user, reg.password); err != nil {
		b.Fatal(err)
	}
	hostsDir := b.TempDir()
	if err := harness.WriteHostsToml(hostsDir, reg.Host, reg.Host); err != nil {
		b.Fatal(err)
	}
	ref := reg.Host + "/big/app:1"
	// The kubelet's credential, so that both modes can pull.
	auth := &runtime.AuthConfig{Username: reg.user, Password: reg.password}

	// contentSize pulls ref on a fresh containerd with extra config and
	// returns the size of its content store once garbage collection has
	// had its chance (up to 30 s for discarded layers to go).
	contentSize := func(extra string, discard bool) int64 {
		dir, err := os.MkdirTemp("", "nc")
		if err != nil {
			b.Fatal(err)
		}
		defer os.RemoveAll(dir)
		c, err := harness.StartContainerd(context.Background(), bins.Containerd, dir, harness.ContainerdConfig{HostsDir: hostsDir, Nodecred: extra})
		if err != nil {
			b.Fatal(err)
		}
		defer c.Stop()
		if err := criPull(c, ref, auth); err != nil {
			b.Fatal(err)
		}
		blobs := filepath.Join(dir, "root", "io.containerd.content.v1.content", "blobs")
		size := dirSize(b, blobs)
		for i := 0; discard && size > 8<<20 && i < 300; i++ {
			time.Sleep(100 * time.Millisecond)
			size = dirSize(b, blobs)
		}
		return size
	}
	var kept, discarded int64
	for range b.N {
		kept = contentSize("", false)
		discarded = contentSize("[plugins.\"io.containerd.cri.v1.images\"]\n  discard_unpacked_layers = true\n", true)
	}
	b.ReportMetric(float64(kept)/(1<<20), "MiB-content-kept")
	b.ReportMetric(float64(discarded)/(1<<20), "MiB-content-discarded")
	b.ReportMetric(float64(kept-discarded)/(1<<20), "MiB-more-per-image")
}

// dirSize is the total size of the regular files under dir.
func dirSize(b *testing.B, dir string) int64 {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			n += info.Size()
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return n
}
