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
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nodecred/nodecred/credentials/dockerconfig"
	"github.com/nodecred/nodecred/nodeconfig"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestMigrate(t *testing.T) {
	for _, tt := range []struct{ name, section string }{
		{"version 3", `version = 3
[plugins."io.containerd.cri.v1.images".registry.configs."registry.example.com".auth]
  username = "robot"
  password = "pw-one"
[plugins."io.containerd.cri.v1.images".registry.configs."quay.io:443".auth]
  auth = "` + b64("quayuser:pw-two") + `"
[plugins."io.containerd.cri.v1.images".registry.configs."token.example.com".auth]
  identitytoken = "refresh-three"
[plugins."io.containerd.cri.v1.images".registry.configs."tls-only.example.com".tls]
  insecure_skip_verify = true
`},
		{"version 2", `version = 2
[plugins."io.containerd.grpc.v1.cri".registry.configs."registry.example.com".auth]
  username = "robot"
  password = "pw-one"
[plugins."io.containerd.grpc.v1.cri".registry.configs."quay.io:443".auth]
  auth = "` + b64("quayuser:pw-two") + `"
[plugins."io.containerd.grpc.v1.cri".registry.configs."token.example.com".auth]
  identitytoken = "refresh-three"
`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := filepath.Join(dir, "config.toml")
			if err := os.WriteFile(cfg, []byte(tt.section), 0o600); err != nil {
				t.Fatal(err)
			}
			authPath := filepath.Join(dir, "auth.json")
			var out bytes.Buffer
			if err := migrate(context.Background(), &out, migrateOptions{configPath: cfg, authPath: authPath, hostsDir: filepath.Join(dir, "certs.d")}); err != nil {
				t.Fatal(err)
			}
			for _, secret := range []string{"pw-one", "pw-two", "refresh-three", b64("quayuser:pw-two"), b64("robot:pw-one")} {
				if strings.Contains(out.String(), secret) {
					t.Fatalf("migrate printed a secret:\n%s", out.String())
				}
			}
			if !strings.Contains(out.String(), `type = "dockerconfig"`) || !strings.Contains(out.String(), `registry.configs."quay.io:443".auth`) {
				t.Errorf("output:\n%s", out.String())
			}
			info, err := os.Stat(authPath)
			if err != nil || info.Mode().Perm() != 0o600 {
				t.Fatalf("auth file: %v, mode %v", err, info.Mode().Perm())
			}
			data, _ := os.ReadFile(authPath)
			dc, err := dockerconfig.Parse(data)
			if err != nil {
				t.Fatal(err)
			}
			for host, want := range map[string][3]string{
				"registry.example.com": {"robot", "pw-one", ""},
				"quay.io:443":          {"quayuser", "pw-two", ""},
				"token.example.com":    {"", "", "refresh-three"},
			} {
				c := dc.Lookup(host, "app")
				if c.Username != want[0] || c.Password.Reveal() != want[1] || c.IdentityToken.Reveal() != want[2] {
					t.Errorf("%s: got %q", host, c.Username)
				}
			}
			if err := migrate(context.Background(), &out, migrateOptions{configPath: cfg, authPath: authPath, hostsDir: filepath.Join(dir, "certs.d")}); err == nil || !strings.Contains(err.Error(), "--force") {
				t.Fatalf("second run without --force: err = %v", err)
			}
			if err := migrate(context.Background(), &out, migrateOptions{configPath: cfg, authPath: authPath, hostsDir: filepath.Join(dir, "certs.d"), force: true}); err != nil {
				t.Fatalf("with --force: %v", err)
			}
		})
	}
}

func TestMigrateBadEntryNamesHostNotValue(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.toml")
	text := "version = 3\n[plugins.\"io.containerd.cri.v1.images\".registry.configs.\"r.io\".auth]\n  auth = \"bm90LWEtcGFpcg==not-base64!\"\n"
	if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	err := migrate(context.Background(), &bytes.Buffer{}, migrateOptions{configPath: cfg, authPath: filepath.Join(dir, "auth.json")})
	if err == nil || !strings.Contains(err.Error(), `registry.configs."r.io".auth`) || strings.Contains(err.Error(), "bm90") {
		t.Fatalf("err = %v", err)
	}
	var out bytes.Buffer
	if err := migrate(context.Background(), &out, migrateOptions{configPath: filepath.Join(dir, "none.toml"), authPath: filepath.Join(dir, "a.json")}); err == nil {
		t.Fatal("missing config: no error")
	}
}

// TestMigrateEdits checks the config.toml edits migrate prints for each
// local-pull setting, and what it writes where.
func TestMigrateEdits(t *testing.T) {
	const images = `plugins."io.containerd.cri.v1.images"`
	for _, tt := range []struct {
		name     string
		version  int    // config version; 0 for 3
		config   string // after the version line; HOSTS stands for the test's hosts directory
		flagDir  bool   // pass --hosts-dir HOSTS
		want     []string
		dontWant []string
		files    []string // hosts.toml files written, relative to HOSTS
	}{{
		name:   "nothing to migrate",
		config: "[" + images + ".registry]\n  config_path = \"HOSTS\"\n",
		want:   []string{"nothing to migrate"},
	}, {
		name:     "max_concurrent_downloads moves to the transfer plugin",
		config:   "[" + images + "]\n  max_concurrent_downloads = 8\n",
		want:     []string{"[plugins.\"io.containerd.transfer.v1.local\"]\n  max_concurrent_downloads = 8", "max_concurrent_downloads = 8 in [" + images + "]"},
		dontWant: []string{"config_path", "dockerconfig"},
	}, {
		name:     "tls with config_path set: files go there and config_path stays",
		config:   "[" + images + ".registry]\n  config_path = \"HOSTS\"\n[" + images + ".registry.configs.\"r.example.com:5000\".tls]\n  insecure_skip_verify = true\n",
		want:     []string{"[" + images + `.registry.configs."r.example.com:5000".tls]`},
		dontWant: []string{"config_path =", "dockerconfig"},
		files:    []string{"r.example.com_5000_/hosts.toml"},
	}, {
		name:    "mirrors without config_path: config_path to set",
		config:  "[" + images + ".registry.mirrors.\"*\"]\n  endpoint = [\"https://cache.example.com\"]\n",
		flagDir: true,
		want:    []string{"[" + images + ".registry]\n  config_path = \"HOSTS\"", "[" + images + `.registry.mirrors."*"]`},
		files:   []string{"_default/hosts.toml"},
	}, {
		name:   "a config_path list becomes its first directory",
		config: "[" + images + ".registry]\n  config_path = \"HOSTS:/etc/docker/certs.d\"\n[" + images + ".registry.configs.\"r.example.com\".tls]\n  insecure_skip_verify = true\n",
		want:   []string{"config_path = \"HOSTS\"\n"},
		files:  []string{"r.example.com/hosts.toml"},
	}, {
		name: "settings with no equivalent are listed with their cost",
		config: "[" + images + "]\n  use_local_image_pull = true\n  discard_unpacked_layers = true\n  image_pull_with_sync_fs = true\n" +
			"  disable_snapshot_annotations = false\n",
		want: []string{
			"use_local_image_pull = true in [" + images + "]: delete it",
			"discard_unpacked_layers = true in [" + images + "]: delete it. The content store then keeps",
			"image_pull_with_sync_fs = true in [" + images + "]: delete it",
			"disable_snapshot_annotations = false in [" + images + "]: set it to true",
		},
		dontWant: []string{"nothing to migrate", "Edit "},
	}, {
		name:    "version 2 names its own sections",
		version: 2,
		config: "[plugins.\"io.containerd.grpc.v1.cri\".containerd]\n  discard_unpacked_layers = true\n" +
			"[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc]\n  runtime_type = \"io.containerd.runc.v2\"\n" +
			"[plugins.\"io.containerd.grpc.v1.cri\".registry.mirrors.\"docker.io\"]\n  endpoint = [\"https://mirror.gcr.io\"]\n",
		flagDir: true,
		want: []string{
			`discard_unpacked_layers = true in [plugins."io.containerd.grpc.v1.cri".containerd]`,
			`[plugins."io.containerd.grpc.v1.cri".registry.mirrors."docker.io"]`,
			"[plugins.\"io.containerd.grpc.v1.cri\".registry]\n  config_path = \"HOSTS\"",
		},
		files: []string{"docker.io/hosts.toml"},
	}, {
		name:    "version 2: use_local_image_pull is in the version 3 section, which containerd's migration does not move it from",
		version: 2,
		config: "[plugins.\"io.containerd.grpc.v1.cri\".containerd]\n  discard_unpacked_layers = true\n" +
			"[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc]\n  runtime_type = \"io.containerd.runc.v2\"\n" +
			"[" + images + "]\n  use_local_image_pull = true\n",
		want: []string{
			"use_local_image_pull = true in [" + images + "]: delete it",
			`discard_unpacked_layers = true in [plugins."io.containerd.grpc.v1.cri".containerd]: delete it`,
		},
	}} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			hostsDir := filepath.Join(dir, "certs.d")
			version := tt.version
			if version == 0 {
				version = 3
			}
			text := fmt.Sprintf("version = %d\n", version) + strings.ReplaceAll(tt.config, "HOSTS", hostsDir)
			want := tt.want
			cfg := filepath.Join(dir, "config.toml")
			if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
				t.Fatal(err)
			}
			o := migrateOptions{configPath: cfg, authPath: filepath.Join(dir, "auth.json")}
			if tt.flagDir {
				o.hostsDir = hostsDir
			}
			var out bytes.Buffer
			if err := migrate(context.Background(), &out, o); err != nil {
				t.Fatal(err)
			}
			for _, w := range want {
				if w = strings.ReplaceAll(w, "HOSTS", hostsDir); !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
			for _, w := range tt.dontWant {
				if strings.Contains(out.String(), w) {
					t.Errorf("output has %q:\n%s", w, out.String())
				}
			}
			var written []string
			_ = filepath.WalkDir(hostsDir, func(p string, d os.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					rel, _ := filepath.Rel(hostsDir, p)
					written = append(written, rel)
				}
				return nil
			})
			if !slices.Equal(written, tt.files) {
				t.Errorf("wrote %q, want %q", written, tt.files)
			}
		})
	}
}

// TestMigrateRefusesBeforeWriting: with one hosts.toml in the way, migrate
// writes nothing at all without --force, and replaces it with --force.
func TestMigrateRefusesBeforeWriting(t *testing.T) {
	dir := t.TempDir()
	hostsDir := filepath.Join(dir, "certs.d")
	cfg := filepath.Join(dir, "config.toml")
	text := `version = 3
[plugins."io.containerd.cri.v1.images".registry]
  config_path = "` + hostsDir + `"
[plugins."io.containerd.cri.v1.images".registry.configs."a.example.com".tls]
  insecure_skip_verify = true
[plugins."io.containerd.cri.v1.images".registry.configs."b.example.com:5000".tls]
  insecure_skip_verify = true
[plugins."io.containerd.cri.v1.images".registry.configs."b.example.com:5000".auth]
  username = "robot"
  password = "pw-four"
`
	if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	// The operator's file for b, in the host:port spelling containerd also reads.
	existing := filepath.Join(hostsDir, "b.example.com:5000", "hosts.toml")
	if err := os.MkdirAll(filepath.Dir(existing), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(existing, []byte("server = \"https://b.example.com:5000\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	o := migrateOptions{configPath: cfg, authPath: filepath.Join(dir, "auth.json"), hostsDir: hostsDir}
	err := migrate(context.Background(), &bytes.Buffer{}, o)
	if err == nil || !strings.Contains(err.Error(), existing+" exists; pass --force") {
		t.Fatalf("err = %v, want the existing hosts.toml named", err)
	}
	for _, p := range []string{o.authPath, filepath.Join(hostsDir, "a.example.com", "hosts.toml"), filepath.Join(hostsDir, "b.example.com_5000_")} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("refused migrate wrote %s", p)
		}
	}
	o.force = true
	var out bytes.Buffer
	if err := migrate(context.Background(), &out, o); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(existing); !strings.Contains(string(data), "skip_verify = true") {
		t.Errorf("--force did not replace %s:\n%s", existing, data)
	}
	if strings.Contains(out.String(), "pw-four") {
		t.Errorf("migrate printed a secret:\n%s", out.String())
	}
}

// TestMigrateCreatesTheAuthFileDirectory: --out in a directory that does
// not exist yet (/etc/containerd/nodecred on a node before nodecred) is
// created, only root may enter it, and the file is written.
func TestMigrateCreatesTheAuthFileDirectory(t *testing.T) {
	dir, cfg := writeMigrateConfig(t, `version = 3
[plugins."io.containerd.cri.v1.images".registry.configs."registry.example.com".auth]
  username = "robot"
  password = "pw-five"
`)
	authPath := filepath.Join(dir, "etc", "containerd", "nodecred", "auth.json")
	o := migrateOptions{configPath: cfg, authPath: authPath, hostsDir: filepath.Join(dir, "certs.d")}
	if err := migrate(context.Background(), &bytes.Buffer{}, o); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(authPath)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("auth file: %v, %v", err, info)
	}
	if info, err := os.Stat(filepath.Dir(authPath)); err != nil || info.Mode().Perm() != 0o700 {
		t.Fatalf("auth file's directory: %v, %v", err, info)
	}
}

// TestMigrateWithNodecredSection: a config that has nodecred's section
// already (the release's snippet appended) is told to add a source to it,
// not a second section, which containerd would refuse to load; a source
// that reads --out already needs no edit. What is printed loads.
func TestMigrateWithNodecredSection(t *testing.T) {
	for _, tt := range []struct{ name, snippetPath, want, notWant string }{
		{"another file", "/etc/containerd/nodecred/auth.json", "add this source to the", `[plugins."io.containerd.credentials.v1.nodecred"]` + "\n  [[plugins"},
		{"the same file", "", "reads %s already, in sources[0]", "[[plugins"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			authPath := filepath.Join(dir, "nodecred", "auth.json")
			snippetPath := tt.snippetPath
			if snippetPath == "" {
				snippetPath = authPath
			}
			base := `version = 3
[plugins."io.containerd.credentials.v1.nodecred"]
  namespaces = ["k8s.io"]
  [[plugins."io.containerd.credentials.v1.nodecred".sources]]
    type = "dockerconfig"
    path = "` + snippetPath + `"
`
			cfg := filepath.Join(dir, "config.toml")
			text := base + `[plugins."io.containerd.cri.v1.images".registry.configs."registry.example.com".auth]
  username = "robot"
  password = "pw-six"
`
			if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			o := migrateOptions{configPath: cfg, authPath: authPath, hostsDir: filepath.Join(dir, "certs.d")}
			if err := migrate(context.Background(), &out, o); err != nil {
				t.Fatal(err)
			}
			want := tt.want
			if strings.Contains(want, "%s") {
				want = fmt.Sprintf(want, authPath)
			}
			if !strings.Contains(out.String(), want) || strings.Contains(out.String(), tt.notWant) {
				t.Fatalf("output lacks %q or holds %q:\n%s", want, tt.notWant, out.String())
			}
			// The config with the printed source added, and the auth table
			// deleted, loads with nodecred's sources in order.
			edited := base
			if _, src, ok := strings.Cut(out.String(), "(sources are asked in order):\n\n"); ok {
				src, _, _ = strings.Cut(src, "\n\n")
				edited += src + "\n"
			}
			if err := os.WriteFile(cfg, []byte(edited), 0o600); err != nil {
				t.Fatal(err)
			}
			node, err := nodeconfig.LoadContainerd(context.Background(), cfg)
			if err != nil {
				t.Fatalf("edited config: %v\n%s", err, edited)
			}
			var paths []string
			for _, s := range node.Credentials.Sources {
				paths = append(paths, s.Path)
			}
			wantPaths := []string{snippetPath}
			if snippetPath != authPath {
				wantPaths = append(wantPaths, authPath)
			}
			if !slices.Equal(paths, wantPaths) {
				t.Errorf("sources read %q, want %q", paths, wantPaths)
			}
		})
	}
}

// TestMigrateFlagErrorsNameTheFlag: a bad --out or --hosts-dir is named
// with its value.
func TestMigrateFlagErrorsNameTheFlag(t *testing.T) {
	dir, cfg := writeMigrateConfig(t, `version = 3
[plugins."io.containerd.cri.v1.images".registry.configs."r.example.com".auth]
  username = "robot"
  password = "pw-six"
[plugins."io.containerd.cri.v1.images".registry.mirrors."docker.io"]
  endpoint = ["https://mirror.gcr.io"]
`)
	for _, tt := range []struct {
		o    migrateOptions
		want string
	}{
		{migrateOptions{configPath: cfg, authPath: "auth.json", hostsDir: filepath.Join(dir, "certs.d")}, `--out "auth.json" is not an absolute path`},
		{migrateOptions{configPath: cfg, authPath: filepath.Join(dir, "auth.json"), hostsDir: "certs.d"}, `--hosts-dir "certs.d" is not an absolute path`},
	} {
		if err := migrate(context.Background(), &bytes.Buffer{}, tt.o); err == nil || err.Error() != tt.want {
			t.Errorf("err = %v, want %s", err, tt.want)
		}
	}
}

// writeMigrateConfig writes text as config.toml in a new directory, and returns
// both.
func writeMigrateConfig(t *testing.T, text string) (dir, cfg string) {
	t.Helper()
	dir = t.TempDir()
	cfg = filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir, cfg
}
