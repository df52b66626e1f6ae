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
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/containerd/errdefs"

	"github.com/nodecred/nodecred/cripull"
)

func TestLoadContainerd(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	v3 := write("v3.toml", `version = 3
[plugins."io.containerd.cri.v1.images".registry]
  config_path = "/etc/containerd/certs.d"
[plugins."io.containerd.credentials.v1.nodecred"]
  namespaces = ["k8s.io"]
  [[plugins."io.containerd.credentials.v1.nodecred".sources]]
    type = "dockerconfig"
    path = "/etc/containerd/auth.json"
`)
	node, err := LoadContainerd(context.Background(), v3)
	if err != nil {
		t.Fatal(err)
	}
	if node.HostsDir != "/etc/containerd/certs.d" || len(node.Credentials.Sources) != 1 || node.Credentials.Namespaces[0] != "k8s.io" {
		t.Fatalf("got %+v", node)
	}

	v2 := write("v2.toml", `version = 2
[plugins."io.containerd.grpc.v1.cri".registry]
  config_path = "/srv/certs.d"
`)
	if node, err := LoadContainerd(context.Background(), v2); err != nil || node.HostsDir != "/srv/certs.d" || len(node.Credentials.Sources) != 0 {
		t.Fatalf("v2: %+v, %v", node, err)
	}

	bad := write("bad.toml", `version = 3
[plugins."io.containerd.credentials.v1.nodecred"]
  pushh = true
`)
	if _, err := LoadContainerd(context.Background(), bad); err == nil || !strings.Contains(err.Error(), `unknown key "pushh"`) || !errdefs.IsInvalidArgument(err) {
		t.Fatalf("err = %v, want the unknown key named, as errdefs.ErrInvalidArgument", err)
	}
	badCRI := write("badcri.toml", `version = 3
[plugins."io.containerd.cri.v1.images"]
  max_concurrent_downloads = "many"
`)
	if _, err := LoadContainerd(context.Background(), badCRI); err == nil || !errdefs.IsInvalidArgument(err) {
		t.Fatalf("err = %v, want errdefs.ErrInvalidArgument", err)
	}
	// Not a field's value: not errdefs.ErrInvalidArgument.
	if _, err := LoadContainerd(context.Background(), filepath.Join(dir, "missing.toml")); err == nil || errdefs.IsInvalidArgument(err) {
		t.Fatalf("missing file: err = %v, want one that is not errdefs.ErrInvalidArgument", err)
	}
}

// CRI's pull mode comes from the config as containerd reads it: version 2
// sections migrated into version 3 ones, imports merged, CRI's defaults
// under what is set.
func TestLoadContainerdCRIPullMode(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("conf.d/cri.toml", `version = 3
[plugins."io.containerd.cri.v1.images"]
  use_local_image_pull = true
`)
	for _, tt := range []struct {
		name, text, setting, sandbox string
	}{
		{"defaults", "version = 3\n", "", ""},
		{"version 2 discard", `version = 2
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "r.io/pause:1"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    discard_unpacked_layers = true
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
    runtime_type = "io.containerd.runc.v2"
`, "discard_unpacked_layers = true", "r.io/pause:1"},
		// CRI's migration moves the containerd table's keys only when it
		// has a runtimes table (plugins/cri/images migrateConfig): without
		// one, containerd drops the key, and so does the CLI.
		{"version 2 discard without runtimes", `version = 2
[plugins."io.containerd.grpc.v1.cri".containerd]
  discard_unpacked_layers = true
`, "", ""},
		{"version 2 tls-only configs", `version = 2
[plugins."io.containerd.grpc.v1.cri".registry.configs."r.io".tls]
  insecure_skip_verify = true
`, "registry.configs = [r.io]", ""},
		{"version 2 no trigger", `version = 2
[plugins."io.containerd.grpc.v1.cri".containerd]
  disable_snapshot_annotations = true
`, "", ""},
		{"version 2 snapshot annotations", `version = 2
[plugins."io.containerd.grpc.v1.cri".containerd]
  disable_snapshot_annotations = false
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
    runtime_type = "io.containerd.runc.v2"
`, "disable_snapshot_annotations = false", ""},
		{"version 3 import", `version = 3
imports = ["` + filepath.Join(dir, "conf.d", "*.toml") + `"]
[plugins."io.containerd.cri.v1.images".pinned_images]
  sandbox = "r.io/pause:2"
`, "use_local_image_pull = true", "r.io/pause:2"},
		{"version 3 downloads", `version = 3
[plugins."io.containerd.cri.v1.images"]
  max_concurrent_downloads = 10
`, "max_concurrent_downloads = 10", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			node, err := LoadContainerd(context.Background(), write(strings.ReplaceAll(tt.name, " ", "-")+".toml", tt.text))
			if err != nil {
				t.Fatal(err)
			}
			if got := node.CRI.Setting(); got != tt.setting {
				t.Errorf("setting = %q, want %q", got, tt.setting)
			}
			if (tt.setting == "") != (node.CRI.Mode == cripull.Transfer) {
				t.Errorf("mode %s with setting %q", node.CRI.Mode, node.CRI.Setting())
			}
			if tt.sandbox != "" && node.CRI.SandboxImage != tt.sandbox {
				t.Errorf("sandbox image %q, want %q", node.CRI.SandboxImage, tt.sandbox)
			}
		})
	}
}

// TestLoadContainerdHostsDir: CRI's config_path as containerd reads it,
// from the one reading of CRI's image section (a version 2 section's as
// containerd's migration moves it).
func TestLoadContainerdHostsDir(t *testing.T) {
	for _, tt := range []struct{ name, text, want string }{
		{"unset", "version = 3\n", "/etc/containerd/certs.d"},
		{"version 3", "version = 3\n[plugins.\"io.containerd.cri.v1.images\".registry]\n  config_path = \"/a\"\n", "/a"},
		{"version 2", "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\".registry]\n  config_path = \"/b\"\n", "/b"},
		{"a list", "version = 3\n[plugins.\"io.containerd.cri.v1.images\".registry]\n  config_path = \"/a:/b\"\n", "/a:/b"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config.toml")
			if err := os.WriteFile(path, []byte(tt.text), 0o600); err != nil {
				t.Fatal(err)
			}
			node, err := LoadContainerd(context.Background(), path)
			if err != nil || node.HostsDir != tt.want {
				t.Fatalf("HostsDir = %q, %v; want %q", node.HostsDir, err, tt.want)
			}
		})
	}
}
