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
	"fmt"
	"slices"

	"github.com/nodecred/nodecred/cripull"
	"github.com/nodecred/nodecred/nodeconfig"
)

// movedTriggers are the local-pull settings (cripull's triggers) that
// migrate moves onto the transfer service; every other trigger is listed
// by unmovable. TestMigrateKnowsEveryTrigger holds the two lists to
// cripull's.
var movedTriggers = []string{"registry.mirrors", "registry.configs", "registry.auths", "max_concurrent_downloads"}

// unmovableTexts say, for each local-pull setting that has no
// transfer-service equivalent, by its trigger key, what to change in
// table, the table that holds it, and what that costs.
var unmovableTexts = map[string]func(s cripull.Settings, table string) string{
	"use_local_image_pull": func(_ cripull.Settings, table string) string {
		return fmt.Sprintf("use_local_image_pull = true in %s: delete it. It costs nothing of itself; it is set to keep one of the behaviours below, or by habit.", table)
	},
	"disable_snapshot_annotations": func(s cripull.Settings, table string) string {
		return fmt.Sprintf("disable_snapshot_annotations = %t in %s: set it to %t. A remote snapshotter (stargz, SOCI, nydus) then gets its layer annotations only if its [proxy_plugins] table exports enable_remote_snapshot_annotations = \"true\"; without that it pulls whole images instead of lazily.", s.DisableSnapshotAnnotations, table, !s.DisableSnapshotAnnotations)
	},
	"discard_unpacked_layers": func(_ cripull.Settings, table string) string {
		return fmt.Sprintf("discard_unpacked_layers = true in %s: delete it. The content store then keeps each image's compressed layers after unpacking: about the compressed size of every image on the node, in addition to the unpacked snapshots.", table)
	},
	"image_pull_with_sync_fs": func(_ cripull.Settings, table string) string {
		return fmt.Sprintf("image_pull_with_sync_fs = true in %s: delete it. Unpacked layers are then no longer synced to disk before the pull completes, so a power loss just after a pull can leave a layer that must be pulled again.", table)
	},
}

// sets reports whether s sets the local-pull setting key.
func sets(s cripull.Settings, key string) bool {
	return slices.ContainsFunc(s.Triggers(), func(t cripull.Trigger) bool { return t.Key == key })
}

// unmovable lists the local-pull settings that have no transfer-service
// equivalent, each with what changing it costs: cripull's triggers that
// migrate does not move.
func unmovable(cri nodeconfig.CRIImages) []string {
	var out []string
	for _, t := range cri.Pull.Triggers() {
		if slices.Contains(movedTriggers, t.Key) {
			continue
		}
		if text, ok := unmovableTexts[t.Key]; ok {
			out = append(out, text(cri.Pull, t.Table(cri.V2)))
		} else {
			out = append(out, fmt.Sprintf("%s in %s: %s", t, t.Table(cri.V2), t.Fix))
		}
	}
	return out
}
