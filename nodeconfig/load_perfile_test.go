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
