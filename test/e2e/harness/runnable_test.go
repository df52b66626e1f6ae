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

package harness

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// TestNewRunnableImageHoldsTheFiles reads the image back as a runtime
// would: manifest, config's entrypoint, the layer's files and modes.
func TestNewRunnableImageHoldsTheFiles(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "prog")
	if err := os.WriteFile(src, []byte("#!program"), 0o600); err != nil {
		t.Fatal(err)
	}
	img, err := NewRunnableImage(map[string]string{"pause": src, "bin/busybox": src}, map[string]string{"bin/sh": "busybox"}, "/pause")
	if err != nil {
		t.Fatal(err)
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(img.Manifest, &m); err != nil {
		t.Fatal(err)
	}
	var cfg ocispec.Image
	if err := json.Unmarshal(img.blobs[m.Config.Digest], &cfg); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cfg.Config.Entrypoint, []string{"/pause"}) {
		t.Errorf("entrypoint %q", cfg.Config.Entrypoint)
	}
	if len(m.Layers) != 1 {
		t.Fatalf("%d layers", len(m.Layers))
	}
	zr, err := gzip.NewReader(bytes.NewReader(img.blobs[m.Layers[0].Digest]))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	got := map[string]string{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeSymlink {
			got[h.Name] = "-> " + h.Linkname
			continue
		}
		b, _ := io.ReadAll(tr)
		if h.Mode != 0o755 {
			t.Errorf("%s mode %o, want 755", h.Name, h.Mode)
		}
		got[h.Name] = string(b)
	}
	if len(got) != 3 || got["pause"] != "#!program" || got["bin/busybox"] != "#!program" || got["bin/sh"] != "-> busybox" {
		t.Errorf("layer holds %q", got)
	}
}
