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

package cripull

import (
	"context"
	"reflect"
	"testing"

	srvconfig "github.com/containerd/containerd/v2/cmd/containerd/server/config"
	"github.com/pelletier/go-toml/v2"
)

// FuzzSectionAgainstCRI: for any CRI image section containerd accepts,
// the CLI's reading (FromSection, over CRI's defaults) decides the same
// pull mode, for the same reasons and sandbox image, as the daemon's
// (containerd decoding the section into CRI's own config type, read with
// FromConfig).
func FuzzSectionAgainstCRI(f *testing.F) {
	for _, seed := range []string{
		"",
		"discard_unpacked_layers = true",
		"use_local_image_pull = true\ndiscard_unpacked_layers = true",
		"max_concurrent_downloads = 10\n[pinned_images]\nsandbox = \"r.io/p:1\"",
		"disable_snapshot_annotations = false",
		"[registry.mirrors.\"docker.io\"]\nendpoint = [\"https://m.io\"]",
		"[registry.configs.\"r.io\".tls]\ninsecure_skip_verify = true",
		"[registry.auths.\"https://r.io\"]\nusername = \"u\"",
		"image_pull_with_sync_fs = true\nunknown = 1",
		"[registry]\nconfig_path = \"/etc/containerd/certs.d\"",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		var raw map[string]any
		if err := toml.Unmarshal([]byte(text), &raw); err != nil {
			return
		}
		c := srvconfig.Config{Plugins: map[string]any{Section: raw}}
		cfg, err := c.Decode(context.Background(), Section, criConfigOf(t))
		if err != nil {
			return // containerd would not start
		}
		fromCRI, err := FromConfig(cfg)
		if err != nil {
			t.Fatalf("FromConfig of what containerd decoded: %v", err)
		}
		fromFile, err := FromSection(raw)
		if err != nil {
			t.Fatalf("containerd decodes %q, FromSection refuses it: %v", text, err)
		}
		if a, b := Decide(fromCRI), Decide(fromFile); !reflect.DeepEqual(a, b) {
			t.Fatalf("section %q: CRI's config decides %+v, the section %+v", text, a, b)
		}
	})
}
