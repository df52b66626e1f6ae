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

package deploy

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	srvconfig "github.com/containerd/containerd/v2/cmd/containerd/server/config"
	"github.com/containerd/containerd/v2/version"
	"github.com/pelletier/go-toml/v2"

	ncconfig "github.com/nodecred/nodecred/config"
	"github.com/nodecred/nodecred/nodeconfig"
)

// nodeConfigs are config.toml files as nodes have them, each ending inside a
// table as `containerd config default` output does, so that a key at the top
// of an appended snippet would land in that table.
var nodeConfigs = []struct {
	version int
	text    string
}{
	{2, `version = 2

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "registry.k8s.io/pause:3.10"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "/etc/containerd/certs.d"
`},
	{3, `version = 3

[plugins."io.containerd.cri.v1.images"]
  snapshotter = "overlayfs"
  [plugins."io.containerd.cri.v1.images".pinned_images]
    sandbox = "registry.k8s.io/pause:3.10"
`},
	{4, `version = 4

[plugins."io.containerd.cri.v1.images".registry]
  config_path = "/etc/containerd/certs.d"
`},
}

// appendToNodeConfigs appends snippet to each of nodeConfigs, as the docs
// tell operators to, and returns the nodecred configuration read from each.
func appendToNodeConfigs(t *testing.T, snippet string) []nodeconfig.Node {
	t.Helper()
	add, err := os.ReadFile(snippet)
	if err != nil {
		t.Fatal(err)
	}
	var nodes []nodeconfig.Node
	for _, nc := range nodeConfigs {
		if nc.version > version.ConfigVersion {
			continue // containerd 2.1 and 2.2 (make compat) read up to version 3
		}
		node, err := appendSection(t.TempDir(), nc.version, nc.text, string(add))
		if err != nil {
			t.Fatalf("%s appended to a version %d config: %v", snippet, nc.version, err)
		}
		nodes = append(nodes, node)
	}
	return nodes
}

// appendSection writes config+snippet and checks that containerd reads it at
// the config's own version and that nothing but the nodecred section was
// added to what the config held.
func appendSection(dir string, version int, config, snippet string) (nodeconfig.Node, error) {
	path := filepath.Join(dir, "config.toml")
	merged := config + "\n" + snippet
	if err := os.WriteFile(path, []byte(merged), 0o600); err != nil {
		return nodeconfig.Node{}, err
	}
	var c srvconfig.Config
	if err := srvconfig.LoadConfig(context.Background(), path, &c); err != nil {
		return nodeconfig.Node{}, err
	}
	if c.Version != version {
		return nodeconfig.Node{}, fmt.Errorf("containerd reads version %d", c.Version)
	}
	var before, after map[string]any
	if err := toml.Unmarshal([]byte(config), &before); err != nil {
		return nodeconfig.Node{}, err
	}
	if err := toml.Unmarshal([]byte(merged), &after); err != nil {
		return nodeconfig.Node{}, err
	}
	plugins, _ := after["plugins"].(map[string]any)
	if _, ok := plugins[ncconfig.Section]; !ok {
		return nodeconfig.Node{}, fmt.Errorf("no [plugins.%q]", ncconfig.Section)
	}
	delete(plugins, ncconfig.Section)
	if !reflect.DeepEqual(before, after) {
		return nodeconfig.Node{}, fmt.Errorf("changes more than its own section:\nbefore %v\nafter  %v", before, after)
	}
	return nodeconfig.LoadContainerd(context.Background(), path)
}

// A snippet with a key above its first table, appended after a table, puts
// that key in the table (or clashes with the file's own): the check sees it.
func TestAppendSectionSeesKeyAboveSection(t *testing.T) {
	data, err := os.ReadFile("nodecred-config.toml")
	if err != nil {
		t.Fatal(err)
	}
	for _, nc := range nodeConfigs {
		if nc.version > version.ConfigVersion {
			continue
		}
		if _, err := appendSection(t.TempDir(), nc.version, nc.text, "version = 3\n"+string(data)); err == nil {
			t.Errorf("a snippet with a version line above its section, appended to a version %d config, passed", nc.version)
		}
	}
}
