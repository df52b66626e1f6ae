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

// Package e2e runs nodecred inside a real containerd built from this module
// against real distribution registries with htpasswd auth on loopback, and
// talks CRI and the transfer API to it. It needs root.
package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nodecred/nodecred/test/e2e/harness"
)

var bins harness.Binaries

// secrets holds every secret form the run has used; each containerd log is
// scanned for all of them when its test ends.
var secrets harness.Secrets

func TestMain(m *testing.M) {
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "e2e: these tests start containerd and must run as root")
		os.Exit(1)
	}
	wd, _ := os.Getwd()
	root, err := harness.RepoRoot(wd)
	if err == nil {
		bins, err = harness.Build(context.Background(), root)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: build:", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// newPassword returns a random password whose forms the scans look for.
func newPassword(user string) string { return secrets.NewPassword(user) }

// testRegistry is a started registry holding an image, with one user.
type testRegistry struct {
	*harness.Registry
	user, password string
}

// startRegistry starts a registry with one user and pushes a small image to
// each of the given repo:tag names, for a test or a benchmark.
func startRegistry(t testing.TB, user string, refs ...string) testRegistry {
	t.Helper()
	password := newPassword(user)
	r, err := harness.StartPrivateRegistry(context.Background(), bins.Registry, t.TempDir(), user, password, refs...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Stop)
	return testRegistry{Registry: r, user: user, password: password}
}

// startContainerd starts bin with cfg and scans its log for every secret of
// the run when the test ends.
func startContainerd(t *testing.T, bin string, cfg harness.ContainerdConfig) *harness.Containerd {
	t.Helper()
	dir, err := os.MkdirTemp("", "nc")
	if err != nil {
		t.Fatal(err)
	}
	c, err := harness.StartContainerd(context.Background(), bin, dir, cfg)
	if err != nil {
		os.RemoveAll(dir)
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Stop()
		leaks := secrets.Leaks(c.Log())
		if len(leaks) > 0 {
			t.Errorf("containerd log %s carries %d secret form(s)", c.LogPath, len(leaks))
		} else if !t.Failed() {
			os.RemoveAll(dir)
		}
	})
	return c
}

// hostsDirFor returns a hosts directory that sends reg's host to it over
// plain HTTP.
func hostsDirFor(t *testing.T, reg testRegistry) string {
	t.Helper()
	dir := t.TempDir()
	if err := harness.WriteHostsToml(dir, reg.Host, reg.Host); err != nil {
		t.Fatal(err)
	}
	return dir
}

// authFileFor writes a docker config holding reg's credentials.
func authFileFor(t *testing.T, reg testRegistry) string {
	t.Helper()
	return writeFile(t, t.TempDir(), "auth.json", dockerConfig(map[string][2]string{reg.Host: {reg.user, reg.password}}))
}

// writeFile writes a file under dir with mode 0600 and returns its path.
func writeFile(t testing.TB, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// dockerConfig returns a docker config.json with an auths entry per host.
func dockerConfig(entries map[string][2]string) string {
	var parts []string
	for host, up := range entries {
		parts = append(parts, fmt.Sprintf("%q: {%q: %q}", host, "auth", b64(up[0]+":"+up[1])))
	}
	return `{"auths": {` + strings.Join(parts, ", ") + `}}`
}

// nodecredSection renders the nodecred config section with the given
// top-level lines and sources.
func nodecredSection(top string, sources ...string) string {
	var b strings.Builder
	b.WriteString("[plugins.\"io.containerd.credentials.v1.nodecred\"]\n")
	b.WriteString(top)
	for _, s := range sources {
		b.WriteString("\n[[plugins.\"io.containerd.credentials.v1.nodecred\".sources]]\n")
		b.WriteString(s)
		b.WriteString("\n")
	}
	return b.String()
}

func dockerconfigSource(path string) string {
	return fmt.Sprintf("type = \"dockerconfig\"\npath = %q", path)
}

func staticSource(host, user, passwordFile string) string {
	return fmt.Sprintf("type = \"static\"\nhosts = [%q]\nusername = %q\npassword_file = %q", host, user, passwordFile)
}
