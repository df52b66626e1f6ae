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
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nodecred/nodecred/test/e2e/harness"
)

// localPullLog is what containerd's CRI logs when a setting makes it pull
// outside the transfer service (internal/cri/config CheckLocalImagePullConfigs).
const localPullLog = "Falling back to local image pull mode"

// A node whose sandbox image is on a TLS registry that wants a client
// certificate and a password, configured the deprecated way (a mirror
// entry naming the https endpoint, registry.configs tls and auth tables,
// no config_path), is migrated with nodecred migrate. Before, CRI pulls
// locally, and containerd 2.x no longer reads the tls table, so the pull
// fails verification. After the printed edits, CRI pulls the sandbox image
// through the transfer service with the hosts.toml migrate wrote and the
// credential nodecred serves from the auth file migrate wrote.
func TestMigrateMovesTLSNodeOntoTransferService(t *testing.T) {
	plain, reg, files := startTLSRegistry(t, "tls-node", "private/pause:3.10")
	image := reg.Host + "/private/pause:3.10"
	const images = `plugins."io.containerd.cri.v1.images"`
	deprecated := fmt.Sprintf(`
[%[1]s.registry.mirrors.%[2]q]
  endpoint = [%[3]q]
[%[1]s.registry.configs.%[2]q.tls]
  ca_file = %[4]q
  cert_file = %[5]q
  key_file = %[6]q
[%[1]s.registry.configs.%[2]q.auth]
  username = %[7]q
  password = %[8]q
`, images, reg.Host, "https://"+reg.Host, files.CA, files.ClientCert, files.ClientKey, plain.user, plain.password)

	before := harness.ContainerdConfig{SandboxImage: image, Nodecred: deprecated}
	c := startContainerd(t, bins.Containerd, before)
	err := runSandbox(t, c, "before-migrate")
	t.Logf("before migrating, RunPodSandbox: %v", err)
	if !strings.Contains(c.Log(), localPullLog) {
		t.Fatalf("before migrating, containerd's log lacks %q", localPullLog)
	}
	if err == nil || !strings.Contains(err.Error(), "unknown authority") || imagePresent(t, c, image) {
		t.Fatalf("before migrating: RunPodSandbox err = %v; want the registry's certificate refused (containerd 2.x ignores the tls table)", err)
	}
	c.Stop()

	dir := t.TempDir()
	cfgPath := writeFile(t, dir, "config.toml", before.Render(t.TempDir()))
	authPath := filepath.Join(dir, "auth.json")
	hostsDir := filepath.Join(dir, "certs.d")
	out, code := runCLI(t, "migrate", "--config", cfgPath, "--out", authPath, "--hosts-dir", hostsDir)
	if code != 0 {
		t.Fatalf("nodecred migrate exited %d", code)
	}
	for _, want := range []string{
		fmt.Sprintf("config_path = %q", hostsDir),
		fmt.Sprintf("path = %q", authPath),
		fmt.Sprintf("[%s.registry.configs.%q.tls]", images, reg.Host),
		fmt.Sprintf("[%s.registry.configs.%q.auth]", images, reg.Host),
		fmt.Sprintf("[%s.registry.mirrors.%q]", images, reg.Host),
	} {
		if !strings.Contains(out, want) {
			t.Errorf("migrate's output lacks %s", want)
		}
	}
	if _, code := runCLI(t, "migrate", "--config", cfgPath, "--out", authPath+".2", "--hosts-dir", hostsDir); code != 1 {
		t.Errorf("second migrate over the hosts.toml it wrote exited %d, want 1 (refused without --force)", code)
	}

	// The edits migrate printed: config_path set, the nodecred section
	// added, the deprecated tables deleted.
	after := harness.ContainerdConfig{
		HostsDir:     hostsDir,
		SandboxImage: image,
		Nodecred:     nodecredSection("", dockerconfigSource(authPath)),
	}
	c = startContainerd(t, bins.Containerd, after)
	err = runSandbox(t, c, "after-migrate")
	t.Logf("after migrating, RunPodSandbox: %v", err)
	if strings.Contains(c.Log(), localPullLog) {
		t.Fatalf("after migrating, containerd still logs %q", localPullLog)
	}
	if !imagePresent(t, c, image) {
		t.Fatalf("after migrating, sandbox image %s not pulled; RunPodSandbox: %v", image, err)
	}
	if !strings.Contains(c.Log(), "source=\"dockerconfig:"+authPath+"\"") {
		t.Errorf("containerd log has no credential decision naming the auth file migrate wrote")
	}
}
