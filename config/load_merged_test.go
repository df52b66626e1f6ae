//go:build nodecred_mergedconfig

package config

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
