//go:build !nodecred_mergedconfig

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

package nodeconfig

import (
	"context"
	"fmt"
	"iter"

	srvconfig "github.com/containerd/containerd/v2/cmd/containerd/server/config"
	"github.com/containerd/containerd/v2/version"
	"github.com/containerd/plugin"
	"github.com/containerd/plugin/registry"
)

// loadMigrated reads containerd's config file at path as containerd 2.3
// and later read it: each file (the main one and its imports) migrated
// from its own version to the current one, with containerd's own and each
// registered plugin's migrations (CRI's moves a version 2
// [plugins."io.containerd.grpc.v1.cri"] into its version 3 sections), then
// merged. v2CRI reports whether a version 2 file held CRI's image keys in
// that version 2 section. containerd 2.1 and 2.2 migrate after merging:
// load_merged.go, built with -tags nodecred_mergedconfig (make compat).
func loadMigrated(ctx context.Context, path string) (c srvconfig.Config, v2CRI bool, err error) {
	ctx = quietLoader(ctx)
	observe := plugin.Registration{ConfigMigration: func(_ context.Context, v int, plugins map[string]any) error {
		if v < 3 && holdsCRIImageKeys(plugins[criV2Section]) {
			v2CRI = true
		}
		return nil
	}}
	regs := registry.Graph(func(*plugin.Registration) bool { return false })
	migrations := func() iter.Seq[plugin.Registration] {
		return func(yield func(plugin.Registration) bool) {
			// The observer runs before CRI's migration moves the keys.
			if !yield(observe) {
				return
			}
			for _, r := range regs {
				if !yield(r) {
					return
				}
			}
		}
	}
	c = srvconfig.Config{Version: version.ConfigVersion}
	if err := srvconfig.LoadConfigWithPlugins(ctx, path, migrations, &c); err != nil {
		return c, false, fmt.Errorf("failed to load containerd config %s: %w", path, err)
	}
	return c, v2CRI, nil
}
