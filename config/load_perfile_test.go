//go:build !nodecred_mergedconfig

package config

import (
	"context"
	"iter"
	"slices"
	"testing"

	srvconfig "github.com/containerd/containerd/v2/cmd/containerd/server/config"
	"github.com/containerd/containerd/v2/version"
	"github.com/containerd/plugin"
)

// perFileMigration: containerd migrates each file before merging.
const perFileMigration = true

// containerdLoads loads path as containerd 2.3 and later do: its loader
// migrates each file with the plugins' migrations before merging.
func containerdLoads(ctx context.Context, t *testing.T, regs []plugin.Registration, path string) srvconfig.Config {
	t.Helper()
	plugins := func() iter.Seq[plugin.Registration] { return slices.Values(regs) }
	c := srvconfig.Config{Version: version.ConfigVersion}
	if err := srvconfig.LoadConfigWithPlugins(ctx, path, plugins, &c); err != nil {
		t.Fatal(err)
	}
	return c
}
