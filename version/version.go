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

// Package version reports which nodecred a binary carries, the containerd
// it was built against and the Go that built it, for `containerd --version`,
// `nodecred version` and the plugin's exports.
package version

import (
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"

	ctdversion "github.com/containerd/containerd/v2/version"
)

const (
	// Module is nodecred's module path.
	Module = "github.com/nodecred/nodecred"
	// ContainerdModule is the containerd module nodecred builds against.
	ContainerdModule = "github.com/containerd/containerd/v2"
	// unknown is the version when nothing better is known: a build from a
	// copy of the source without git, or a replaced module.
	unknown = "0.0.0-dev"
)

// Version is nodecred's version, set at build time by `make build` and
// `make dist` with
//
//	-ldflags "-X github.com/nodecred/nodecred/version.Version=VERSION"
//
// to `git describe` of a v* tag, without the v (0.1.0, 0.1.0-3-g0123abcd),
// or else 0.0.0-dev+COMMIT. Builds that do not set it (go install, a
// distribution's own containerd importing nodecred) get their version from
// the build information Go records; see Get.
var Version = ""

// Get returns nodecred's version: Version when it was set at build time,
// else the version Go recorded for the nodecred module (go install
// github.com/nodecred/nodecred/cmd/nodecred@v0.1.0, or nodecred required
// by another main module), else 0.0.0-dev+COMMIT from the git commit Go
// recorded, else 0.0.0-dev.
func Get() string {
	info, _ := debug.ReadBuildInfo()
	return get(Version, info)
}

// Containerd returns the version of the containerd module the binary was
// built with (v2.4.2); without build information, containerd's own version
// string (2.4.2+unknown). This package links containerd's version package,
// so the module is always part of the build.
func Containerd() string {
	info, _ := debug.ReadBuildInfo()
	return moduleVersion(info, ContainerdModule, ctdversion.Version)
}

// Go returns the Go version that built the binary.
func Go() string { return runtime.Version() }

// pseudo matches a Go pseudo-version's timestamp and commit, which Go
// records for a main module built from a commit without a tag.
var pseudo = regexp.MustCompile(`-(?:0\.)?\d{14}-[0-9a-f]{12}`)

func get(stamped string, info *debug.BuildInfo) string {
	if stamped != "" {
		return strings.TrimPrefix(stamped, "v")
	}
	if info == nil {
		return unknown
	}
	if info.Main.Path != Module {
		return strings.TrimPrefix(moduleVersion(info, Module, unknown), "v")
	}
	if v := info.Main.Version; v != "" && v != "(devel)" && !pseudo.MatchString(v) {
		return strings.TrimPrefix(v, "v")
	}
	var revision, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if revision == "" {
		return unknown
	}
	v := unknown + "+" + revision[:min(12, len(revision))]
	if modified == "true" {
		v += ".dirty"
	}
	return v
}

// moduleVersion returns the version of module path in info, following a
// replacement; fallback when the module is absent or replaced by a
// directory.
func moduleVersion(info *debug.BuildInfo, path, fallback string) string {
	if info == nil {
		return fallback
	}
	mods := append([]*debug.Module{&info.Main}, info.Deps...)
	for _, m := range mods {
		if m.Path != path {
			continue
		}
		if m.Replace != nil {
			m = m.Replace
		}
		if m.Version == "" || m.Version == "(devel)" {
			return fallback
		}
		return m.Version
	}
	return fallback
}
