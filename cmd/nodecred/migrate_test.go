package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nodecred/nodecred/credentials"
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
			dc, err := credentials.ParseDockerConfig(data)
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
