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
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	introspection "github.com/containerd/containerd/api/services/introspection/v1"

	"github.com/nodecred/nodecred/test/e2e/harness"
)

// nodecredExports returns the nodecred plugin's exports as
// `ctr plugins ls -d id==nodecred` asks for them.
func nodecredExports(t *testing.T, c *harness.Containerd) map[string]string {
	t.Helper()
	resp, err := introspection.NewIntrospectionClient(c.Conn).Plugins(context.Background(), &introspection.PluginsRequest{Filters: []string{"id==nodecred"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range resp.Plugins {
		if p.Type == "io.containerd.credentials.v1" {
			return p.Exports
		}
	}
	t.Fatalf("no nodecred plugin in %v", resp.Plugins)
	return nil
}

// logLines returns the lines of log that contain s.
func logLines(log, s string) []string {
	var out []string
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return out
}

// criLocalLine is the message of nodecred's one line about local pull mode.
const criLocalLine = `msg="CRI pulls images without the transfer service"`

// With a setting that makes CRI pull locally, the sandbox pull gets no node
// credentials, as on stock containerd, and nodecred says so by name: one
// error line, its exports and its metric.
func TestCRILocalPullModeIsNamed(t *testing.T) {
	s := newSandboxSetup(t)
	addr, err := harness.FreeAddress()
	if err != nil {
		t.Fatal(err)
	}
	c := startContainerd(t, bins.Containerd, harness.ContainerdConfig{
		HostsDir:       s.hostsDir,
		SandboxImage:   s.image,
		MetricsAddress: addr,
		Nodecred: nodecredSection("", dockerconfigSource(s.authFile)) +
			"[plugins.\"io.containerd.cri.v1.images\"]\n  discard_unpacked_layers = true\n",
	})
	err = runSandbox(t, c, "local-a")
	if err == nil || !isAuthError(err) {
		t.Errorf("RunPodSandbox in local pull mode: %v, want an authorization failure (CRI does not ask nodecred)", err)
	}
	lines := logLines(c.Log(), criLocalLine)
	if len(lines) != 1 {
		t.Fatalf("want one line %q, got %d:\n%s", criLocalLine, len(lines), strings.Join(lines, "\n"))
	}
	for _, want := range []string{"level=error", "plugin=nodecred", "discard_unpacked_layers = true", s.image, "To fix: set it to false"} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("line lacks %q: %s", want, lines[0])
		}
	}
	ex := nodecredExports(t, c)
	if ex["cri_pull_mode"] != "local" || ex["cri_pull_setting"] != "discard_unpacked_layers = true" {
		t.Errorf("exports = %v", ex)
	}
	resp, err := http.Get("http://" + addr + "/v1/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := `nodecred_cri_pull_mode{mode="local",setting="discard_unpacked_layers = true"} 1`; !strings.Contains(string(body), want) {
		t.Errorf("metrics lack %s", want)
	}
	// explain and check, on the config containerd ran with, say it first
	// and exit 3; check still finds that the node credential works (for
	// transfer API clients).
	for _, cmd := range []string{"explain", "check"} {
		out, code := runCLI(t, cmd, "--config", filepath.Join(c.Dir, "config.toml"), s.image)
		first, _, _ := strings.Cut(out, "\n")
		if code != 3 || !strings.Contains(first, "CRI PULLS LOCALLY (discard_unpacked_layers = true)") {
			t.Errorf("nodecred %s: exit %d, first line %q; want exit 3 and the setting named first", cmd, code, first)
		}
	}
}

// In transfer mode the exports say so, no error line is logged, and the
// sandbox image's host was asked for at startup (the decision log shows
// the lookup before any pull).
func TestCRITransferPullModeIsExported(t *testing.T) {
	s := newSandboxSetup(t)
	c := startContainerd(t, bins.Containerd, harness.ContainerdConfig{
		HostsDir:     s.hostsDir,
		SandboxImage: s.image,
		Nodecred:     nodecredSection("", dockerconfigSource(s.authFile)),
	})
	ex := nodecredExports(t, c)
	if ex["cri_pull_mode"] != "transfer" || ex["cri_pull_setting"] != "" {
		t.Errorf("exports = %v", ex)
	}
	if lines := logLines(c.Log(), criLocalLine); len(lines) != 0 {
		t.Errorf("transfer mode logged %s", lines)
	}
	warmed := false
	for range 200 {
		if len(logLines(c.Log(), `msg="warmed sandbox image credentials"`)) > 0 {
			warmed = true
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !warmed {
		t.Errorf("no credentials were warmed for the sandbox image at startup")
	}
}

// require_cri_transfer_pull stops containerd when CRI pulls locally, naming
// the key and the setting.
func TestRequireCRITransferPullStopsContainerd(t *testing.T) {
	dir, err := os.MkdirTemp("", "nc")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	out, err := harness.RunContainerd(context.Background(), bins.Containerd, dir, harness.ContainerdConfig{
		Nodecred: nodecredSection("require_cri_transfer_pull = true\n", dockerconfigSource("/etc/containerd/auth.json")) +
			"[plugins.\"io.containerd.cri.v1.images\"]\n  use_local_image_pull = true\n",
	}, 60*time.Second)
	if err == nil || strings.Contains(out, "containerd successfully booted") {
		t.Fatalf("containerd started in local pull mode with require_cri_transfer_pull set (err %v)", err)
	}
	for _, want := range []string{"require_cri_transfer_pull is set and CRI pulls locally (use_local_image_pull = true)"} {
		if !strings.Contains(out, want) {
			t.Errorf("containerd output lacks %q:\n%s", want, out)
		}
	}
}
