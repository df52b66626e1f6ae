//go:build nodecred_mergedconfig

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

	srvconfig "github.com/containerd/containerd/v2/cmd/containerd/server/config"
	"github.com/containerd/containerd/v2/version"
	"github.com/containerd/plugin"
	"github.com/containerd/plugin/registry"
	"github.com/pelletier/go-toml/v2"
)

// loadMigrated reads containerd's config file at path as containerd 2.1
// and 2.2 read it: imports merged first, then the merged config migrated
// from its version with containerd's own and each registered plugin's
// migrations (server.New). v2CRI reports whether a version 2 config held
// CRI's image keys in [plugins."io.containerd.grpc.v1.cri"].
func loadMigrated(ctx context.Context, path string) (c srvconfig.Config, v2CRI bool, err error) {
	ctx = quietLoader(ctx)
	if err := srvconfig.LoadConfig(ctx, path, &c); err != nil {
		return c, false, fmt.Errorf("failed to load containerd config %s: %w", path, err)
	}
	v2CRI = c.Version < 3 && holdsCRIImageKeys(c.Plugins[criV2Section])
	plugins, err := migratedPlugins(ctx, c)
	if err != nil {
		return c, false, fmt.Errorf("failed to migrate containerd config %s to version %d: %w", path, version.ConfigVersion, err)
	}
	c.Plugins, c.Version = plugins, version.ConfigVersion
	return c, v2CRI, nil
}

// migratedPlugins returns a copy of c's plugin sections migrated from c's
// version to the one this containerd reads, as server.New does.
func migratedPlugins(ctx context.Context, c srvconfig.Config) (map[string]any, error) {
	// A deep copy: the migrations edit the sections in place.
	b, err := toml.Marshal(c.Plugins)
	if err != nil {
		return nil, err
	}
	m := srvconfig.Config{Version: c.Version}
	if err := toml.Unmarshal(b, &m.Plugins); err != nil {
		return nil, err
	}
	if m.Plugins == nil {
		m.Plugins = map[string]any{}
	}
	from := m.Version
	if err := m.MigrateConfigTo(ctx, version.ConfigVersion); err != nil {
		return nil, err
	}
	regs := registry.Graph(func(*plugin.Registration) bool { return false })
	for v := from; v < version.ConfigVersion; v++ {
		for _, r := range regs {
			if r.ConfigMigration != nil {
				if err := r.ConfigMigration(ctx, v, m.Plugins); err != nil {
					return nil, err
				}
			}
		}
	}
	return m.Plugins, nil
}
