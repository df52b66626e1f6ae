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

// Issue 22: a failed pull's error, as CRI and the transfer API return it,
// says what node credentials did for each host the pull contacted, in a
// clause beginning "node credentials:". Through CRI that error becomes the
// pod's event text, which the pod's tenants read: each test checks that
// no secret, file contents or program output is in it.

import (
	"fmt"
	"strings"
	"testing"

	"github.com/containerd/containerd/v2/core/transfer/registry"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/nodecred/nodecred/test/e2e/harness"
)

// wantClause fails t unless err carries want, and fails it if err carries
// any secret of the run or any of forbidden.
func wantClause(t *testing.T, what string, err error, want string, forbidden ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s succeeded; want an error with %q", what, want)
	}
	msg := err.Error()
	t.Logf("%s: %s", what, msg)
	if !strings.Contains(msg, want) {
		t.Errorf("%s: error lacks %q:\n%s", what, want, msg)
	}
	if n := strings.Count(msg, "node credentials: "); n == 0 {
		t.Errorf("%s: error has no node credentials clause", what)
	}
	for _, f := range forbidden {
		if strings.Contains(msg, f) {
			t.Errorf("%s: error carries %q", what, f)
		}
	}
	leaks := secrets.Leaks(msg)
	if len(leaks) > 0 {
		t.Errorf("%s: error carries %d secret form(s)", what, len(leaks))
	}
}

// sameAsStock fails t unless err, from containerd with nodecred, is
// stockErr, from stock containerd for the same request, with "; " and
// clause appended: the clause is the only change, and CRI's and gRPC's
// wrapping (the status code included) is stock's.
func sameAsStock(t *testing.T, err, stockErr error, clause string) {
	t.Helper()
	if stockErr == nil {
		t.Fatalf("stock containerd's pull succeeded")
	}
	if got, want := err.Error(), stockErr.Error()+"; "+clause; got != want {
		t.Errorf("error differs from stock containerd's beyond the clause:\n got: %s\nwant: %s", got, want)
	}
}

// grpcPullK8s pulls ref through the transfer API in namespace k8s.io, with
// an OCIRegistry that has the hosts directory and no credentials.
func grpcPullK8s(t *testing.T, c *harness.Containerd, ref, hostsDir string) error {
	return transferPull(client(t, c), "k8s.io", ref, ociRegistry(t, ref, hostsDir))
}

// ociRegistryOpts are a transfer client's registry options: the hosts
// directory and its own credentials, as `ctr --user` sends them.
func ociRegistryOpts(hostsDir string, creds hostCredentials) []registry.Opt {
	return []registry.Opt{registry.WithHostDir(hostsDir), registry.WithCredentials(creds)}
}

func TestClauseNoNodeSourceHasCredentials(t *testing.T) {
	reg := startRegistry(t, "node", "app/web:1", "private/pause:3.10")
	hostsDir := hostsDirFor(t, reg)
	other := newPassword("other")
	auth := writeFile(t, t.TempDir(), "auth.json", dockerConfig(map[string][2]string{"other.example:5000": {"other", other}}))
	c := startContainerd(t, bins.Containerd, harness.ContainerdConfig{
		HostsDir:     hostsDir,
		SandboxImage: reg.Host + "/private/pause:3.10",
		Nodecred:     nodecredSection("", dockerconfigSource(auth)),
	})
	stock := startContainerd(t, bins.StockContainerd, harness.ContainerdConfig{HostsDir: hostsDir})
	want := "node credentials: no node source has credentials for " + reg.Host
	ref := reg.Host + "/app/web:1"
	err := criPull(c, ref, nil)
	wantClause(t, "CRI PullImage", err, want, auth, "other.example")
	sameAsStock(t, err, criPull(stock, ref, nil), want)
	wantClause(t, "CRI RunPodSandbox", runSandbox(t, c, "clause-miss"), want, auth, "other.example")
	wantClause(t, "transfer API pull", grpcPullK8s(t, c, ref, hostsDir), want, auth, "other.example")
}

func TestClauseRegistryRefusedNodeCredential(t *testing.T) {
	reg := startRegistry(t, "node", "app/web:1")
	hostsDir := hostsDirFor(t, reg)
	wrong := newPassword(reg.user)
	auth := writeFile(t, t.TempDir(), "auth.json", dockerConfig(map[string][2]string{reg.Host: {reg.user, wrong}}))
	c := startContainerd(t, bins.Containerd, harness.ContainerdConfig{
		HostsDir: hostsDir,
		Nodecred: nodecredSection("", dockerconfigSource(auth)),
	})
	want := "node credentials: " + reg.Host + " refused the credential from dockerconfig sources[0] (401 Unauthorized)"
	ref := reg.Host + "/app/web:1"
	wantClause(t, "CRI PullImage", criPull(c, ref, nil), want, auth)
	wantClause(t, "transfer API pull", grpcPullK8s(t, c, ref, hostsDir), want, auth)
}

// Helpers and a provider that fail in the ways real ones do: the clause
// names each program and how its run ended, never what it printed.
func TestClauseProgramsFailed(t *testing.T) {
	reg := startRegistry(t, "node", "app/web:1")
	hostsDir := hostsDirFor(t, reg)
	const token = "ya29.c.b0AXv0zTPQclausesecretclausesecret"
	var dirs []string // where the helpers are: paths are not for the clause
	helper := func(name, mode string, extra ...string) string {
		dir, program, env := installHelper(t, name, nil)
		dirs = append(dirs, dir)
		env = append(env, "CREDHELPER_MODE="+mode)
		env = append(env, extra...)
		return fmt.Sprintf("type = \"helper\"\nhelper = %q\nhosts = [%q]\ntimeout = \"2s\"\nenv = %s", program, reg.Host, tomlEnv(env))
	}
	config, binDir, _ := installProvider(t, reg.Host, map[string]string{"PROVIDER_MODE": "fail"})
	c := startContainerd(t, bins.Containerd, harness.ContainerdConfig{
		HostsDir: hostsDir,
		Nodecred: nodecredSection("",
			helper("fail", "fail", `CREDHELPER_REASON=oauth2: cannot fetch token: {"access_token":"`+token+`"}`),
			helper("crash", "crash"),
			helper("hang", "hang"),
			kubeletSource(config, binDir)),
	})
	want := "node credentials: no node source has credentials for " + reg.Host +
		" (helper docker-credential-fail in helper sources[0] failed: exit status 1" +
		", helper docker-credential-crash in helper sources[1] failed: exit status 3" +
		", helper docker-credential-hang in helper sources[2] failed: timed out after 2s" +
		", provider test-provider in kubelet sources[3] failed: exit status 2" +
		"; reasons in containerd's log)"
	// What the programs printed: the helpers' reason on stdout, the
	// crashing helper's and the provider's stderr.
	printed := append([]string{token, "cannot fetch token", "eyJhbGciOiJSUzI1NiJ9", "helper broke", "provider failed", binDir, config}, dirs...)
	ref := reg.Host + "/app/web:1"
	wantClause(t, "CRI PullImage", criPull(c, ref, nil), want, printed...)
	wantClause(t, "transfer API pull", grpcPullK8s(t, c, ref, hostsDir), want, printed...)
	// The reasons are in containerd's log, redacted.
	if log := c.Log(); !strings.Contains(log, "cannot fetch token") || !strings.Contains(log, "provider failed") {
		t.Errorf("containerd's log lacks the programs' reasons")
	}
}

func TestClauseCallerCredentialsUsed(t *testing.T) {
	reg := startRegistry(t, "kubelet", "app/web:1")
	hostsDir := hostsDirFor(t, reg)
	auth := authFileFor(t, reg)
	c := startContainerd(t, bins.Containerd, harness.ContainerdConfig{
		HostsDir: hostsDir,
		Nodecred: nodecredSection("", dockerconfigSource(auth)),
	})
	wrong := newPassword(reg.user)

	// Stock containerd of the same version, for the error it gives.
	stock := startContainerd(t, bins.StockContainerd, harness.ContainerdConfig{HostsDir: hostsDir})

	// The kubelet's credentials are refused: node credentials were not asked.
	ref := reg.Host + "/app/web:1"
	want := "node credentials: " + reg.Host + " refused the caller's credentials (401 Unauthorized); node credentials were not used"
	wrongAuth := &runtime.AuthConfig{Username: reg.user, Password: wrong}
	err := criPull(c, ref, wrongAuth)
	wantClause(t, "CRI PullImage with wrong kubelet auth", err, want, auth)
	sameAsStock(t, err, criPull(stock, ref, wrongAuth), want)
	err = grpcPull(client(t, c), ref, ociRegistryOpts(hostsDir, hostCredentials{reg.Host: {reg.user, wrong}})...)
	wantClause(t, "transfer API pull with wrong client credentials", err, want, auth)
	sameAsStock(t, err, grpcPull(client(t, stock), ref, ociRegistryOpts(hostsDir, hostCredentials{reg.Host: {reg.user, wrong}})...), want)

	// The kubelet's credentials are good; the tag does not exist.
	missing := reg.Host + "/app/web:missing"
	want = "node credentials: the caller's credentials were used for " + reg.Host + ", not node credentials"
	goodAuth := &runtime.AuthConfig{Username: reg.user, Password: reg.password}
	err = criPull(c, missing, goodAuth)
	wantClause(t, "CRI PullImage of a missing tag with kubelet auth", err, want, auth)
	sameAsStock(t, err, criPull(stock, missing, goodAuth), want)
	err = grpcPull(client(t, c), missing, ociRegistryOpts(hostsDir, hostCredentials{reg.Host: {reg.user, reg.password}})...)
	wantClause(t, "transfer API pull of a missing tag with client credentials", err, want, auth)

	// The success path is unchanged.
	if err := criPull(c, ref, nil); err != nil {
		t.Fatalf("CRI PullImage with node credentials: %v", err)
	}
}

// TestRefusedHostOnlyAnswerDropped: a pull goes to a mirror, whose helper
// answer is good but which lacks the image, then to the upstream, whose
// helper answer is refused. Only the upstream's cached answer is dropped:
// the next pull runs the upstream's helper again and not the mirror's.
func TestRefusedHostOnlyAnswerDropped(t *testing.T) {
	upstream := startRegistry(t, "node", "app/web:1")
	mirror := startRegistry(t, "mirror")
	hostsDir := t.TempDir()
	if err := harness.WriteHostsToml(hostsDir, upstream.Host, upstream.Host, mirror.Host); err != nil {
		t.Fatal(err)
	}
	wrong := newPassword(upstream.user)
	mirrorDir, mirrorProgram, mirrorEnv := installHelper(t, "mirror", map[string]string{mirror.Host: mirror.user + ":" + mirror.password})
	upDir, upProgram, upEnv := installHelper(t, "upstream", map[string]string{upstream.Host: upstream.user + ":" + wrong})
	helper := func(program, host string, env []string) string {
		return fmt.Sprintf("type = \"helper\"\nhelper = %q\nhosts = [%q]\nenv = %s", program, host, tomlEnv(env))
	}
	c := startContainerd(t, bins.Containerd, harness.ContainerdConfig{
		HostsDir: hostsDir,
		Nodecred: nodecredSection("", helper(mirrorProgram, mirror.Host, mirrorEnv), helper(upProgram, upstream.Host, upEnv)),
	})
	ref := upstream.Host + "/app/web:1"
	err := criPull(c, ref, nil)
	wantClause(t, "CRI PullImage", err, "node credentials: "+upstream.Host+" refused the credential from helper sources[1] (401 Unauthorized)")
	wantClause(t, "CRI PullImage", err, "node credentials: "+mirror.Host+" was sent the credential from helper sources[0]")
	if err := criPull(c, ref, nil); err == nil {
		t.Fatal("second pull with the upstream's wrong credential succeeded")
	}
	if runs := lines(t, upDir+"/count"); len(runs) != 2 {
		t.Errorf("upstream helper ran %d times, want 2: its refused answer was dropped once", len(runs))
	}
	if runs := lines(t, mirrorDir+"/count"); len(runs) != 1 {
		t.Errorf("mirror helper ran %d times, want 1: the mirror did not refuse its answer", len(runs))
	}
}

// CRI pulls in namespace k8s.io; with node credentials lent only to
// another namespace, its refused pull says so.
func TestClauseNotLentToCRINamespace(t *testing.T) {
	reg := startRegistry(t, "node", "app/web:1")
	hostsDir := hostsDirFor(t, reg)
	auth := authFileFor(t, reg)
	c := startContainerd(t, bins.Containerd, harness.ContainerdConfig{
		HostsDir: hostsDir,
		Nodecred: nodecredSection("namespaces = [\"default\"]\n", dockerconfigSource(auth)),
	})
	want := `node credentials: not lent to namespace "k8s.io"`
	wantClause(t, "CRI PullImage", criPull(c, reg.Host+"/app/web:1", nil), want, auth)
	wantClause(t, "transfer API pull in k8s.io", grpcPullK8s(t, c, reg.Host+"/app/web:1", hostsDir), want, auth)
}
