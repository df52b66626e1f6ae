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
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/nodecred/nodecred/test/e2e/harness"
)

// providerBin is a bin_dir holding the test provider under each name.
func providerBin(t *testing.T, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	b, err := os.ReadFile(bins.CredProvider)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// providerEntry renders one provider of a CredentialProviderConfig: the
// test provider under name, for match, with env, and extra lines
// (indented two spaces) such as args or tokenAttributes.
func providerEntry(name, match string, env map[string]string, extra string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "- name: %s\n  matchImages: [%q]\n  defaultCacheDuration: 10m\n  apiVersion: credentialprovider.kubelet.k8s.io/v1\n%s  env:\n", name, match, extra)
	// In a fixed order: the same provider renders the same file.
	for _, k := range slices.Sorted(maps.Keys(env)) {
		fmt.Fprintf(&b, "  - name: %s\n    value: %q\n", k, env[k])
	}
	return b.String()
}

func providerFile(entries ...string) string {
	return "apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n" + strings.Join(entries, "")
}

// replaceFile renames a new file over path, as configuration management
// tools write.
func replaceFile(t *testing.T, path, content string) {
	t.Helper()
	tmp := writeFile(t, filepath.Dir(path), "."+filepath.Base(path)+".tmp", content)
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// hostsDirForAll sends each registry's host to it over plain HTTP.
func hostsDirForAll(t *testing.T, regs ...testRegistry) string {
	t.Helper()
	dir := t.TempDir()
	for _, r := range regs {
		if err := harness.WriteHostsToml(dir, r.Host, r.Host); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// criPullWithin is a CRI pull that gives up after d, as a kubelet's
// runtime request timeout would.
func criPullWithin(c *harness.Containerd, ref string, d time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	_, err := c.Images().PullImage(ctx, &runtime.PullImageRequest{Image: &runtime.ImageSpec{Image: ref}})
	return err
}

// TestConfigTouchStormAndEditsRunProviderOnce: 50 rewrites of the kubelet
// config with the same contents and 200 edits of another provider, each
// followed by a pull, run the provider serving the pulls once.
func TestConfigTouchStormAndEditsRunProviderOnce(t *testing.T) {
	reg := startRegistry(t, "node", "app/web:1")
	binDir := providerBin(t, "node-provider", "other-provider")
	count := filepath.Join(t.TempDir(), "count")
	config := filepath.Join(t.TempDir(), "credential-provider.yaml")
	render := func(otherArg int) string {
		return providerFile(
			providerEntry("node-provider", reg.Host, map[string]string{"PROVIDER_USER": reg.user, "PROVIDER_PASSWORD": reg.password, "PROVIDER_COUNT_FILE": count}, ""),
			providerEntry("other-provider", "other.example.com", map[string]string{}, fmt.Sprintf("  args: [\"--edit=%d\"]\n", otherArg)))
	}
	replaceFile(t, config, render(0))
	c := startContainerd(t, bins.Containerd, harness.ContainerdConfig{
		HostsDir: hostsDirFor(t, reg),
		Nodecred: nodecredSection("", kubeletSource(config, binDir)),
	})
	ref := reg.Host + "/app/web:1"
	if err := criPull(c, ref, nil); err != nil {
		t.Fatal(err)
	}
	pulls := func(n int, edit func(i int)) time.Duration {
		start := time.Now()
		for i := range n {
			edit(i)
			if err := criPull(c, ref, nil); err != nil {
				t.Fatalf("pull %d: %v", i, err)
			}
		}
		return time.Since(start)
	}
	touches := pulls(50, func(int) { replaceFile(t, config, render(0)) })
	afterTouches := len(lines(t, count))
	edits := pulls(200, func(i int) { replaceFile(t, config, render(i+1)) })
	runs := len(lines(t, count))
	t.Logf("provider runs: %d after the first pull and 50 touches, %d after 200 edits; 50 touch+pull in %s (%s each), 200 edit+pull in %s (%s each)",
		afterTouches, runs, touches.Round(time.Millisecond), (touches / 50).Round(time.Millisecond), edits.Round(time.Millisecond), (edits / 200).Round(time.Millisecond))
	if runs != 1 {
		t.Fatalf("the provider ran %d times for 251 pulls through 50 touches and 200 edits of another provider, want 1", runs)
	}
}

// TestRemovedProviderNeverRunsAgain: a provider removed from the config
// runs no more, though its answer (4 s) was due for renewal at 2 s.
func TestRemovedProviderNeverRunsAgain(t *testing.T) {
	regA := startRegistry(t, "a", "app/web:1")
	regB := startRegistry(t, "b", "app/web:1", "app/web:2")
	binDir := providerBin(t, "provider-a", "provider-b")
	countA, countB := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	a := providerEntry("provider-a", regA.Host, map[string]string{"PROVIDER_USER": regA.user, "PROVIDER_PASSWORD": regA.password, "PROVIDER_COUNT_FILE": countA}, "")
	b := providerEntry("provider-b", regB.Host, map[string]string{"PROVIDER_USER": regB.user, "PROVIDER_PASSWORD": regB.password, "PROVIDER_COUNT_FILE": countB, "PROVIDER_CACHE_DURATION": "4s"}, "")
	config := filepath.Join(t.TempDir(), "credential-provider.yaml")
	replaceFile(t, config, providerFile(a, b))
	c := startContainerd(t, bins.Containerd, harness.ContainerdConfig{
		HostsDir: hostsDirForAll(t, regA, regB),
		Nodecred: nodecredSection("", kubeletSource(config, binDir)),
	})
	timed := func(ref string) (time.Duration, error) {
		start := time.Now()
		err := criPull(c, ref, nil)
		return time.Since(start), err
	}
	if _, err := timed(regB.Host + "/app/web:1"); err != nil {
		t.Fatal(err)
	}
	removed := time.Now()
	replaceFile(t, config, providerFile(a))
	reload, err := timed(regA.Host + "/app/web:1") // the config is re-read
	if err != nil {
		t.Fatal(err)
	}
	// Past the renewal (2 to 2.4 s) and the expiry (4 s) of provider-b's answer.
	time.Sleep(time.Until(removed.Add(6 * time.Second)))
	after, err := timed(regB.Host + "/app/web:2")
	runsB := len(lines(t, countB))
	t.Logf("provider-b runs: %d (1 before its removal); pull that re-read the config: %s; pull of provider-b's registry after removal: %s, %v",
		runsB, reload.Round(time.Millisecond), after.Round(time.Millisecond), err)
	if runsB != 1 {
		t.Fatalf("the removed provider ran %d times, want 1: none after its removal", runsB)
	}
	if err == nil || !isAuthError(err) {
		t.Fatalf("pull of the removed provider's registry: %v, want an authorization failure", err)
	}
}

// TestFrozenProviderDoesNotHoldPulls: a provider that cannot be killed (its
// cgroup frozen, as on a hung mount) costs its timeout and the reap bound
// once; the next source serves, the next pull does not wait on it, and one
// warning says it could not be reaped.
func TestFrozenProviderDoesNotHoldPulls(t *testing.T) {
	cg := freezerCgroup(t)
	reg := startRegistry(t, "node", "app/web:1", "app/web:2")
	binDir := providerBin(t, "frozen-provider")
	config := writeFile(t, t.TempDir(), "credential-provider.yaml", providerFile(
		providerEntry("frozen-provider", reg.Host, map[string]string{"PROVIDER_MODE": "freeze", "PROVIDER_FREEZE_CGROUP": cg}, "")))
	c := startContainerd(t, bins.Containerd, harness.ContainerdConfig{
		HostsDir: hostsDirFor(t, reg),
		Nodecred: nodecredSection("", kubeletSource(config, binDir)+"\ntimeout = \"2s\"", dockerconfigSource(authFileFor(t, reg))),
	})
	var took [2]time.Duration
	for i, ref := range []string{reg.Host + "/app/web:1", reg.Host + "/app/web:2"} {
		start := time.Now()
		err := criPullWithin(c, ref, 90*time.Second)
		took[i] = time.Since(start)
		if err != nil {
			t.Fatalf("pull %d with a frozen provider ahead of a good source: %v (after %s)", i, err, took[i].Round(time.Millisecond))
		}
	}
	warnings := strings.Count(c.Log(), "could not be reaped")
	t.Logf("pulls with the frozen provider (timeout 2s): first %s, second %s; warnings: %d", took[0].Round(time.Millisecond), took[1].Round(time.Millisecond), warnings)
	if warnings != 1 {
		t.Fatalf("%d warnings say the provider could not be reaped, want 1", warnings)
	}
	if !strings.Contains(c.Log(), `failed to run provider \"frozen-provider\"`) {
		t.Fatal("the warning does not name the provider")
	}
}

// TestKubeletConfigDirectoryDropIn: a config directory, as the kubelet
// reads it since 1.34: a drop-in added while containerd runs serves its
// registry, explain names the file each provider came from, and the
// drop-in removed stops serving.
func TestKubeletConfigDirectoryDropIn(t *testing.T) {
	regA := startRegistry(t, "a", "app/web:1")
	regB := startRegistry(t, "b", "app/web:1", "app/web:2", "app/web:3")
	binDir := providerBin(t, "node-provider", "own-provider")
	dir := t.TempDir()
	nodeFile, ownFile := filepath.Join(dir, "10-node.yaml"), filepath.Join(dir, "20-own.yml")
	replaceFile(t, nodeFile, providerFile(providerEntry("node-provider", regA.Host, map[string]string{"PROVIDER_USER": regA.user, "PROVIDER_PASSWORD": regA.password}, "")))
	hostsDir := hostsDirForAll(t, regA, regB)
	section := nodecredSection("", kubeletSource(dir, binDir))
	c := startContainerd(t, bins.Containerd, harness.ContainerdConfig{HostsDir: hostsDir, Nodecred: section})
	if err := criPull(c, regA.Host+"/app/web:1", nil); err != nil {
		t.Fatal(err)
	}
	if err := criPull(c, regB.Host+"/app/web:1", nil); err == nil || !isAuthError(err) {
		t.Fatalf("pull from b before its drop-in: %v, want an authorization failure", err)
	}
	replaceFile(t, ownFile, providerFile(providerEntry("own-provider", regB.Host, map[string]string{"PROVIDER_USER": regB.user, "PROVIDER_PASSWORD": regB.password}, "")))
	if err := criPull(c, regB.Host+"/app/web:2", nil); err != nil {
		t.Fatalf("pull from b after its drop-in was added: %v", err)
	}
	out, code := runCLI(t, "explain", "--config", containerdConfigFile(t, hostsDir, section), "--json", regB.Host+"/app/web:2")
	if code != 0 {
		t.Fatalf("explain exit %d:\n%s", code, out)
	}
	var plan struct {
		Hosts     []struct{ Host, Source string } `json:"hosts"`
		Providers []struct{ Name, File, Source string }
	}
	if err := json.Unmarshal([]byte(out), &plan); err != nil {
		t.Fatal(err)
	}
	if len(plan.Providers) != 2 || plan.Providers[0].File != nodeFile || plan.Providers[1].File != ownFile || plan.Providers[1].Name != "own-provider" {
		t.Fatalf("explain providers %+v, want each with its file", plan.Providers)
	}
	if err := os.Remove(ownFile); err != nil {
		t.Fatal(err)
	}
	if err := criPull(c, regB.Host+"/app/web:3", nil); err == nil || !isAuthError(err) {
		t.Fatalf("pull from b after its drop-in was removed: %v, want an authorization failure", err)
	}
}

// TestKubeletTokenAttributesConfig: the config a kubelet uses, with a
// provider that needs a pod's service account beside a node provider,
// starts containerd; the node provider serves, the other never runs and is
// said skipped once, in the log and by explain.
func TestKubeletTokenAttributesConfig(t *testing.T) {
	reg := startRegistry(t, "node", "app/web:1", "app/web:2")
	binDir := providerBin(t, "sa-provider", "node-provider")
	saCount, nodeCount := filepath.Join(t.TempDir(), "sa"), filepath.Join(t.TempDir(), "node")
	tokenAttrs := "  tokenAttributes:\n    serviceAccountTokenAudience: registry.example.com\n    cacheType: ServiceAccount\n    requireServiceAccount: true\n    requiredServiceAccountAnnotationKeys: [\"example.com/registry-role\"]\n"
	config := writeFile(t, t.TempDir(), "credential-provider.yaml", providerFile(
		providerEntry("sa-provider", reg.Host, map[string]string{"PROVIDER_USER": "wrong", "PROVIDER_PASSWORD": "wrong", "PROVIDER_COUNT_FILE": saCount}, tokenAttrs),
		providerEntry("node-provider", reg.Host, map[string]string{"PROVIDER_USER": reg.user, "PROVIDER_PASSWORD": reg.password, "PROVIDER_COUNT_FILE": nodeCount}, "")))
	hostsDir := hostsDirFor(t, reg)
	section := nodecredSection("", kubeletSource(config, binDir))
	c := startContainerd(t, bins.Containerd, harness.ContainerdConfig{HostsDir: hostsDir, Nodecred: section})
	for _, tag := range []string{"1", "2"} {
		if err := criPull(c, reg.Host+"/app/web:"+tag, nil); err != nil {
			t.Fatalf("pull: %v", err)
		}
	}
	if n := len(lines(t, saCount)); n != 0 {
		t.Fatalf("the provider that requires a service account ran %d times", n)
	}
	if n := len(lines(t, nodeCount)); n != 1 {
		t.Fatalf("the node provider ran %d times, want 1", n)
	}
	if n := strings.Count(c.Log(), "credential provider skipped"); n != 1 || !strings.Contains(c.Log(), "provider=sa-provider") {
		t.Fatalf("the skip is said %d times in the log, want once naming sa-provider", n)
	}
	out, code := runCLI(t, "explain", "--config", containerdConfigFile(t, hostsDir, section), reg.Host+"/app/web:1")
	if code != 0 || !strings.Contains(out, "sa-provider") || !strings.Contains(out, "skipped: tokenAttributes.requireServiceAccount is true") {
		t.Fatalf("explain (exit %d) does not say sa-provider is skipped:\n%s", code, out)
	}
}

// freezerCgroup makes a cgroup whose processes can be frozen: under the
// cgroup v1 freezer when it is mounted, else under cgroup v2; it skips the
// test, saying why, when neither can be made. Cleanup thaws it and waits
// for its processes to end.
func freezerCgroup(t *testing.T) string {
	t.Helper()
	var dir, thawFile, thaw string
	switch {
	case exists("/sys/fs/cgroup/freezer/cgroup.procs"):
		dir, thawFile, thaw = "/sys/fs/cgroup/freezer", "freezer.state", "THAWED"
	case exists("/sys/fs/cgroup/cgroup.controllers"):
		dir, thawFile, thaw = "/sys/fs/cgroup", "cgroup.freeze", "0"
	default:
		t.Skip("no cgroup v1 freezer at /sys/fs/cgroup/freezer and no cgroup v2 at /sys/fs/cgroup")
	}
	cg := filepath.Join(dir, fmt.Sprintf("nodecred-e2e-%d-%d", os.Getpid(), time.Now().UnixNano()))
	if err := os.Mkdir(cg, 0o755); err != nil {
		t.Skipf("cannot make a freezer cgroup: %v", err)
	}
	t.Cleanup(func() {
		_ = os.WriteFile(filepath.Join(cg, thawFile), []byte(thaw), 0)
		for range 500 {
			if os.Remove(cg) == nil {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Errorf("cgroup %s still holds processes after the thaw", cg)
	})
	return cg
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }
