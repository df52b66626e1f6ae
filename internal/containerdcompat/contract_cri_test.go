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

package containerdcompat_test

import (
	"context"
	"reflect"
	"runtime"
	"testing"

	srvconfig "github.com/containerd/containerd/v2/cmd/containerd/server/config"
	"github.com/containerd/containerd/v2/core/metadata"
	"github.com/containerd/containerd/v2/pkg/deprecation"
	"github.com/containerd/containerd/v2/plugins"
	"github.com/containerd/containerd/v2/plugins/services/warning"
	"github.com/containerd/plugin"
	"github.com/pelletier/go-toml/v2"

	"github.com/nodecred/nodecred/cripull"
	"github.com/nodecred/nodecred/internal/containerdcompat"
)

// warnings stands in for containerd's warning service, which CRI's image
// service tells of deprecated settings.
type warnings struct{ warning.Service }

func (warnings) Emit(context.Context, deprecation.Warning) {}

// TestContractCRIImagesConfig guards the reading of CRI's pull mode
// (cripull/read.go, cri.go): CRI's image service decodes its section in
// place into its registration's config, a pointer whose TOML encoding has
// every key cripull reads; and its InitFn, given that config as
// ic.Config, sets use_local_image_pull there exactly when cripull's rules
// say CRI pulls locally, before it asks for the transfer plugin.
func TestContractCRIImagesConfig(t *testing.T) {
	r := containerdcompat.Registration(containerdcompat.CRIImages)
	if r == nil {
		t.Fatalf("%s is not registered", containerdcompat.CRIImages)
	}
	cfg := reflect.ValueOf(r.Config)
	if cfg.Kind() != reflect.Pointer || cfg.Elem().Kind() != reflect.Struct {
		t.Fatalf("%s's config is a %T, not a pointer to a struct", containerdcompat.CRIImages, r.Config)
	}
	if _, err := cripull.FromConfig(r.Config); err != nil {
		t.Fatal(err)
	}
	defaults := cfg.Elem().Interface()
	t.Cleanup(func() { cfg.Elem().Set(reflect.ValueOf(defaults)) })

	sections := []string{
		``,
		`use_local_image_pull = true`,
		`discard_unpacked_layers = true`,
		`max_concurrent_downloads = 7`,
		`image_pull_with_sync_fs = true`,
		"[registry.mirrors.\"docker.io\"]\nendpoint = [\"https://m.io\"]",
		"[registry.configs.\"r.io\".auth]\nusername = \"u\"",
		"[registry.auths.\"https://a.io\"]\nusername = \"u\"",
	}
	if runtime.GOOS == "linux" {
		sections = append(sections, `disable_snapshot_annotations = false`)
	}
	for _, section := range sections {
		t.Run(section, func(t *testing.T) {
			cfg.Elem().Set(reflect.ValueOf(defaults))
			var raw map[string]any
			if err := toml.Unmarshal([]byte(section), &raw); err != nil {
				t.Fatal(err)
			}
			c := srvconfig.Config{Plugins: map[string]any{containerdcompat.CRIImages.String(): raw}}
			pc, err := c.Decode(context.Background(), containerdcompat.CRIImages.String(), r.Config)
			if err != nil {
				t.Fatal(err)
			}
			if pc != r.Config {
				t.Fatal("containerd decoded the section into a copy, not the registration's config")
			}
			before, err := cripull.FromConfig(pc)
			if err != nil {
				t.Fatal(err)
			}
			want := cripull.Decide(before).Mode == cripull.Local

			set := plugin.NewPluginSet()
			for _, s := range []*plugin.Registration{
				{Type: plugins.MetadataPlugin, ID: "bolt", InitFn: func(*plugin.InitContext) (any, error) { return metadata.NewDB(nil, nil, nil), nil }},
				{Type: plugins.WarningPlugin, ID: "deprecations", InitFn: func(*plugin.InitContext) (any, error) { return warnings{}, nil }},
			} {
				if err := set.Add(s.Init(plugin.NewContext(context.Background(), set, nil))); err != nil {
					t.Fatal(err)
				}
			}
			ic := plugin.NewContext(context.Background(), set, nil)
			ic.Config = pc
			// No transfer plugin is there: the InitFn fails after deciding.
			_, initErr := r.Init(ic).Instance()
			after, err := cripull.FromConfig(pc)
			if err != nil {
				t.Fatal(err)
			}
			if after.UseLocalImagePull != want {
				t.Errorf("CRI's InitFn left use_local_image_pull = %v; cripull decides local = %v (InitFn: %v)", after.UseLocalImagePull, want, initErr)
			}
		})
	}
}
