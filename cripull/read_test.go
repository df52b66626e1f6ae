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

package cripull

import (
	"context"
	"reflect"
	"runtime"
	"strings"
	"testing"

	srvconfig "github.com/containerd/containerd/v2/cmd/containerd/server/config"
	"github.com/containerd/containerd/v2/plugins"
	"github.com/containerd/errdefs"
	"github.com/containerd/plugin"
	"github.com/containerd/plugin/registry"
	"github.com/pelletier/go-toml/v2"
)

// criConfig returns a fresh, zero CRI image config of the type the CRI
// images plugin compiled in decodes its section into.
func criConfig(t *testing.T) any { return criConfigOf(t) }

// criConfigOf returns a fresh CRI image config with CRI's defaults, as
// containerd decodes a section into: a copy of the registration's, which
// containerd decodes into in place.
func criConfigOf(t testing.TB) any {
	t.Helper()
	for _, r := range registry.Graph(func(*plugin.Registration) bool { return false }) {
		if r.Type == plugins.CRIServicePlugin && r.ID == "images" {
			fresh := reflect.New(reflect.TypeOf(r.Config).Elem())
			b, err := toml.Marshal(r.Config)
			if err != nil {
				t.Fatal(err)
			}
			if err := toml.Unmarshal(b, fresh.Interface()); err != nil {
				t.Fatal(err)
			}
			return fresh.Interface()
		}
	}
	t.Fatal("no CRI images plugin registered")
	return nil
}

func TestDefaultsAreCRIs(t *testing.T) {
	s, err := Defaults()
	if err != nil {
		t.Fatal(err)
	}
	if s.MaxConcurrentDownloads != 3 || s.UseLocalImagePull || s.DiscardUnpackedLayers || s.ImagePullWithSyncFs {
		t.Errorf("defaults = %+v", s)
	}
	if runtime.GOOS == "linux" && !s.DisableSnapshotAnnotations {
		t.Errorf("disable_snapshot_annotations defaults to false on Linux")
	}
	if !strings.HasPrefix(s.SandboxImage(), "registry.k8s.io/pause:") {
		t.Errorf("sandbox image %q", s.SandboxImage())
	}
	if v := Decide(s); v.Mode != Transfer {
		t.Errorf("CRI's defaults decide %+v", v)
	}
}

// A section setting every key the rules read, decoded by containerd into
// CRI's own config type and read back through FromConfig, gives the
// settings FromSection reads from the same section: every key reaches
// CRI's config under the name read here. This fails when a containerd
// renames or drops a key.
func TestFromConfigReadsEveryKeyOfCRIsConfig(t *testing.T) {
	const section = `
use_local_image_pull = true
disable_snapshot_annotations = false
discard_unpacked_layers = true
max_concurrent_downloads = 7
image_pull_with_sync_fs = true
[pinned_images]
  sandbox = "r.io/pause:1"
[registry]
  config_path = ""
[registry.mirrors."docker.io"]
  endpoint = ["https://m.io"]
[registry.configs."r.io".auth]
  username = "u"
[registry.auths."https://a.io"]
  username = "u"
`
	var raw map[string]any
	if err := toml.Unmarshal([]byte(section), &raw); err != nil {
		t.Fatal(err)
	}
	c := srvconfig.Config{Plugins: map[string]any{Section: raw}}
	cfg, err := c.Decode(context.Background(), Section, criConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	fromCRI, err := FromConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	fromFile, err := FromSection(raw)
	if err != nil {
		t.Fatal(err)
	}
	a, b := Decide(fromCRI), Decide(fromFile)
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("CRI's config decides %+v, the section %+v", a, b)
	}
	want := []string{"use_local_image_pull = true", "disable_snapshot_annotations = false", "discard_unpacked_layers = true",
		"registry.mirrors = [docker.io]", "registry.configs = [r.io]", "registry.auths = [https://a.io]",
		"max_concurrent_downloads = 7", "image_pull_with_sync_fs = true"}
	got := []string{a.Setting()}
	for _, o := range a.Others {
		got = append(got, o.String())
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("triggers = %v\nwant       %v", got, want)
	}
	if a.SandboxImage != "r.io/pause:1" {
		t.Errorf("sandbox image %q", a.SandboxImage)
	}
}

func TestFromConfigNamesAMissingKey(t *testing.T) {
	type older struct {
		UseLocalImagePull bool `toml:"use_local_image_pull"`
	}
	_, err := FromConfig(&older{})
	if err == nil || !strings.Contains(err.Error(), `"disable_snapshot_annotations"`) {
		t.Fatalf("err = %v, want the missing key named", err)
	}
}

func TestFromSectionOverDefaults(t *testing.T) {
	s, err := FromSection(map[string]any{"discard_unpacked_layers": true, "unknown_key": 1})
	if err != nil {
		t.Fatal(err)
	}
	if !s.DiscardUnpackedLayers || s.MaxConcurrentDownloads != 3 || s.SandboxImage() == "" {
		t.Errorf("got %+v", s)
	}
	want := `[plugins."io.containerd.cri.v1.images"]: toml: cannot decode TOML string into struct field cripull.Settings.MaxConcurrentDownloads of type int`
	if _, err := FromSection(map[string]any{"max_concurrent_downloads": "many"}); err == nil || err.Error() != want || !errdefs.IsInvalidArgument(err) {
		t.Errorf("a string max_concurrent_downloads: err = %v, want %s, as errdefs.ErrInvalidArgument", err, want)
	}
}
