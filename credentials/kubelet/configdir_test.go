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

package kubelet

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/nodecred/nodecred/credentials"
	"github.com/nodecred/nodecred/internal/filewatch"
)

// TestKubeletConfigFiles holds the rules of the kubelet's
// readCredentialProviderConfig (kubernetes
// pkg/credentialprovider/plugin/config.go, 1.34 and later) for a config
// directory: entries that are not directories (os.ReadDir's IsDir, so a
// symlink counts as a file) named *.json, *.yaml or *.yml, extension case
// and all, sorted by path; none is an error.
func TestKubeletConfigFiles(t *testing.T) {
	tests := []struct {
		name  string
		files []string // a trailing "/" makes a directory, "->" a symlink
		want  []string
		err   string
	}{
		{"order and extensions", []string{"b.yaml", "a.json", "c.yml", "10-x.yaml"}, []string{"10-x.yaml", "a.json", "b.yaml", "c.yml"}, ""},
		{"other names", []string{"a.yaml", "B.YAML", "c.Yml", "d.txt", "e.yaml.bak", "f", "yaml"}, []string{"a.yaml"}, ""},
		{"hidden files are read", []string{".x.yaml", "a.yaml"}, []string{".x.yaml", "a.yaml"}, ""},
		{"directories are not", []string{"sub.yaml/", "a.yaml"}, []string{"a.yaml"}, ""},
		{"symlinks are", []string{"target", "link.yaml->target"}, []string{"link.yaml"}, ""},
		{"a secret volume's ..data is not", []string{"..2026_12_06/", "..data->..2026_12_06", "cp.yaml->..data/cp.yaml"}, []string{"cp.yaml"}, ""},
		{"empty", nil, nil, "no configuration files (*.json, *.yaml, *.yml) in the directory"},
		{"nothing that matches", []string{"README", "sub.yaml/"}, nil, "no configuration files"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, f := range tt.files {
				p := filepath.Join(dir, f)
				name, target, link := strings.Cut(f, "->")
				switch {
				case link:
					if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
						t.Fatal(err)
					}
				case strings.HasSuffix(f, "/"):
					if err := os.Mkdir(p, 0o755); err != nil {
						t.Fatal(err)
					}
				default:
					if err := os.WriteFile(p, nil, 0o600); err != nil {
						t.Fatal(err)
					}
				}
			}
			got, err := kubeletConfigFiles(dir)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for i := range got {
				got[i] = filepath.Base(got[i])
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("files %v, want %v", got, tt.want)
			}
		})
	}
}

const v1Provider = "credentialprovider.kubelet.k8s.io/v1"

// dirConfig is one file of a config directory: providers by name, each
// matching "NAME.io".
func dirConfig(configVersion string, names ...string) string {
	var b strings.Builder
	b.WriteString("apiVersion: " + configVersion + "\nkind: CredentialProviderConfig\nproviders:")
	if len(names) == 0 {
		b.WriteString(" []")
	}
	b.WriteString("\n")
	for _, n := range names {
		b.WriteString("- name: " + n + "\n  matchImages: [\"" + n + ".io\"]\n  defaultCacheDuration: 10m\n  apiVersion: " + v1Provider + "\n")
	}
	return b.String()
}

// TestKubeletConfigDirectoryMerge: each file is decoded on its own, then
// the providers of all, in file order, are validated as one config, as the
// kubelet does; errors name the file.
func TestKubeletConfigDirectoryMerge(t *testing.T) {
	const v1, v1beta1 = "kubelet.config.k8s.io/v1", "kubelet.config.k8s.io/v1beta1"
	tests := []struct {
		name  string
		files map[string]string
		want  []string // provider@file
		err   string
	}{
		{"merged in file order", map[string]string{"20-own.yaml": dirConfig(v1, "c"), "10-eks.yaml": dirConfig(v1, "a", "b")}, []string{"a@10-eks.yaml", "b@10-eks.yaml", "c@20-own.yaml"}, ""},
		{"versions per file", map[string]string{"a.yaml": dirConfig(v1beta1, "a"), "b.json": `{"apiVersion":"kubelet.config.k8s.io/v1alpha1","kind":"CredentialProviderConfig","providers":[{"name":"b","matchImages":["b.io"],"defaultCacheDuration":"1m","apiVersion":"` + v1Provider + `"}]}`}, []string{"a@a.yaml", "b@b.json"}, ""},
		{"a file without providers", map[string]string{"a.yaml": dirConfig(v1), "b.yaml": dirConfig(v1, "b")}, []string{"b@b.yaml"}, ""},
		{"no provider in any file", map[string]string{"a.yaml": dirConfig(v1), "b.yaml": dirConfig(v1)}, nil, "providers: none configured in any of 2 files"},
		{"a name in two files", map[string]string{"a.yaml": dirConfig(v1, "foo"), "b.yaml": dirConfig(v1, "bar", "foo")}, nil, `b.yaml": providers[1].name: "foo" is configured twice (also in "`},
		{"a bad file", map[string]string{"a.yaml": dirConfig(v1, "a"), "b.yaml": strings.Replace(dirConfig(v1, "b"), "matchImages", "matchImage", 1)}, nil, `b.yaml": invalid CredentialProviderConfig: unknown field "providers[0].matchImage"`},
		{"a bad provider", map[string]string{"a.yaml": dirConfig(v1, "a"), "b.yaml": strings.Replace(dirConfig(v1, "b"), "10m", "-1m", 1)}, nil, `b.yaml": providers[0].defaultCacheDuration: required and not negative`},
		{"a file of another kind", map[string]string{"a.yaml": dirConfig(v1, "a"), "b.yaml": "apiVersion: v1\nkind: ConfigMap\n"}, nil, `b.yaml": apiVersion "v1", kind "ConfigMap"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, text := range tt.files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			_, data, err := readKubeletConfig(filewatch.OpenForRead, dir, maxConfigFileSize)
			if err != nil {
				t.Fatal(err)
			}
			entries, err := parseKubeletFiles(data)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range entries {
				got = append(got, e.Name+"@"+filepath.Base(e.file))
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("providers %v, want %v", got, tt.want)
			}
		})
	}
}

// TestOpenKubeletSourceDirectoryErrorsNameTheFile: startup checks every
// file of a directory and names the one at fault.
func TestOpenKubeletSourceDirectoryErrorsNameTheFile(t *testing.T) {
	binDir, _ := kubeletSetup(t, "a")
	dir := t.TempDir()
	writeConfig(t, filepath.Join(dir, "10-a.yaml"), dirConfig("kubelet.config.k8s.io/v1", "a"))
	writeConfig(t, filepath.Join(dir, "20-b.yaml"), dirConfig("kubelet.config.k8s.io/v1", "b"))
	_, err := Open(dir, binDir, time.Second)
	want := `config: "` + filepath.Join(dir, "20-b.yaml") + `": providers[0] "b": ` + filepath.Join(binDir, "b") + ": no such file or directory"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant %s", err, want)
	}
	if err := os.Mkdir(filepath.Join(dir, "30-c.yaml.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "30-c.yaml.d"), filepath.Join(dir, "30-c.yaml")); err != nil {
		t.Fatal(err)
	}
	_, err = Open(dir, binDir, time.Second)
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "30-c.yaml")+`": is a directory, not a regular file`) {
		t.Fatalf("a symlink to a directory: err = %v, want it named (the kubelet fails to read it too)", err)
	}
}

// TestKubeletConfigDirectoryAtRuntime: a drop-in added, changed and removed
// while containerd runs is picked up as an edit of a single file is; the
// provider it removed runs no more.
func TestKubeletConfigDirectoryAtRuntime(t *testing.T) {
	binDir, _ := kubeletSetup(t, "node-provider", "own-provider")
	dir := t.TempDir()
	counts := t.TempDir()
	file := func(name, image, user string) string {
		return "apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n- name: " + name + "\n  matchImages: [\"" + image + "\"]\n  defaultCacheDuration: 10m\n  apiVersion: " + v1Provider +
			"\n  env:\n  - {name: PROVIDER_USER, value: " + user + "}\n  - {name: PROVIDER_PASSWORD, value: p}\n  - {name: PROVIDER_COUNT_FILE, value: " + filepath.Join(counts, user) + "}\n"
	}
	writeConfig(t, filepath.Join(dir, "10-node.yaml"), file("node-provider", "r.io", "node"))
	src, err := Open(dir, binDir, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	get := func(host string) string {
		c, _ := src.Get(context.Background(), credentials.Request{Host: host, Ref: host + "/a:1"})
		return c.Username
	}
	if u := get("r.io"); u != "node" {
		t.Fatalf("r.io served %q, want node", u)
	}
	// A drop-in naming the same provider is refused, and the last good
	// config stays.
	writeConfig(t, filepath.Join(dir, "20-own.yaml"), file("node-provider", "s.io", "own"))
	if u := get("s.io"); u != "" {
		t.Fatalf("a duplicate name was taken: s.io served %q", u)
	}
	writeConfig(t, filepath.Join(dir, "20-own.yaml"), file("own-provider", "s.io", "own"))
	if u := get("s.io"); u != "own" {
		t.Fatalf("the added drop-in did not serve s.io: %q", u)
	}
	infos := src.Providers(context.Background())
	if len(infos) != 2 || infos[1].File != filepath.Join(dir, "20-own.yaml") || infos[0].File != filepath.Join(dir, "10-node.yaml") {
		t.Fatalf("providers %+v, want each with its file", infos)
	}
	if err := os.Remove(filepath.Join(dir, "20-own.yaml")); err != nil {
		t.Fatal(err)
	}
	if u := get("s.io"); u != "" {
		t.Fatalf("the removed drop-in still serves s.io: %q", u)
	}
	if u := get("r.io"); u != "node" {
		t.Fatalf("r.io served %q after the drop-in went, want node", u)
	}
	if n := countLines(t, filepath.Join(counts, "node")); n != 1 {
		t.Fatalf("the unchanged provider ran %d times, want 1: its cache is kept", n)
	}
}

// TestRequireServiceAccountProviders: a provider that needs a pod's service
// account never runs for containerd's pulls, and the others serve; one
// with requireServiceAccount: false runs with the request the kubelet
// sends for a pod without a service account.
func TestRequireServiceAccountProviders(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	binDir, config := t.TempDir(), filepath.Join(t.TempDir(), "cp.yaml")
	scriptProvider(t, binDir, "sa-only")
	scriptProvider(t, binDir, "sa-optional")
	requests := t.TempDir()
	resp := func(user string) string {
		return `{"apiVersion":"` + v1Provider + `","kind":"CredentialProviderResponse","cacheKeyType":"Registry","auth":{"r.io":{"username":"` + user + `","password":"p"}}}`
	}
	entry := func(name string, require bool, match string) string {
		ann := ""
		if require {
			ann = "    requiredServiceAccountAnnotationKeys: [\"example.com/role\"]\n"
		}
		return "- name: " + name + "\n  matchImages: [\"" + match + "\"]\n  defaultCacheDuration: 10m\n  apiVersion: " + v1Provider + "\n" +
			"  tokenAttributes:\n    serviceAccountTokenAudience: registry.example.com\n    cacheType: ServiceAccount\n    requireServiceAccount: " + map[bool]string{true: "true", false: "false"}[require] + "\n" + ann +
			"  env:\n  - {name: REQUEST_FILE, value: " + filepath.Join(requests, name) + "}\n  - name: RESPONSE\n    value: '" + resp(name) + "'\n"
	}
	writeConfig(t, config, "apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n"+entry("sa-only", true, "r.io")+entry("sa-optional", false, "r.io"))
	src, err := Open(config, binDir, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	c, err := src.Get(context.Background(), credentials.Request{Host: "r.io", Ref: "r.io/team/app:1"})
	if err != nil || c.Username != "sa-optional" {
		t.Fatalf("served %q, %v; want sa-optional (sa-only skipped)", c.Username, err)
	}
	if _, err := os.Stat(filepath.Join(requests, "sa-only")); err == nil {
		t.Fatal("the provider that requires a service account ran")
	}
	sent, err := os.ReadFile(filepath.Join(requests, "sa-optional"))
	if err != nil {
		t.Fatal(err)
	}
	var got, want map[string]any
	if err := json.Unmarshal(sent, &got); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(kubeletEncodeRequest(t, v1Provider, "r.io/team/app:1"), &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("request %v; the kubelet sends %v for a pod without a service account", got, want)
	}
	infos := src.Providers(context.Background())
	if len(infos) != 2 || infos[0].Skipped == "" || infos[1].Skipped != "" {
		t.Fatalf("providers %+v, want sa-only skipped with its reason", infos)
	}
}

// FuzzKubeletConfigDirectory checks that a valid config split across two
// files of a directory, at any point, reads as the one file does: the same
// providers, in the same order, each from its own file.
func FuzzKubeletConfigDirectory(f *testing.F) {
	f.Add(providerConfig(`"r.io"`, "1m", map[string]string{"A": "b"}, map[string]string{"C": "d"}), uint8(1))
	f.Add(dirConfig("kubelet.config.k8s.io/v1beta1", "a", "b", "c"), uint8(0))
	f.Add(dirConfig("kubelet.config.k8s.io/v1", "a", "b")+"  tokenAttributes: {serviceAccountTokenAudience: x, cacheType: Token, requireServiceAccount: false}\n", uint8(2))
	f.Fuzz(func(t *testing.T, text string, split uint8) {
		cfg, err := ParseConfig([]byte(text))
		if err != nil {
			return
		}
		k := int(split) % (len(cfg.Providers) + 1)
		var files []kubeletFile
		for i, part := range [][]any{toAny(cfg.Providers[:k]), toAny(cfg.Providers[k:])} {
			doc := map[string]any{"apiVersion": cfg.APIVersion, "kind": "CredentialProviderConfig", "providers": part}
			b, err := json.Marshal(doc)
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, kubeletFile{Path: fmt.Sprintf("/d/%d.json", i), Data: b})
		}
		enc, _ := json.Marshal(files)
		entries, err := parseKubeletFiles(enc)
		if err != nil {
			t.Fatalf("split at %d: %v; the one file parses", k, err)
		}
		if len(entries) != len(cfg.Providers) {
			t.Fatalf("split at %d: %d providers, want %d", k, len(entries), len(cfg.Providers))
		}
		for i, e := range entries {
			want := "/d/0.json"
			if i >= k {
				want = "/d/1.json"
			}
			if e.Name != cfg.Providers[i].Name || e.file != want {
				t.Fatalf("provider %d is %q from %s, want %q from %s", i, e.Name, e.file, cfg.Providers[i].Name, want)
			}
		}
	})
}

// toAny renders v as decoded JSON, as a file would hold it.
func toAny[T any](v []T) []any {
	b, _ := json.Marshal(v)
	var out []any
	_ = json.Unmarshal(b, &out)
	if out == nil {
		out = []any{}
	}
	return out
}

// TestKubeletConfigDirectoryFromConfigMapVolume: a config directory that is
// a Kubernetes ConfigMap volume (cp.yaml -> ..data/cp.yaml, ..data a
// symlink to a timestamped directory) is read through its symlinks, and
// the kubelet's swap of ..data to a new directory is picked up.
func TestKubeletConfigDirectoryFromConfigMapVolume(t *testing.T) {
	binDir, _ := kubeletSetup(t, "p")
	dir := t.TempDir()
	version := func(stamp, user string) {
		t.Helper()
		d := filepath.Join(dir, "..2026_12_06_"+stamp)
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		text := "apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n- name: p\n  matchImages: [\"r.io\"]\n  defaultCacheDuration: 10m\n  apiVersion: " + v1Provider +
			"\n  env:\n  - {name: PROVIDER_USER, value: " + user + "}\n  - {name: PROVIDER_PASSWORD, value: pw}\n"
		if err := os.WriteFile(filepath.Join(d, "cp.yaml"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		// As the kubelet's atomic writer: a new ..data link renamed over the old.
		tmp := filepath.Join(dir, "..data_tmp")
		if err := os.Symlink(filepath.Base(d), tmp); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, "..data")); err != nil {
			t.Fatal(err)
		}
	}
	version("a", "first")
	if err := os.Symlink("..data/cp.yaml", filepath.Join(dir, "cp.yaml")); err != nil {
		t.Fatal(err)
	}
	src, err := Open(dir, binDir, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	get := func() string {
		c, _ := src.Get(context.Background(), credentials.Request{Host: "r.io", Ref: "r.io/a:1"})
		return c.Username
	}
	if u := get(); u != "first" {
		t.Fatalf("served %q, want first", u)
	}
	version("b", "second")
	if u := get(); u != "second" {
		t.Fatalf("served %q after the ..data swap, want second", u)
	}
}
