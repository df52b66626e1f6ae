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
	"bytes"
	"fmt"

	"github.com/pelletier/go-toml/v2"

	// containerdcompat imports CRI's image service, whose registration
	// carries CRI's own defaults.
	"github.com/nodecred/nodecred/internal/containerdcompat"
	"github.com/nodecred/nodecred/internal/fielderr"
)

// requiredKeys are the keys of CRI's image config that the rules read. CRI's
// config type lives in containerd's internal/cri/config, so it is read by
// its TOML keys, the names operators write and containerd keeps stable;
// FromConfig fails, naming the key, when a containerd no longer has one.
var requiredKeys = []string{
	"use_local_image_pull", "disable_snapshot_annotations", "discard_unpacked_layers",
	"max_concurrent_downloads", "image_pull_with_sync_fs", "registry", "pinned_images",
}

// FromConfig reads the settings from CRI's image config as containerd
// holds it (the *ImageConfig of the CRI images plugin), through its TOML
// encoding.
func FromConfig(cfg any) (Settings, error) {
	b, err := toml.Marshal(cfg)
	if err != nil {
		return Settings{}, fmt.Errorf("failed to encode CRI's image config (%T): %w", cfg, err)
	}
	var keys map[string]any
	if err := toml.Unmarshal(b, &keys); err != nil {
		return Settings{}, fmt.Errorf("failed to decode CRI's image config (%T): %w", cfg, err)
	}
	for _, k := range requiredKeys {
		if _, ok := keys[k]; !ok {
			return Settings{}, fmt.Errorf("CRI's image config (%T) has no key %q: this containerd's CRI is not one nodecred knows", cfg, k)
		}
	}
	var s Settings
	if err := toml.Unmarshal(b, &s); err != nil {
		return Settings{}, fmt.Errorf("failed to decode CRI's image config (%T): %w", cfg, err)
	}
	return s, nil
}

// Defaults are CRI's image settings when its section is empty, from the
// registration of the CRI images plugin compiled in.
func Defaults() (Settings, error) {
	r := containerdcompat.Registration(containerdcompat.CRIImages)
	if r == nil {
		return Settings{}, fmt.Errorf("no %s plugin is registered", containerdcompat.CRIImages)
	}
	return FromConfig(r.Config)
}

// FromSection reads the settings from CRI's image section as decoded from
// containerd's config file (migrated to version 3 or later), over CRI's
// defaults, as containerd decodes a plugin's section over its default
// config. Unknown keys are ignored, as containerd ignores them.
func FromSection(section map[string]any) (Settings, error) {
	s, err := Defaults()
	if err != nil {
		return Settings{}, err
	}
	if len(section) == 0 {
		return s, nil
	}
	b, err := toml.Marshal(section)
	if err != nil {
		return Settings{}, fmt.Errorf("[plugins.%q]: %w", Section, err)
	}
	if err := toml.NewDecoder(bytes.NewReader(b)).Decode(&s); err != nil {
		// A value of the wrong type.
		return Settings{}, fielderr.New(fmt.Sprintf("[plugins.%q]", Section), "%w", err)
	}
	return s, nil
}
