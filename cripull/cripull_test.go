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
	"reflect"
	"runtime"
	"strings"
	"testing"
)

// transferDefaults are CRI's Linux defaults: no trigger set.
func transferDefaults() Settings {
	return Settings{DisableSnapshotAnnotations: true, MaxConcurrentDownloads: 3,
		PinnedImages: map[string]string{"sandbox": "registry.k8s.io/pause:3.10"}}
}

func TestDecide(t *testing.T) {
	for _, tc := range []struct {
		name   string
		goos   string
		edit   func(*Settings)
		reason string // "" for transfer mode
		others []string
	}{
		{"defaults", "linux", func(*Settings) {}, "", nil},
		{"explicit", "linux", func(s *Settings) { s.UseLocalImagePull = true }, "use_local_image_pull = true", nil},
		{"snapshot annotations", "linux", func(s *Settings) { s.DisableSnapshotAnnotations = false }, "disable_snapshot_annotations = false", nil},
		{"snapshot annotations on windows", "windows", func(s *Settings) { s.DisableSnapshotAnnotations = true }, "disable_snapshot_annotations = true", nil},
		{"windows default", "windows", func(s *Settings) { s.DisableSnapshotAnnotations = false }, "", nil},
		{"discard", "linux", func(s *Settings) { s.DiscardUnpackedLayers = true }, "discard_unpacked_layers = true", nil},
		{"mirrors", "linux", func(s *Settings) { s.Registry.Mirrors = map[string]any{"docker.io": nil, "b.io": nil} }, "registry.mirrors = [b.io, docker.io]", nil},
		{"configs with tls only", "linux", func(s *Settings) { s.Registry.Configs = map[string]any{"r.io": map[string]any{}} }, "registry.configs = [r.io]", nil},
		{"auths", "linux", func(s *Settings) { s.Registry.Auths = map[string]any{"https://r.io": nil} }, "registry.auths = [https://r.io]", nil},
		{"downloads", "linux", func(s *Settings) { s.MaxConcurrentDownloads = 10 }, "max_concurrent_downloads = 10", nil},
		{"sync fs", "linux", func(s *Settings) { s.ImagePullWithSyncFs = true }, "image_pull_with_sync_fs = true", nil},
		{"config path alone", "linux", func(s *Settings) { s.Registry.ConfigPath = "/etc/containerd/certs.d" }, "", nil},
		// Talos sets both: the explicit key is named first, and the
		// other must change too.
		{"explicit and discard", "linux", func(s *Settings) { s.UseLocalImagePull, s.DiscardUnpackedLayers = true, true },
			"use_local_image_pull = true", []string{"discard_unpacked_layers = true"}},
		// containerd's order: annotations before discard.
		{"stargz on EKS", "linux", func(s *Settings) { s.DisableSnapshotAnnotations, s.DiscardUnpackedLayers = false, true },
			"disable_snapshot_annotations = false", []string{"discard_unpacked_layers = true"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := transferDefaults()
			if tc.goos == "windows" {
				s.DisableSnapshotAnnotations = false
			}
			tc.edit(&s)
			v := decide(s, tc.goos)
			if tc.reason == "" {
				if v.Mode != Transfer || v.Reason != nil || v.Summary() != "" {
					t.Fatalf("got %+v, want transfer mode", v)
				}
				return
			}
			if v.Mode != Local || v.Reason == nil || v.Reason.String() != tc.reason {
				t.Fatalf("got mode %s reason %v, want local for %s", v.Mode, v.Reason, tc.reason)
			}
			var others []string
			for _, o := range v.Others {
				others = append(others, o.String())
			}
			if !reflect.DeepEqual(others, tc.others) {
				t.Errorf("others = %v, want %v", others, tc.others)
			}
			if v.Reason.Fix == "" {
				t.Errorf("%s has no fix", tc.reason)
			}
			sum := v.Summary()
			for _, want := range []string{tc.reason, v.Reason.Fix, "registry.k8s.io/pause:3.10", "local pull mode", "transfer API clients"} {
				if !strings.Contains(sum, want) {
					t.Errorf("summary %q lacks %q", sum, want)
				}
			}
		})
	}
}

func TestDecideIsDecideOnThisOS(t *testing.T) {
	s := transferDefaults()
	s.DiscardUnpackedLayers = true
	if got, want := Decide(s), decide(s, "linux"); !reflect.DeepEqual(got, want) {
		t.Errorf("Decide = %+v, want %+v", got, want)
	}
}

func TestObserve(t *testing.T) {
	fallback := transferDefaults()
	fallback.DiscardUnpackedLayers = true
	fellBack := fallback
	fellBack.UseLocalImagePull = true // what CheckLocalImagePullConfigs leaves

	v := Observe(fallback, fellBack)
	if v.Mode != Local || v.Setting() != "discard_unpacked_layers = true" {
		t.Errorf("fallback: got %s %q", v.Mode, v.Setting())
	}

	// containerd fell back for a setting these rules do not know.
	plain := transferDefaults()
	local := plain
	local.UseLocalImagePull = true
	v = Observe(plain, local)
	if v.Mode != Local || !v.Unknown || v.Setting() != "unknown" || !strings.Contains(v.Summary(), "does not know") {
		t.Errorf("unknown trigger: got %+v", v)
	}

	// containerd pulls through the transfer service although these rules
	// say local: containerd's decision stands.
	v = Observe(fallback, fallback)
	if v.Mode != Transfer || v.Setting() != "" {
		t.Errorf("containerd stayed on transfer: got %+v", v)
	}

	v = Observe(plain, plain)
	if v.Mode != Transfer || v.SandboxImage != "registry.k8s.io/pause:3.10" {
		t.Errorf("transfer: got %+v", v)
	}
}

// Auth entries' values never reach a trigger, a summary or a fix.
func TestTriggersNameHostsOnly(t *testing.T) {
	s := transferDefaults()
	s.Registry.Configs = map[string]any{"r.io": map[string]any{"auth": map[string]any{"password": "hunter2"}}}
	s.Registry.Auths = map[string]any{"r.io": map[string]any{"auth": "aHVudGVyMg=="}}
	v := Decide(s)
	text := v.Summary()
	for _, tr := range append([]Trigger{*v.Reason}, v.Others...) {
		text += tr.String() + tr.Fix
	}
	for _, secret := range []string{"hunter2", "aHVudGVyMg=="} {
		if strings.Contains(text, secret) {
			t.Errorf("%q shows %s", text, secret)
		}
	}
}

// The summary names the table an operator edits: a version 2 config keeps
// the keys in CRI's version 2 section, the snapshot keys in its containerd
// table, and containerd's migration lays them over the version 3 section.
func TestSummaryNamesTheVersion2Table(t *testing.T) {
	for _, tc := range []struct {
		set  func(*Settings)
		want string
	}{
		{func(s *Settings) { s.DiscardUnpackedLayers = true },
			`because [plugins."io.containerd.cri.v1.images"] (in a version 2 config, [plugins."io.containerd.grpc.v1.cri".containerd]) sets discard_unpacked_layers = true:`},
		{func(s *Settings) { s.Registry.Mirrors = map[string]any{"docker.io": nil} },
			`because [plugins."io.containerd.cri.v1.images"] (in a version 2 config, [plugins."io.containerd.grpc.v1.cri"]) sets registry.mirrors = [docker.io]:`},
		{func(s *Settings) { s.UseLocalImagePull = true },
			`because [plugins."io.containerd.cri.v1.images"] sets use_local_image_pull = true:`},
	} {
		s := transferDefaults()
		tc.set(&s)
		if sum := decide(s, "linux").Summary(); !strings.Contains(sum, tc.want) {
			t.Errorf("summary %q lacks %q", sum, tc.want)
		}
	}
}

// TestTable: a version 2 config keeps CRI's image keys in CRI's version 2
// section, but not use_local_image_pull, which containerd's migration does
// not move.
func TestTable(t *testing.T) {
	const v3, v2, v2ctrd = `[plugins."io.containerd.cri.v1.images"]`, `[plugins."io.containerd.grpc.v1.cri"]`, `[plugins."io.containerd.grpc.v1.cri".containerd]`
	for _, tt := range []struct {
		key        string
		inV3, inV2 string
	}{
		{"use_local_image_pull", v3, v3},
		{"disable_snapshot_annotations", v3, v2ctrd},
		{"discard_unpacked_layers", v3, v2ctrd},
		{"registry.mirrors", v3, v2},
		{"max_concurrent_downloads", v3, v2},
		{"image_pull_with_sync_fs", v3, v2},
	} {
		tr := Trigger{Key: tt.key}
		if got := tr.Table(false); got != tt.inV3 {
			t.Errorf("%s: Table(false) = %s, want %s", tt.key, got, tt.inV3)
		}
		if got := tr.Table(true); got != tt.inV2 {
			t.Errorf("%s: Table(true) = %s, want %s", tt.key, got, tt.inV2)
		}
	}
}

// TestTriggersAreTheVerdicts: Triggers lists what Decide's verdict names,
// use_local_image_pull first.
func TestTriggersAreTheVerdicts(t *testing.T) {
	s := Settings{UseLocalImagePull: true, DiscardUnpackedLayers: true, MaxConcurrentDownloads: 3, DisableSnapshotAnnotations: runtime.GOOS != "windows"}
	v := Decide(s)
	ts := s.Triggers()
	if v.Reason == nil || len(ts) != 2 || ts[0] != *v.Reason || !reflect.DeepEqual(ts[1:], v.Others) || ts[0].Key != "use_local_image_pull" {
		t.Errorf("Triggers() = %v; Decide: %+v", ts, v)
	}
}
