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
	"bytes"
	"encoding/json"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/nodecred/nodecred/test/e2e/harness"
)

// runCLI runs bin/nodecred and checks its output for secrets.
func runCLI(t *testing.T, args ...string) (stdout string, exitCode int) {
	t.Helper()
	cmd := exec.Command(bins.Nodecred, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case asExit(err, &exitErr):
		exitCode = exitErr.ExitCode()
	default:
		t.Fatal(err)
	}
	leaks := secrets.Leaks(out.String() + errOut.String())
	if len(leaks) > 0 {
		t.Errorf("nodecred %s printed %d secret form(s)", args[0], len(leaks))
	}
	t.Logf("nodecred %s\nstdout:\n%s\nstderr: %s", strings.Join(args, " "), out.String(), errOut.String())
	return out.String(), exitCode
}

func asExit(err error, target **exec.ExitError) bool {
	e, ok := err.(*exec.ExitError)
	*target = e
	return ok
}

// containerdConfigFile writes a config.toml for the CLI to read.
func containerdConfigFile(t *testing.T, hostsDir, nodecred string) string {
	return writeFile(t, t.TempDir(), "config.toml", harness.ContainerdConfig{HostsDir: hostsDir, Nodecred: nodecred}.Render(t.TempDir()))
}

func TestExplainNamesMirrorSource(t *testing.T) {
	upstream := startRegistry(t, "upstream-user", "lib/app:1")
	mirror := startRegistry(t, "mirror-user", "lib/app:1")
	hostsDir := t.TempDir()
	if err := harness.WriteHostsToml(hostsDir, upstream.Host, upstream.Host, mirror.Host); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := containerdConfigFile(t, hostsDir, nodecredSection("",
		staticSource(upstream.Host, upstream.user, writeFile(t, dir, "up", upstream.password)),
		staticSource(mirror.Host, mirror.user, writeFile(t, dir, "mirror", mirror.password))))

	out, code := runCLI(t, "explain", "--config", cfg, "--json", upstream.Host+"/lib/app:1")
	if code != 0 {
		t.Fatalf("explain exit %d:\n%s", code, out)
	}
	var plan struct {
		Hosts []struct{ Host, Role, Source, Kind string } `json:"hosts"`
	}
	if err := json.Unmarshal([]byte(out), &plan); err != nil {
		t.Fatalf("explain --json: %v\n%s", err, out)
	}
	if len(plan.Hosts) != 2 {
		t.Fatalf("explain listed %d hosts, want the mirror then the upstream:\n%s", len(plan.Hosts), out)
	}
	m, u := plan.Hosts[0], plan.Hosts[1]
	if m.Host != mirror.Host || m.Role != "mirror" || m.Source != "static:"+mirror.Host || m.Kind != "basic" {
		t.Errorf("mirror row = %+v, want %s served by static:%s", m, mirror.Host, mirror.Host)
	}
	if u.Host != upstream.Host || u.Role != "server" || u.Source != "static:"+upstream.Host {
		t.Errorf("upstream row = %+v", u)
	}
	text, code := runCLI(t, "explain", "--config", cfg, upstream.Host+"/lib/app:1")
	if code != 0 || !strings.Contains(text, "static:"+mirror.Host) || !strings.Contains(text, "CREDENTIAL") {
		t.Errorf("explain text (exit %d):\n%s", code, text)
	}
}

func TestCheckGoodAndWrongCredentials(t *testing.T) {
	reg := startRegistry(t, "node", "app/web:1")
	hostsDir := hostsDirFor(t, reg)
	dir := t.TempDir()
	good := containerdConfigFile(t, hostsDir, nodecredSection("", staticSource(reg.Host, reg.user, writeFile(t, dir, "good", reg.password))))
	wrong := containerdConfigFile(t, hostsDir, nodecredSection("", staticSource(reg.Host, reg.user, writeFile(t, dir, "wrong", newPassword(reg.user)))))
	ref := reg.Host + "/app/web:1"

	out, code := runCLI(t, "check", "--config", good, ref)
	if code != 0 || !strings.Contains(out, "ok: the pull would resolve") {
		t.Fatalf("check with good credentials: exit %d\n%s", code, out)
	}
	out, code = runCLI(t, "check", "--config", wrong, ref)
	if code != 1 || !strings.Contains(out, "unauthorized") || !strings.Contains(out, "401") {
		t.Fatalf("check with a wrong password: exit %d, want 1 and a 401 named\n%s", code, out)
	}
	out, code = runCLI(t, "check", "--config", wrong, "--json", ref)
	var res struct {
		OK    bool `json:"ok"`
		Hosts []struct {
			Status string `json:"status"`
			HTTP   int    `json:"http_status"`
		} `json:"hosts"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || code != 1 || res.OK || len(res.Hosts) != 1 || res.Hosts[0].HTTP != 401 {
		t.Fatalf("check --json with a wrong password: exit %d, %+v, %v\n%s", code, res, err, out)
	}
	if _, code := runCLI(t, "check", "--config", filepath.Join(dir, "missing.toml"), ref); code != 2 {
		t.Fatalf("check with a missing config: exit %d, want 2", code)
	}
}

// socketTap is a byte-level proxy in front of containerd's socket that
// keeps everything the client sends, to show what crosses the socket.
type socketTap struct {
	path string
	mu   sync.Mutex
	sent bytes.Buffer
}

func newSocketTap(t *testing.T, target string) *socketTap {
	dir, err := os.MkdirTemp("", "tap")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	tap := &socketTap{path: filepath.Join(dir, "s.sock")}
	l, err := net.Listen("unix", tap.path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				up, err := net.Dial("unix", target)
				if err != nil {
					return
				}
				defer up.Close()
				go func() { _, _ = io.Copy(c, up) }()
				_, _ = io.Copy(io.MultiWriter(up, tap), c)
			}()
		}
	}()
	return tap
}

func (s *socketTap) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sent.Write(p)
}

func (s *socketTap) bytesSent() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sent.String()
}

func TestPullThroughDaemonSendsNoSecret(t *testing.T) {
	reg := startRegistry(t, "node", "app/web:1")
	hostsDir := hostsDirFor(t, reg)
	auth := authFileFor(t, reg)
	c := startContainerd(t, bins.Containerd, harness.ContainerdConfig{
		HostsDir: hostsDir,
		Nodecred: nodecredSection("", dockerconfigSource(auth)),
	})
	tap := newSocketTap(t, c.Socket)
	ref := reg.Host + "/app/web:1"
	out, code := runCLI(t, "pull", "--address", tap.path, "--hosts-dir", hostsDir, ref)
	if code != 0 {
		t.Fatalf("pull: exit %d\n%s", code, out)
	}
	if !strings.Contains(out, "pulled "+ref+" in namespace k8s.io") {
		t.Errorf("pull output:\n%s", out)
	}
	if !eventuallyPresent(t, c, ref) {
		t.Fatalf("%s not in CRI's k8s.io image store after nodecred pull", ref)
	}
	sent := tap.bytesSent()
	if !strings.Contains(sent, "NodeRegistry") {
		t.Fatalf("the tap saw no NodeRegistry request (%d bytes): the check below would prove nothing", len(sent))
	}
	leaks := secrets.Leaks(sent)
	if len(leaks) > 0 {
		t.Fatalf("the client sent %d secret form(s) over the socket", len(leaks))
	}
}
