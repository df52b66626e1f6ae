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

package testprog

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Helper is the test helper program with the environment that configures
// it, as a real helper is configured.
type Helper struct {
	// Program is docker-credential-nodecredtest in a directory of its own.
	Program string
	// Count gets one line per run.
	Count string
	// Env are the CREDHELPER_* settings, for a source's env.
	Env []string
}

// NewHelper copies the test helper into its own directory as
// docker-credential-nodecredtest and returns it with settings: creds
// (server URL to "user:secret") and further CREDHELPER_* variables.
func NewHelper(t testing.TB, creds map[string]string, settings ...string) Helper {
	t.Helper()
	src, _ := Build(t)
	dir := t.TempDir()
	h := Helper{Program: filepath.Join(dir, "docker-credential-nodecredtest"), Count: filepath.Join(dir, "count")}
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(h.Program, b, 0o755); err != nil {
		t.Fatal(err)
	}
	j, _ := json.Marshal(creds)
	h.Env = append([]string{"CREDHELPER_CREDS=" + string(j), "CREDHELPER_COUNT_FILE=" + h.Count}, settings...)
	return h
}

// ProviderSetup is a temporary bin_dir holding a copy of the test provider
// under each name, and a config path in another directory.
func ProviderSetup(t testing.TB, names ...string) (binDir, configPath string) {
	t.Helper()
	_, prog := Build(t)
	b, err := os.ReadFile(prog)
	if err != nil {
		t.Fatal(err)
	}
	binDir = t.TempDir()
	for _, name := range names {
		if err := os.WriteFile(filepath.Join(binDir, name), b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return binDir, filepath.Join(t.TempDir(), "cp.yaml")
}

// ProviderConfig renders a CredentialProviderConfig of configVersion with
// one provider per name, each speaking providerVersion, matching r.io, with
// env.
func ProviderConfig(configVersion, providerVersion string, env map[string]string, names ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: %s\nkind: CredentialProviderConfig\nproviders:\n", configVersion)
	for _, name := range names {
		fmt.Fprintf(&b, "- name: %s\n  matchImages: [\"r.io\"]\n  defaultCacheDuration: 1m\n  apiVersion: %s\n  env:\n", name, providerVersion)
		for k, v := range env {
			fmt.Fprintf(&b, "  - name: %s\n    value: %q\n", k, v)
		}
	}
	return b.String()
}
