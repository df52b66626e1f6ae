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

// Package cripull tells whether containerd's CRI pulls images through the
// transfer service, where nodecred serves them, or by itself ("local pull
// mode"), where nodecred is never asked, and which setting made it so. The
// rules are those of CheckLocalImagePullConfigs in containerd's
// internal/cri/config, the same list in containerd 2.1.9, 2.2.9, 2.3.7 and
// 2.4.2, applied in its order.
//
// The daemon reads CRI's live image config (FromConfig) and the CLI reads
// containerd's config file (FromSection, through package config); both
// decide with Decide. Its triggers are the one list of these settings:
// `nodecred migrate` lists those it cannot move from Triggers, in the
// table each is written in (Trigger.Table).
package cripull

import (
	"fmt"
	"runtime"
	"sort"
	"strings"
)

// Section is CRI's image service config section in a version 3 or 4
// config; a version 2 config's [plugins."io.containerd.grpc.v1.cri"] keys
// are migrated into it.
const Section = "io.containerd.cri.v1.images"

// V2Section is CRI's section in a version 2 config, whose image keys
// containerd's migration moves into Section.
const V2Section = "io.containerd.grpc.v1.cri"

// defaultMaxConcurrentDownloads is CRI's default; any other value makes CRI
// pull locally.
const defaultMaxConcurrentDownloads = 3

// Settings are the keys of CRI's image config that decide its pull mode,
// under their TOML names.
type Settings struct {
	// UseLocalImagePull asks for local pull mode outright.
	UseLocalImagePull bool `toml:"use_local_image_pull"`
	// DisableSnapshotAnnotations stops CRI passing snapshot annotations
	// (true by default, except on Windows).
	DisableSnapshotAnnotations bool `toml:"disable_snapshot_annotations"`
	// DiscardUnpackedLayers drops compressed layers once unpacked.
	DiscardUnpackedLayers bool `toml:"discard_unpacked_layers"`
	// MaxConcurrentDownloads bounds a pull's layer downloads (default 3).
	MaxConcurrentDownloads int `toml:"max_concurrent_downloads"`
	// ImagePullWithSyncFs syncs unpacked layers to disk before a pull
	// returns.
	ImagePullWithSyncFs bool `toml:"image_pull_with_sync_fs"`
	// Registry is the registry table.
	Registry Registry `toml:"registry"`
	// PinnedImages are the images CRI keeps, by role ("sandbox").
	PinnedImages map[string]string `toml:"pinned_images"`
}

// Registry is CRI's registry table. The deprecated tables are kept only
// as their host names: an auth entry's values are never read.
type Registry struct {
	// ConfigPath is the hosts directory (a list, in local pull mode);
	// empty when unset.
	ConfigPath string `toml:"config_path"`
	// Mirrors is the deprecated registry.mirrors, by host.
	Mirrors map[string]any `toml:"mirrors"`
	// Configs is the deprecated registry.configs, by host.
	Configs map[string]any `toml:"configs"`
	// Auths is the deprecated registry.auths, by URL.
	Auths map[string]any `toml:"auths"`
}

// SandboxImage is the image CRI pulls for each pod sandbox.
func (s Settings) SandboxImage() string { return s.PinnedImages["sandbox"] }

// Trigger is one setting that makes CRI pull locally.
type Trigger struct {
	// Key is the key under CRI's image section: "discard_unpacked_layers",
	// "registry.mirrors".
	Key string `json:"key"`
	// Value is the value set; for the registry tables, the hosts they
	// name (never an auth entry's values).
	Value string `json:"value"`
	// Fix says what to change to pull through the transfer service, and
	// what that costs.
	Fix string `json:"fix"`
}

// String is "key = value" in the section.
func (t Trigger) String() string { return t.Key + " = " + t.Value }

// Table is the table an operator writes the trigger's key in: Section,
// or, with v2 (a version 2 config that keeps CRI's image keys in CRI's
// version 2 section), that version 2 section, from which containerd's
// migration lays them over Section (so a value set in Section there is
// overridden): the snapshot keys in its containerd table, and
// use_local_image_pull, which the migration does not move, in Section
// still.
func (t Trigger) Table(v2 bool) string {
	switch {
	case !v2 || t.Key == "use_local_image_pull":
		return fmt.Sprintf("[plugins.%q]", Section)
	case t.Key == "disable_snapshot_annotations" || t.Key == "discard_unpacked_layers":
		return fmt.Sprintf("[plugins.%q.containerd]", V2Section)
	}
	return fmt.Sprintf("[plugins.%q]", V2Section)
}

// table names the table that holds the key in either config version.
func (t Trigger) table() string {
	v3, v2 := t.Table(false), t.Table(true)
	if v2 == v3 {
		return v3
	}
	return fmt.Sprintf("%s (in a version 2 config, %s)", v3, v2)
}

// Triggers lists the settings that make CRI pull locally:
// use_local_image_pull first, then the others in the order containerd
// checks them. Decide's verdict names the same, as its Reason and Others.
func (s Settings) Triggers() []Trigger { return s.triggers(runtime.GOOS) }

func (s Settings) triggers(goos string) []Trigger {
	var ts []Trigger
	if s.UseLocalImagePull {
		ts = append(ts, explicit)
	}
	// CRI passes snapshot annotations itself only in local pull mode; the
	// transfer service leaves them to the snapshotter.
	if annotations := !s.DisableSnapshotAnnotations; goos != "windows" && annotations {
		ts = append(ts, Trigger{Key: "disable_snapshot_annotations", Value: "false",
			Fix: "set it to true; a remote snapshotter (stargz, SOCI) then needs its own image-pull handling, as its documentation for the transfer service says"})
	} else if goos == "windows" && s.DisableSnapshotAnnotations {
		ts = append(ts, Trigger{Key: "disable_snapshot_annotations", Value: "true",
			Fix: "remove it (false is Windows' default)"})
	}
	if s.DiscardUnpackedLayers {
		ts = append(ts, Trigger{Key: "discard_unpacked_layers", Value: "true",
			Fix: "set it to false; the content store then keeps each image's compressed layers after unpacking (more disk per image)"})
	}
	if len(s.Registry.Mirrors) > 0 {
		ts = append(ts, Trigger{Key: "registry.mirrors", Value: hosts(s.Registry.Mirrors),
			Fix: "move the mirrors to hosts.toml files under registry.config_path and remove the table"})
	}
	if len(s.Registry.Configs) > 0 {
		ts = append(ts, Trigger{Key: "registry.configs", Value: hosts(s.Registry.Configs),
			Fix: "move TLS settings to hosts.toml files under registry.config_path and credentials to a nodecred source, and remove the table"})
	}
	if len(s.Registry.Auths) > 0 {
		ts = append(ts, Trigger{Key: "registry.auths", Value: hosts(s.Registry.Auths),
			Fix: "move the credentials to a nodecred source and remove the table"})
	}
	if s.MaxConcurrentDownloads != defaultMaxConcurrentDownloads {
		ts = append(ts, Trigger{Key: "max_concurrent_downloads", Value: fmt.Sprint(s.MaxConcurrentDownloads),
			Fix: fmt.Sprintf(`remove it and set max_concurrent_downloads = %d in [plugins."io.containerd.transfer.v1.local"]`, s.MaxConcurrentDownloads)})
	}
	if s.ImagePullWithSyncFs {
		ts = append(ts, Trigger{Key: "image_pull_with_sync_fs", Value: "true",
			Fix: "set it to false; the transfer service has no equivalent (unpacked layers are not synced to disk before the pull returns)"})
	}
	return ts
}

// explicit is the trigger use_local_image_pull = true.
var explicit = Trigger{Key: "use_local_image_pull", Value: "true", Fix: "set it to false (and change the other settings listed, if any)"}

// hosts lists a registry table's hosts, sorted.
func hosts(m map[string]any) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return "[" + strings.Join(keys, ", ") + "]"
}

// Mode is how CRI pulls images.
type Mode string

const (
	// Transfer: CRI pulls through the transfer service; nodecred serves
	// its pulls.
	Transfer Mode = "transfer"
	// Local: CRI pulls by itself; nodecred is never asked for CRI pulls.
	Local Mode = "local"
)

// Verdict is CRI's pull mode and why.
type Verdict struct {
	// Mode is how CRI pulls images.
	Mode Mode `json:"mode"`
	// Reason is the setting that makes CRI pull locally; nil in transfer
	// mode, and nil in local mode when containerd decided so for a setting
	// these rules do not know (Unknown).
	Reason *Trigger `json:"reason,omitempty"`
	// Others are further triggers that are set: each must change too.
	Others []Trigger `json:"others,omitempty"`
	// Unknown is set when containerd pulls locally for no setting known
	// here (a containerd newer than these rules).
	Unknown bool `json:"unknown,omitempty"`
	// SandboxImage is the image CRI pulls for each pod sandbox.
	SandboxImage string `json:"sandbox_image,omitempty"`
}

// Decide applies containerd's rules to settings as configured, before CRI
// starts.
func Decide(s Settings) Verdict { return decide(s, runtime.GOOS) }

func decide(s Settings, goos string) Verdict {
	v := Verdict{Mode: Transfer, SandboxImage: s.SandboxImage()}
	ts := s.triggers(goos)
	if len(ts) > 0 {
		v.Mode, v.Reason, v.Others = Local, &ts[0], ts[1:]
	}
	return v
}

// Observe decides from CRI's settings as configured (before) and as CRI
// left them once started (after): containerd sets use_local_image_pull
// when it falls back to local pulls, so after says which mode CRI runs in,
// and before says why.
func Observe(before, after Settings) Verdict {
	v := Decide(before)
	switch {
	case after.UseLocalImagePull && v.Mode == Transfer:
		v.Mode, v.Unknown = Local, true
	case !after.UseLocalImagePull && v.Mode == Local:
		// containerd's own decision is the truth; these rules were wrong.
		v = Verdict{Mode: Transfer, SandboxImage: v.SandboxImage}
	}
	return v
}

// Setting names the reason for logs and exports: "discard_unpacked_layers
// = true", "unknown", or "" in transfer mode.
func (v Verdict) Setting() string {
	switch {
	case v.Reason != nil:
		return v.Reason.String()
	case v.Unknown:
		return "unknown"
	}
	return ""
}

// Summary says, in one sentence, what local pull mode means and how to
// leave it; "" in transfer mode.
func (v Verdict) Summary() string {
	if v.Mode != Local {
		return ""
	}
	var b strings.Builder
	b.WriteString("CRI pulls images without the transfer service (local pull mode)")
	if v.Reason != nil {
		fmt.Fprintf(&b, " because %s sets %s", v.Reason.table(), v.Reason)
	} else {
		b.WriteString(" for a setting this nodecred does not know")
	}
	b.WriteString(": CRI pulls")
	if v.SandboxImage != "" {
		fmt.Fprintf(&b, ", the sandbox image %s among them,", v.SandboxImage)
	}
	b.WriteString(" get no node credentials; transfer API clients (ctr, nerdctl, nodecred pull) still do")
	if v.Reason != nil {
		fmt.Fprintf(&b, ". To fix: %s", v.Reason.Fix)
		for _, o := range v.Others {
			fmt.Fprintf(&b, "; also %s: %s", o, o.Fix)
		}
	}
	return b.String()
}
