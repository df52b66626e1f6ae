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
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nodecred/nodecred/credentials"
	"github.com/nodecred/nodecred/internal/testprog"
)

func TestParseKubeletConfigVersions(t *testing.T) {
	for _, configVersion := range []string{"kubelet.config.k8s.io/v1", "kubelet.config.k8s.io/v1beta1", "kubelet.config.k8s.io/v1alpha1"} {
		for _, providerVersion := range []string{"credentialprovider.kubelet.k8s.io/v1", "credentialprovider.kubelet.k8s.io/v1beta1", "credentialprovider.kubelet.k8s.io/v1alpha1"} {
			cfg, err := ParseConfig([]byte(versionedConfig(configVersion, providerVersion, map[string]string{"A": "b"}, "p")))
			if err != nil {
				t.Errorf("%s with a %s provider: %v", configVersion, providerVersion, err)
				continue
			}
			p := cfg.Providers[0]
			if cfg.APIVersion != configVersion || p.APIVersion != providerVersion || p.Name != "p" ||
				p.DefaultCacheDuration.Duration != time.Minute || len(p.Env) != 1 || p.Env[0].Value != "b" {
				t.Errorf("%s with a %s provider: parsed as %+v", configVersion, providerVersion, cfg)
			}
		}
	}
}

func TestKubeletConfigErrorsCarryNoSecret(t *testing.T) {
	const secret = "AKIAsecretvalue1234"
	head := "apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n- name: p\n  matchImages: [\"r.io\"]\n  defaultCacheDuration: 1m\n  apiVersion: credentialprovider.kubelet.k8s.io/v1\n"
	tests := []struct{ name, cfg, want string }{
		{"env value of the wrong type", head + "  env:\n  - name: AWS_SECRET_ACCESS_KEY\n    value: [" + secret + "]\n", `invalid CredentialProviderConfig: field "providers.env.value": wrong type array`},
		{"misspelled env key", head + "  env:\n  - name: AWS_SECRET_ACCESS_KEY\n    valeu: " + secret + "\n", `unknown field "providers[0].env[0].valeu"`},
		{"bad YAML", head + "  env:\n  - name: AWS_SECRET_ACCESS_KEY\n    value: \"" + secret + "\n", "invalid YAML"},
		{"args of the wrong type", head + "  args: " + secret + "\n", "wrong type string"},
	}
	for _, tt := range tests {
		_, err := ParseConfig([]byte(tt.cfg))
		switch {
		case err == nil:
			t.Errorf("%s: no error", tt.name)
		case strings.Contains(err.Error(), secret):
			t.Errorf("%s: error carries the secret: %v", tt.name, err)
		case !strings.Contains(err.Error(), tt.want):
			t.Errorf("%s: error %q does not contain %q", tt.name, err, tt.want)
		}
	}
}

func TestOpenKubeletSourceChecksAsTheKubeletStarts(t *testing.T) {
	binDir, config := kubeletSetup(t, "provider0", "ecr-credential-provider")
	if err := os.WriteFile(filepath.Join(binDir, "not-executable"), []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(binDir, "a-directory"), 0o755); err != nil {
		t.Fatal(err)
	}
	const v1 = "credentialprovider.kubelet.k8s.io/v1"
	twoProviders := func(second string) string {
		return versionedConfig("kubelet.config.k8s.io/v1", v1, nil, "provider0", second)
	}
	notADir := filepath.Join(binDir, "provider0")
	tests := []struct {
		name, binDir, config, want string
	}{
		{"bin_dir missing", filepath.Join(binDir, "missing"), twoProviders("ecr-credential-provider"),
			fmt.Sprintf(`bin_dir: %q: no such file or directory`, filepath.Join(binDir, "missing"))},
		{"bin_dir not a directory", notADir, twoProviders("ecr-credential-provider"), fmt.Sprintf(`bin_dir: %q: not a directory`, notADir)},
		{"config missing", binDir, "", fmt.Sprintf(`config: %q: no such file or directory`, config)},
		{"config invalid", binDir, strings.Replace(twoProviders("ecr-credential-provider"), "matchImages", "matchImage", 1),
			fmt.Sprintf(`config: %q: invalid CredentialProviderConfig: unknown field "providers[0].matchImage"`, config)},
		{"older version, missing provider", binDir, versionedConfig("kubelet.config.k8s.io/v1alpha1", "credentialprovider.kubelet.k8s.io/v1alpha1", nil, "provider0", "gcp-provider"),
			fmt.Sprintf(`config: %q: providers[1] "gcp-provider": %s: no such file or directory`, config, filepath.Join(binDir, "gcp-provider"))},
		{"provider not executable", binDir, twoProviders("not-executable"),
			fmt.Sprintf(`config: %q: providers[1] "not-executable": %s: not executable (mode -rw-r--r--)`, config, filepath.Join(binDir, "not-executable"))},
		{"provider a directory", binDir, twoProviders("a-directory"),
			fmt.Sprintf(`config: %q: providers[1] "a-directory": %s: is a directory`, config, filepath.Join(binDir, "a-directory"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			os.Remove(config)
			if tt.config != "" {
				writeConfig(t, config, tt.config)
			}
			_, err := Open(config, tt.binDir, time.Second)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("err = %v\nwant %s", err, tt.want)
			}
		})
	}
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(t.TempDir(), "big.yaml")
	writeConfig(t, big, twoProviders("ecr-credential-provider")+"#"+strings.Repeat("x", maxConfigFileSize)+"\n")
	for _, tt := range []struct{ name, config, want string }{
		{"config a directory without config files", binDir, "no configuration files (*.json, *.yaml, *.yml) in the directory"},
		{"config a FIFO", fifo, "is a FIFO, not a regular file"},
		{"config /dev/zero", "/dev/zero", "is a character device, not a regular file"},
		{"config too large", big, fmt.Sprintf("is %d bytes, more than the limit of %d", len(twoProviders("ecr-credential-provider"))+maxConfigFileSize+2, maxConfigFileSize)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			guard(t, "Open", func() { _, err = Open(tt.config, binDir, time.Second) })
			if want := fmt.Sprintf(`config: %q: %s`, tt.config, tt.want); err == nil || err.Error() != want {
				t.Fatalf("err = %v, want %s", err, want)
			}
		})
	}
	t.Run("all there", func(t *testing.T) {
		writeConfig(t, config, twoProviders("ecr-credential-provider"))
		if _, err := Open(config, binDir, time.Second); err != nil {
			t.Fatal(err)
		}
	})
}

// TestKubeletSourceReloads: after startup, a bad edit keeps the last good
// config; an edit naming a provider that is not installed yet is taken, and
// that provider serves once it is installed.
func TestKubeletSourceReloads(t *testing.T) {
	binDir, config := kubeletSetup(t, "provider0")
	const v1 = "credentialprovider.kubelet.k8s.io/v1"
	user := func(u string) map[string]string {
		return map[string]string{"PROVIDER_USER": u, "PROVIDER_PASSWORD": "p"}
	}
	writeConfig(t, config, versionedConfig("kubelet.config.k8s.io/v1", v1, user("first"), "provider0"))
	src, err := Open(config, binDir, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	get := func() string {
		t.Helper()
		c, _ := src.Get(context.Background(), credentials.Request{Host: "r.io", Ref: "r.io/app:1"})
		return c.Username
	}
	if got := get(); got != "first" {
		t.Fatalf("got %q, want first", got)
	}

	ctx, logs := capturedLog(t)
	writeConfig(t, config, versionedConfig("kubelet.config.k8s.io/v2", v1, user("second"), "provider0"))
	src.file.Load(ctx)
	if got := get(); got != "first" {
		t.Fatalf("after a bad edit: got %q, want the last good config's first", got)
	}
	if !strings.Contains(logs.String(), "keeping the last good contents") || !strings.Contains(logs.String(), `apiVersion \"kubelet.config.k8s.io/v2\"`) {
		t.Fatalf("bad edit not logged:\n%s", logs)
	}

	writeConfig(t, config, versionedConfig("kubelet.config.k8s.io/v1alpha1", v1, user("third"), "later"))
	if got := get(); got != "" {
		t.Fatalf("provider not installed yet: got %q, want nothing", got)
	}
	_, prog := testprog.Build(t)
	b, _ := os.ReadFile(prog)
	if err := os.WriteFile(filepath.Join(binDir, "later"), b, 0o755); err != nil {
		t.Fatal(err)
	}
	// The failed run is remembered for a few seconds, as any failure is.
	deadline := time.Now().Add(30 * time.Second)
	for get() != "third" {
		if time.Now().After(deadline) {
			t.Fatalf("the provider installed after its config never served")
		}
		time.Sleep(100 * time.Millisecond)
	}
}
