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

package migrate

import (
	"maps"
	"runtime"
	"slices"
	"testing"

	"github.com/nodecred/nodecred/cripull"
)

// TestMigrateKnowsEveryTrigger holds migrate's lists to cripull's: each
// setting that makes CRI pull locally is either moved (movedTriggers) or
// listed with its cost (unmovableTexts), never both, and neither list
// names a setting cripull does not.
func TestMigrateKnowsEveryTrigger(t *testing.T) {
	all := cripull.Settings{
		UseLocalImagePull:          true,
		DisableSnapshotAnnotations: runtime.GOOS == "windows",
		DiscardUnpackedLayers:      true,
		MaxConcurrentDownloads:     8,
		ImagePullWithSyncFs:        true,
		Registry: cripull.Registry{
			Mirrors: map[string]any{"docker.io": nil},
			Configs: map[string]any{"r.example.com": nil},
			Auths:   map[string]any{"https://r.example.com": nil},
		},
	}
	keys := map[string]bool{}
	for _, tr := range all.Triggers() {
		keys[tr.Key] = true
		moved := slices.Contains(movedTriggers, tr.Key)
		_, listed := unmovableTexts[tr.Key]
		if moved == listed {
			t.Errorf("%s: moved %t, listed as unmovable %t; want exactly one", tr.Key, moved, listed)
		}
	}
	for _, k := range append(slices.Clone(movedTriggers), slices.Collect(maps.Keys(unmovableTexts))...) {
		if !keys[k] {
			t.Errorf("migrate names %s, which cripull does not list as a local-pull setting", k)
		}
	}
}
