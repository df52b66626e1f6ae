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

// Package nodeconfig reads a node's containerd config.toml as containerd
// itself does (imports, version migrations, CRI's defaults) for the CLI:
// the nodecred section, CRI's pull mode and hosts directory, and the
// deprecated CRI registry tables that migrate moves. The daemon never uses
// it: containerd hands the plugin its own section, which package config
// parses.
package nodeconfig

import (
	"context"
	"io"

	"github.com/containerd/log"
	"github.com/sirupsen/logrus"
)

// quietLoader keeps containerd's loader from logging its migrations and
// unknown keys into the CLI's output, which is its own.
func quietLoader(ctx context.Context) context.Context {
	quiet := logrus.New()
	quiet.SetOutput(io.Discard)
	return log.WithLogger(ctx, logrus.NewEntry(quiet))
}

// holdsCRIImageKeys reports whether a version 2 config's
// [plugins."io.containerd.grpc.v1.cri"] section holds image keys that CRI's
// migration moves (plugins/cri/images configMigration): then the operator
// edits them there. containerd moves the containerd table's keys only
// when that table also has a runtimes table; without one it drops them.
func holdsCRIImageKeys(section any) bool {
	src, ok := section.(map[string]any)
	if !ok {
		return false
	}
	for _, k := range []string{"registry", "max_concurrent_downloads", "image_pull_with_sync_fs"} {
		if _, ok := src[k]; ok {
			return true
		}
	}
	ctrd, _ := src["containerd"].(map[string]any)
	if _, ok := ctrd["runtimes"]; !ok {
		return false
	}
	_, annotations := ctrd["disable_snapshot_annotations"]
	_, discard := ctrd["discard_unpacked_layers"]
	return annotations || discard
}
