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
	"io"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	srvconfig "github.com/containerd/containerd/v2/cmd/containerd/server/config"
	_ "github.com/containerd/containerd/v2/plugins/cri/images" // registers CRI's image service, with its config migration
	"github.com/containerd/errdefs"
	"github.com/containerd/log"
	"github.com/containerd/plugin"
	"github.com/containerd/plugin/registry"
	"github.com/sirupsen/logrus"
)

// TestLoadCRIImagesReadsAsContainerd loads each config with LoadCRIImages
// and with containerd's own loader and CRI images plugin (its config
// migration, its config type and defaults), and checks both read the same.
func TestLoadCRIImagesReadsAsContainerd(t *testing.T) {
	for _, tt := range []struct {
		name  string
		files map[string]string // config.toml and what it imports
		v2    bool              // whether CRI's keys were in a version 2 section, as containerd 2.3+ reads the files
		// mixed is set where the files have different versions: containerd
		// 2.1 and 2.2 merge them first and migrate the merged config from
		// the version their merge gives it, so v2 is whether that is 2.
		mixed bool
		tls   map[string]RegistryTLS // registry.configs.*.tls, which containerd 2.x does not read
	}{{
		name: "version 2",
		files: map[string]string{"config.toml": `version = 2
[plugins."io.containerd.grpc.v1.cri"]
  max_concurrent_downloads = 10
  image_pull_with_sync_fs = true
[plugins."io.containerd.grpc.v1.cri".containerd]
  discard_unpacked_layers = true
  disable_snapshot_annotations = false
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"
[plugins."io.containerd.grpc.v1.cri".registry.mirrors."docker.io"]
  endpoint = ["https://mirror.gcr.io", "https://registry-1.docker.io"]
[plugins."io.containerd.grpc.v1.cri".registry.configs."r.example.com".tls]
  insecure_skip_verify = true
[plugins."io.containerd.grpc.v1.cri".registry.configs."r.example.com".auth]
  username = "robot"
`},
		v2:  true,
		tls: map[string]RegistryTLS{"r.example.com": {InsecureSkipVerify: true}},
	}, {
		name: "version 3",
		files: map[string]string{"config.toml": `version = 3
[plugins."io.containerd.cri.v1.images"]
  use_local_image_pull = true
  discard_unpacked_layers = true
  [plugins."io.containerd.cri.v1.images".registry]
    config_path = "/etc/containerd/certs.d:/etc/docker/certs.d"
  [plugins."io.containerd.cri.v1.images".registry.configs."r.example.com".tls]
    ca_file = "/etc/ca.pem"
`},
		tls: map[string]RegistryTLS{"r.example.com": {CAFile: "/etc/ca.pem"}},
	}, {
		name: "version 3 importing version 2 (k3s-style drop-in)",
		files: map[string]string{
			"config.toml": `version = 3
imports = ["conf.d/*.toml"]
[plugins."io.containerd.cri.v1.images"]
  max_concurrent_downloads = 5
`,
			"conf.d/mirrors.toml": `version = 2
[plugins."io.containerd.grpc.v1.cri".registry.mirrors."*"]
  endpoint = ["https://cache.example.com"]
`,
		},
		v2:    true,
		mixed: true,
	}, {
		name: "version 2 importing version 3: the import's keys win",
		files: map[string]string{
			"config.toml": `version = 2
imports = ["/ABS/extra.toml"]
[plugins."io.containerd.grpc.v1.cri"]
  max_concurrent_downloads = 7
[plugins."io.containerd.grpc.v1.cri".registry.mirrors."quay.io"]
  endpoint = ["https://quay-mirror.example.com"]
`,
			"extra.toml": `version = 3
[plugins."io.containerd.cri.v1.images"]
  max_concurrent_downloads = 4
`,
		},
		v2:    true,
		mixed: true,
	}, {
		name: "version 2 without a runtimes table: containerd drops the containerd table's image keys",
		files: map[string]string{"config.toml": `version = 2
[plugins."io.containerd.grpc.v1.cri".containerd]
  discard_unpacked_layers = true
  disable_snapshot_annotations = false
`},
	}, {
		name:  "no CRI settings: containerd's defaults",
		files: map[string]string{"config.toml": "version = 3\n"},
	}} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, text := range tt.files {
				p := filepath.Join(dir, name)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				text = strings.ReplaceAll(text, "/ABS", dir)
				if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			path := filepath.Join(dir, "config.toml")
			got, err := LoadCRIImages(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			wantV2 := tt.v2
			if !perFileMigration && tt.mixed {
				wantV2 = mergedVersion(t, path) < 3
			}
			if got.V2 != wantV2 {
				t.Errorf("V2 = %t, want %t", got.V2, wantV2)
			}
			for host, rc := range got.Configs {
				if w, ok := tt.tls[host]; (rc.TLS != nil) != ok || ok && *rc.TLS != w {
					t.Errorf("registry.configs.%q.tls = %+v, want %+v", host, rc.TLS, w)
				}
			}
			want := containerdReads(t, path)
			if s := summary(got); s != want {
				t.Errorf("LoadCRIImages read\n %s\ncontainerd reads\n %s", s, want)
			}
		})
	}
}

// containerdReads loads path with containerd's loader and the registered
// plugins' config migrations, decodes CRI's image section into the CRI
// images plugin's own config type over its defaults, and summarises it.
func containerdReads(t *testing.T, path string) string {
	t.Helper()
	regs := registry.Graph(func(*plugin.Registration) bool { return false })
	quiet := logrus.New()
	quiet.SetOutput(io.Discard)
	ctx := log.WithLogger(context.Background(), logrus.NewEntry(quiet))
	c := containerdLoads(ctx, t, regs, path)
	var def any
	for _, r := range regs {
		if r.URI() == CRIImagesSection {
			def = r.Config
		}
	}
	if def == nil {
		t.Fatalf("containerd registered no %s plugin", CRIImagesSection)
	}
	cfg := reflect.New(reflect.TypeOf(def).Elem())
	cfg.Elem().Set(reflect.ValueOf(def).Elem())
	if _, err := c.Decode(ctx, CRIImagesSection, cfg.Interface()); err != nil {
		t.Fatal(err)
	}
	v := cfg.Elem()
	reg := v.FieldByName("Registry")
	mirrors := map[string][]string{}
	it := reg.FieldByName("Mirrors").MapRange()
	for it.Next() {
		mirrors[it.Key().String()] = it.Value().FieldByName("Endpoints").Interface().([]string)
	}
	configs := map[string]bool{}
	it = reg.FieldByName("Configs").MapRange()
	for it.Next() {
		configs[it.Key().String()] = !it.Value().FieldByName("Auth").IsNil()
	}
	return fmt.Sprintf("config_path=%q mirrors=%v configs(with auth)=%v max_concurrent_downloads=%d use_local_image_pull=%t disable_snapshot_annotations=%t discard_unpacked_layers=%t image_pull_with_sync_fs=%t",
		reg.FieldByName("ConfigPath").String(), mirrors, configs, v.FieldByName("MaxConcurrentDownloads").Int(),
		v.FieldByName("UseLocalImagePull").Bool(), v.FieldByName("DisableSnapshotAnnotations").Bool(),
		v.FieldByName("DiscardUnpackedLayers").Bool(), v.FieldByName("ImagePullWithSyncFs").Bool())
}

// mergedVersion is the version containerd's LoadConfig gives the merged
// config at path.
func mergedVersion(t *testing.T, path string) int {
	t.Helper()
	var c srvconfig.Config
	if err := srvconfig.LoadConfig(quietLoader(context.Background()), path, &c); err != nil {
		t.Fatal(err)
	}
	return c.Version
}

func summary(c CRIImages) string {
	configs := map[string]bool{}
	for _, h := range slices.Sorted(maps.Keys(c.Configs)) {
		configs[h] = c.Configs[h].Auth != nil
	}
	return fmt.Sprintf("config_path=%q mirrors=%v configs(with auth)=%v max_concurrent_downloads=%d use_local_image_pull=%t disable_snapshot_annotations=%t discard_unpacked_layers=%t image_pull_with_sync_fs=%t",
		c.Pull.Registry.ConfigPath, c.Mirrors, configs, c.Pull.MaxConcurrentDownloads, c.Pull.UseLocalImagePull, c.Pull.DisableSnapshotAnnotations, c.Pull.DiscardUnpackedLayers, c.Pull.ImagePullWithSyncFs)
}

func TestLoadCRIImagesErrors(t *testing.T) {
	for _, tt := range []struct {
		name, text, want string
		field            bool // a field's value is bad: errdefs.ErrInvalidArgument
	}{
		{"registry.auths key that is not a URL", `version = 3
[plugins."io.containerd.cri.v1.images".registry.auths."http://[::1"]
  username = "u"
`, `registry.auths: key "http://[::1" is not a URL: parse "http://[::1": missing ']' in host`, true},
		{"wrong type", `version = 3
[plugins."io.containerd.cri.v1.images"]
  max_concurrent_downloads = "many"
`, `[plugins."io.containerd.cri.v1.images"]: `, true},
		{"not TOML", "version = \n", "failed to load containerd config", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config.toml")
			if err := os.WriteFile(path, []byte(tt.text), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := LoadCRIImages(context.Background(), path)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %s", err, tt.want)
			}
			if errdefs.IsInvalidArgument(err) != tt.field {
				t.Errorf("errdefs.IsInvalidArgument(%v) = %t, want %t", err, !tt.field, tt.field)
			}
		})
	}
}
