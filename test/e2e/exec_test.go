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

package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/nodecred/nodecred/test/e2e/harness"
)

// installHelper copies the test credential helper into its own directory
// as docker-credential-NAME and returns the directory, the helper's path,
// and the environment that makes it serve creds (server URL to
// "user:secret") and count its runs in dir/count: a real helper is
// configured through its environment too.
func installHelper(t *testing.T, name string, creds map[string]string) (dir, program string, env []string) {
	t.Helper()
	dir = t.TempDir()
	program = filepath.Join(dir, "docker-credential-"+name)
	b, err := os.ReadFile(bins.CredHelper)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(program, b, 0o755); err != nil {
		t.Fatal(err)
	}
	j, _ := json.Marshal(creds)
	return dir, program, []string{"CREDHELPER_CREDS=" + string(j), "CREDHELPER_COUNT_FILE=" + filepath.Join(dir, "count")}
}

// tomlEnv renders NAME=value entries as a TOML inline table.
func tomlEnv(env []string) string {
	parts := make([]string, 0, len(env))
	for _, kv := range env {
		name, value, _ := strings.Cut(kv, "=")
		parts = append(parts, fmt.Sprintf("%s = %q", name, value))
	}
	return "{ " + strings.Join(parts, ", ") + " }"
}

// installProvider puts the test provider in a bin_dir and writes a
// CredentialProviderConfig for it, returning the config path, the bin_dir
// and the provider's count file.
func installProvider(t testing.TB, matchImage string, env map[string]string) (config, binDir, countFile string) {
	t.Helper()
	binDir = t.TempDir()
	b, err := os.ReadFile(bins.CredProvider)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(binDir, "test-provider"), b, 0o755); err != nil {
		t.Fatal(err)
	}
	countFile = filepath.Join(t.TempDir(), "count")
	env["PROVIDER_COUNT_FILE"] = countFile
	var envYAML strings.Builder
	for k, v := range env {
		fmt.Fprintf(&envYAML, "      - name: %s\n        value: %q\n", k, v)
	}
	cfg := fmt.Sprintf(`apiVersion: kubelet.config.k8s.io/v1
kind: CredentialProviderConfig
providers:
  - name: test-provider
    matchImages: [%q]
    defaultCacheDuration: 10m
    apiVersion: credentialprovider.kubelet.k8s.io/v1
    env:
%s`, matchImage, envYAML.String())
	config = writeFile(t, t.TempDir(), "credential-provider.yaml", cfg)
	return config, binDir, countFile
}

func kubeletSource(config, binDir string) string {
	return fmt.Sprintf("type = \"kubelet\"\nconfig = %q\nbin_dir = %q", config, binDir)
}

func lines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return strings.Fields(string(b))
}

func TestSandboxImageFromKubeletProvider(t *testing.T) {
	s := newSandboxSetup(t)
	config, binDir, count := installProvider(t, s.reg.Host, map[string]string{"PROVIDER_USER": s.reg.user, "PROVIDER_PASSWORD": s.reg.password})
	c := startContainerd(t, bins.Containerd, harness.ContainerdConfig{
		HostsDir:     s.hostsDir,
		SandboxImage: s.image,
		Nodecred:     nodecredSection("", kubeletSource(config, binDir)),
	})
	err := runSandbox(t, c, "provider-sandbox")
	if err != nil && isAuthError(err) {
		t.Fatalf("sandbox image pull refused: %v", err)
	}
	if !imagePresent(t, c, s.image) {
		t.Fatalf("sandbox image not pulled; RunPodSandbox: %v", err)
	}
	if got := lines(t, count); len(got) != 1 || got[0] != s.image {
		t.Fatalf("provider was asked %v, want once about %s", got, s.image)
	}
}

func TestConcurrentCRIPullsRunProviderOnce(t *testing.T) {
	const n = 10
	tags := make([]string, n)
	for i := range tags {
		tags[i] = fmt.Sprintf("app/web:%d", i)
	}
	reg := startRegistry(t, "node", tags...)
	hostsDir := hostsDirFor(t, reg)
	config, binDir, count := installProvider(t, reg.Host, map[string]string{
		"PROVIDER_USER": reg.user, "PROVIDER_PASSWORD": reg.password,
		"PROVIDER_CACHE_KEY_TYPE": "Registry", "PROVIDER_SLEEP": "300ms",
	})
	c := startContainerd(t, bins.Containerd, harness.ContainerdConfig{
		HostsDir: hostsDir,
		Nodecred: nodecredSection("", kubeletSource(config, binDir)),
	})
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i, tag := range tags {
		wg.Go(func() { errs[i] = criPull(c, reg.Host+"/"+tag, nil) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("pull %s: %v", tags[i], err)
		}
	}
	if got := lines(t, count); len(got) != 1 {
		t.Fatalf("%d concurrent pulls ran the provider %d times (%v), want 1", n, len(got), got)
	}
}

func TestCredHelpersEntryServesPull(t *testing.T) {
	reg := startRegistry(t, "node", "app/web:1")
	hostsDir := hostsDirFor(t, reg)
	helperDir, _, env := installHelper(t, "e2etest", map[string]string{reg.Host: reg.user + ":" + reg.password})
	auth := writeFile(t, t.TempDir(), "config.json", fmt.Sprintf(`{"credHelpers": {%q: "e2etest"}}`, reg.Host))
	// The helper is configured only through containerd's environment, as
	// a systemd drop-in configures ecr-login or gcr.
	c := startContainerd(t, bins.Containerd, harness.ContainerdConfig{
		HostsDir: hostsDir,
		Nodecred: nodecredSection("", dockerconfigSource(auth)),
		Env:      append(env, "PATH="+helperDir+":"+os.Getenv("PATH")),
	})
	if err := criPull(c, reg.Host+"/app/web:1", nil); err != nil {
		t.Fatalf("pull with a credHelpers entry: %v", err)
	}
	if got := lines(t, filepath.Join(helperDir, "count")); len(got) == 0 {
		t.Fatalf("the helper never ran")
	}
}

func TestHelperSourceServesPull(t *testing.T) {
	reg := startRegistry(t, "node", "app/web:1")
	hostsDir := hostsDirFor(t, reg)
	_, program, env := installHelper(t, "abs", map[string]string{reg.Host: reg.user + ":" + reg.password})
	// Configured through the source's own env table.
	c := startContainerd(t, bins.Containerd, harness.ContainerdConfig{
		HostsDir: hostsDir,
		Nodecred: nodecredSection("", fmt.Sprintf("type = \"helper\"\nhelper = %q\nhosts = [%q]\ntimeout = \"5s\"\nenv = %s", program, reg.Host, tomlEnv(env))),
	})
	cl := client(t, c)
	ref := reg.Host + "/app/web:1"
	if err := transferPull(cl, "default", ref, ociRegistry(t, ref, hostsDir)); err != nil {
		t.Fatalf("transfer pull with a helper source: %v", err)
	}
}

// TestProviderSeesContainerdEnvironment: a provider reads settings from
// containerd's environment, as ecr-credential-provider reads AWS_REGION
// from a systemd drop-in, with its config's env laid on top, as the
// kubelet runs it (mergeEnvVars). The sandbox image is pulled with it.
func TestProviderSeesContainerdEnvironment(t *testing.T) {
	s := newSandboxSetup(t)
	envFile := filepath.Join(t.TempDir(), "provider.env")
	config, binDir, _ := installProvider(t, s.reg.Host, map[string]string{
		"PROVIDER_PASSWORD": s.reg.password, "AWS_PROFILE": "from-config",
	})
	c := startContainerd(t, bins.Containerd, harness.ContainerdConfig{
		HostsDir:     s.hostsDir,
		SandboxImage: s.image,
		Nodecred:     nodecredSection("", kubeletSource(config, binDir)),
		Env: []string{
			"PROVIDER_USER=" + s.reg.user, "PROVIDER_ENV_FILE=" + envFile,
			"AWS_PROFILE=from-daemon", "AWS_REGION=eu-west-3",
		},
	})
	err := runSandbox(t, c, "provider-env")
	if !imagePresent(t, c, s.image) {
		t.Fatalf("sandbox image not pulled; RunPodSandbox: %v", err)
	}
	env := lines(t, envFile)
	for _, want := range []string{"AWS_REGION=eu-west-3", "AWS_PROFILE=from-config", "PROVIDER_USER=" + s.reg.user} {
		if !slices.Contains(env, want) {
			t.Errorf("provider environment lacks %s: %q", want, env)
		}
	}
	if slices.Contains(env, "AWS_PROFILE=from-daemon") {
		t.Errorf("the config's env did not win over containerd's: %q", env)
	}
}

// TestHelperFailureReasonReachesLog: a helper that fails says why on
// stdout, as the protocol has it; the reason reaches containerd's log,
// redacted, instead of a bare exit status.
func TestHelperFailureReasonReachesLog(t *testing.T) {
	reg := startRegistry(t, "node", "app/web:1")
	hostsDir := hostsDirFor(t, reg)
	const token = "ya29.c.b0AXv0zTPQsecretsecretsecret"
	_, program, env := installHelper(t, "broken", nil)
	env = append(env, "CREDHELPER_MODE=fail",
		`CREDHELPER_REASON=oauth2: cannot fetch token: 400 Bad Request Response: {"error":"invalid_grant","access_token":"`+token+`"}`)
	c := startContainerd(t, bins.Containerd, harness.ContainerdConfig{
		HostsDir: hostsDir,
		Nodecred: nodecredSection("", fmt.Sprintf("type = \"helper\"\nhelper = %q\nhosts = [%q]\nenv = %s", program, reg.Host, tomlEnv(env))),
	})
	err := criPull(c, reg.Host+"/app/web:1", nil)
	if err == nil || !isAuthError(err) {
		t.Fatalf("pull with a failing helper: %v, want an auth error", err)
	}
	log := c.Log()
	if !strings.Contains(log, "cannot fetch token: 400 Bad Request") || !strings.Contains(log, program) {
		t.Errorf("containerd's log lacks the helper's reason:\n%s", log)
	}
	if strings.Contains(log, token) || strings.Contains(log, "secretsecret") {
		t.Errorf("containerd's log carries the token")
	}
}
