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
	"testing"

	srvconfig "github.com/containerd/containerd/v2/cmd/containerd/server/config"
	"github.com/containerd/containerd/v2/version"
	"github.com/containerd/plugin"
)

// perFileMigration: containerd migrates each file before merging.
const perFileMigration = false

// containerdLoads loads path as containerd 2.1 and 2.2 do: LoadConfig
// merges the imports, then server.New migrates the merged config and runs
// each plugin's migration for every version step, in place.
func containerdLoads(ctx context.Context, t *testing.T, regs []plugin.Registration, path string) srvconfig.Config {
	t.Helper()
	var c srvconfig.Config
	if err := srvconfig.LoadConfig(ctx, path, &c); err != nil {
		t.Fatal(err)
	}
	from := c.Version
	if from < version.ConfigVersion {
		if err := c.MigrateConfig(ctx); err != nil {
			t.Fatal(err)
		}
		for v := from; v < version.ConfigVersion; v++ {
			for _, p := range regs {
				if p.ConfigMigration != nil {
					if err := p.ConfigMigration(ctx, v, c.Plugins); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
	}
	return c
}
