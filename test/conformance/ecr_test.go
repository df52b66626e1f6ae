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

package conformance

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/nodecred/nodecred/test/e2e/harness"
)

const ecrHostPattern = "*.dkr.ecr.*.amazonaws.com"

// ecrSetup is an ECR stand-in, a private registry whose password is the
// token it grants, reached as ecrHost through the cloud front, and a hosts
// directory that trusts the front's CA for ecrHost.
type ecrSetup struct {
	ep       *ecrEndpoint
	reg      *harness.Registry
	front    *cloudFront
	hostsDir string
	home     string
}

func newECRSetup(t *testing.T, refs ...string) ecrSetup {
	t.Helper()
	ep := startECREndpoint(t)
	reg := privateRegistry(t, ep.User, ep.Password, refs...)
	front := startCloudFront(t, map[string]*route{ecrHost: {Backend: reg.Host}})
	hostsDir := t.TempDir()
	writeCloudHostsToml(t, hostsDir, ecrHost, front.CAFile)
	return ecrSetup{ep: ep, reg: reg, front: front, hostsDir: hostsDir, home: t.TempDir()}
}

// env is containerd's whole added environment, as a systemd drop-in's
// Environment= lines would set it.
func (s ecrSetup) env() []string { return append(s.ep.awsEnv(s.home), s.front.cloudEnv()...) }

// checkReached asserts the programs reached the stand-in with the right
// credentials and containerd reached the registry by its cloud name.
func (s ecrSetup) checkReached(t *testing.T) {
	t.Helper()
	if s.ep.Grants() == 0 {
		t.Errorf("the ECR stand-in granted no token (calls %d, refused %v)", s.ep.Calls(), s.ep.Refused())
	}
	if r := s.ep.Refused(); len(r) > 0 {
		t.Errorf("the ECR stand-in refused requests: %v", r)
	}
	if s.front.Connects(ecrHost) == 0 {
		t.Errorf("containerd never reached %s through the proxy", ecrHost)
	}
	if r := s.front.Refused(); len(r) > 0 {
		t.Errorf("something tried to leave the machine through the proxy: %v", r)
	}
}

func providerConfig(t *testing.T, envYAML string) string {
	t.Helper()
	cfg := `apiVersion: kubelet.config.k8s.io/v1
kind: CredentialProviderConfig
providers:
  - name: ecr-credential-provider
    matchImages: ["` + ecrHostPattern + `"]
    defaultCacheDuration: 12h
    apiVersion: credentialprovider.kubelet.k8s.io/v1
` + envYAML
	return writeFile(t, t.TempDir(), "credential-provider.yaml", cfg)
}

func TestECRLoginHelper(t *testing.T) {
	bin := program(t, ecrLogin)
	s := newECRSetup(t, "private/pause:3.10", "team/app:1")
	c := startContainerd(t, bins.Containerd, harness.ContainerdConfig{
		HostsDir:     s.hostsDir,
		SandboxImage: ecrHost + "/private/pause:3.10",
		Nodecred:     nodecredSection(helperSource(bin, ecrHostPattern)),
		Env:          s.env(),
	})
	checkPulls(t, c, ecrHost+"/private/pause:3.10", ecrHost+"/team/app:1")
	s.checkReached(t)
	if d := decisions(c, ecrHost); len(d) == 0 || !strings.Contains(d[0], `source="helper:`+bin+`"`) {
		t.Errorf("no credential decision for %s naming the helper: %q", ecrHost, d)
	}
	t.Logf("ECR stand-in: %d call(s), %d token(s) granted", s.ep.Calls(), s.ep.Grants())
}

// TestECRLoginFromDockerConfigCredHelpers runs ecr-login the way docker's
// config.json names it (credHelpers, found on containerd's PATH).
func TestECRLoginFromDockerConfigCredHelpers(t *testing.T) {
	bin := program(t, ecrLogin)
	s := newECRSetup(t, "private/pause:3.10", "team/app:1")
	cfg := writeFile(t, t.TempDir(), "config.json", `{"credHelpers": {"`+ecrHost+`": "ecr-login"}}`)
	env := append(s.env(), "PATH="+filepath.Dir(bin)+":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
	c := startContainerd(t, bins.Containerd, harness.ContainerdConfig{
		HostsDir:     s.hostsDir,
		SandboxImage: ecrHost + "/private/pause:3.10",
		Nodecred:     nodecredSection(fmt.Sprintf("type = \"dockerconfig\"\npath = %q\ntimeout = \"30s\"", cfg)),
		Env:          env,
	})
	checkPulls(t, c, ecrHost+"/private/pause:3.10", ecrHost+"/team/app:1")
	s.checkReached(t)
}

// TestECRWrongSecretIsRefused shows the stand-in is not a pushover: with a
// secret key that does not match the access key id, the real program's
// signed request is refused and the pull fails, as it would against ECR.
func TestECRWrongSecretIsRefused(t *testing.T) {
	bin := program(t, ecrLogin)
	s := newECRSetup(t, "team/app:1")
	env := append(s.env(), "AWS_SECRET_ACCESS_KEY=not-"+s.ep.SecretKey)
	c := startContainerd(t, bins.Containerd, harness.ContainerdConfig{
		HostsDir: s.hostsDir,
		Nodecred: nodecredSection(helperSource(bin, ecrHostPattern)),
		Env:      env,
	})
	err := criPull(c, ecrHost+"/team/app:1")
	t.Logf("CRI PullImage with a wrong secret key: %v", err)
	if err == nil {
		t.Fatalf("pull succeeded with a wrong AWS secret key")
	}
	// ecr-login writes its reason to its own log ($AWS_ECR_CACHE_DIR/log)
	// and tells its caller only "credentials not found in native keychain".
	t.Logf("what containerd's log says:\n%s", strings.Join(append(nodecredWarnings(c), decisions(c, ecrHost)...), "\n"))
	if s.ep.Grants() != 0 {
		t.Errorf("the stand-in granted %d token(s) to a wrong secret key", s.ep.Grants())
	}
	if r := s.ep.Refused(); len(r) == 0 || !strings.Contains(strings.Join(r, "\n"), "signature mismatch") {
		t.Errorf("the stand-in did not refuse a bad signature: %v", r)
	}
}

func TestECRCredentialProvider(t *testing.T) {
	bin := program(t, ecrProvider)
	const n = 8
	refs := []string{"private/pause:3.10"}
	for i := range n {
		refs = append(refs, fmt.Sprintf("team/app:%d", i))
	}
	s := newECRSetup(t, refs...)
	metrics, err := harness.FreeAddress()
	if err != nil {
		t.Fatal(err)
	}
	c := startContainerd(t, bins.Containerd, harness.ContainerdConfig{
		HostsDir:       s.hostsDir,
		SandboxImage:   ecrHost + "/private/pause:3.10",
		Nodecred:       nodecredSection(kubeletSource(providerConfig(t, ""), filepath.Dir(bin))),
		Env:            s.env(),
		MetricsAddress: metrics,
	})

	// n concurrent pulls of images in one registry: the provider answers
	// with cacheKeyType Registry, so one run serves them all.
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { errs[i] = criPull(c, fmt.Sprintf("%s/team/app:%d", ecrHost, i)) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("CRI PullImage %s/team/app:%d: %v", ecrHost, i, err)
		}
	}
	if got := s.ep.Calls(); got != 1 {
		t.Errorf("%d concurrent pulls reached the ECR endpoint %d times, want 1 (one provider run, cached per registry)", n, got)
	}
	if got := execRuns(t, metrics, "provider"); got != 1 {
		t.Errorf("%d concurrent pulls ran the provider %d times (nodecred_exec_seconds_count), want 1", n, got)
	}
	err = runSandbox(c, "conformance-provider")
	t.Logf("RunPodSandbox (pulls %s/private/pause:3.10): %v", ecrHost, err)
	if !imagePresent(t, c, ecrHost+"/private/pause:3.10") {
		t.Errorf("sandbox image not pulled; RunPodSandbox: %v", err)
	}
	if got := s.ep.Calls(); got != 1 {
		t.Errorf("after the sandbox pull the ECR endpoint was reached %d times, want still 1", got)
	}
	if got := execRuns(t, metrics, "provider"); got != 1 {
		t.Errorf("after the sandbox pull the provider had run %d times, want still 1", got)
	}
	s.checkReached(t)
	if d := decisions(c, ecrHost); len(d) == 0 || !strings.Contains(d[0], `source="kubelet:`) {
		t.Errorf("no credential decision for %s naming the kubelet source: %q", ecrHost, d)
	}
	if errs := nodecredWarnings(c); len(errs) > 0 {
		t.Errorf("nodecred warned: %q", errs)
	}
}

// TestECRCredentialProviderEnvOverlay: the provider runs with containerd's
// environment overlaid by the provider config's env, as the kubelet runs
// it. containerd's environment carries a wrong access key id; the provider
// config's env carries the right one, and wins.
func TestECRCredentialProviderEnvOverlay(t *testing.T) {
	bin := program(t, ecrProvider)
	s := newECRSetup(t, "team/app:1")
	env := append(s.env(), "AWS_ACCESS_KEY_ID=AKIAWRONGWRONGWRONG0")
	overlay := "    env:\n      - name: AWS_ACCESS_KEY_ID\n        value: " + s.ep.AccessKeyID + "\n"
	c := startContainerd(t, bins.Containerd, harness.ContainerdConfig{
		HostsDir: s.hostsDir,
		Nodecred: nodecredSection(kubeletSource(providerConfig(t, overlay), filepath.Dir(bin))),
		Env:      env,
	})
	if err := criPull(c, ecrHost+"/team/app:1"); err != nil {
		t.Errorf("CRI PullImage: %v", err)
	}
	s.checkReached(t)
}

// TestECRCredentialProviderWrongKeyFails: with only containerd's wrong
// access key id, the real provider is refused (UnrecognizedClientException),
// the pull fails, and nodecred's warning names the provider's failure
// without any secret.
func TestECRCredentialProviderWrongKeyFails(t *testing.T) {
	bin := program(t, ecrProvider)
	s := newECRSetup(t, "team/app:1")
	env := append(s.env(), "AWS_ACCESS_KEY_ID=AKIAWRONGWRONGWRONG0")
	c := startContainerd(t, bins.Containerd, harness.ContainerdConfig{
		HostsDir: s.hostsDir,
		Nodecred: nodecredSection(kubeletSource(providerConfig(t, ""), filepath.Dir(bin))),
		Env:      env,
	})
	err := criPull(c, ecrHost+"/team/app:1")
	t.Logf("CRI PullImage: %v", err)
	if err == nil {
		t.Fatalf("pull succeeded with a wrong access key id")
	}
	if r := s.ep.Refused(); len(r) == 0 || !strings.HasPrefix(r[0], "UnrecognizedClientException") {
		t.Errorf("the stand-in did not refuse the unknown key: %v", r)
	}
	warnings := strings.Join(nodecredWarnings(c), "\n")
	t.Logf("nodecred warnings:\n%s", warnings)
	if !strings.Contains(warnings, "UnrecognizedClientException") {
		t.Errorf("nodecred's warning does not carry the provider's reason (UnrecognizedClientException)")
	}
}

// TestECRStockContainerdCannotPull is the contrast: stock containerd with
// the same environment, hosts directory and sandbox image has no way to
// run ecr-login, and the registry refuses its anonymous pull.
func TestECRStockContainerdCannotPull(t *testing.T) {
	s := newECRSetup(t, "private/pause:3.10")
	c := startContainerd(t, bins.StockContainerd, harness.ContainerdConfig{
		HostsDir:     s.hostsDir,
		SandboxImage: ecrHost + "/private/pause:3.10",
		Env:          s.env(),
	})
	err := runSandbox(c, "conformance-stock")
	t.Logf("stock containerd RunPodSandbox: %v", err)
	if err == nil || !strings.Contains(err.Error(), "authorization failed") {
		t.Errorf("stock containerd: RunPodSandbox error %v, want an authorization failure", err)
	}
	if imagePresent(t, c, ecrHost+"/private/pause:3.10") {
		t.Errorf("stock containerd pulled the private sandbox image")
	}
	if s.front.Connects(ecrHost) == 0 {
		t.Errorf("stock containerd never reached %s through the proxy", ecrHost)
	}
	if s.ep.Calls() != 0 {
		t.Errorf("something called the ECR endpoint %d times under stock containerd", s.ep.Calls())
	}
}

// TestECRBlackholeIsBoundedByTimeout: an ECR endpoint that accepts and never
// answers. ecr-login does not give up on its own (see testdata/real-errors.txt);
// nodecred's timeout ends the run, the pull fails instead of hanging, and
// the warning says why.
func TestECRBlackholeIsBoundedByTimeout(t *testing.T) {
	bin := program(t, ecrLogin)
	s := newECRSetup(t, "team/app:1")
	env := append(s.env(), "AWS_ENDPOINT_URL_ECR="+blackholeURL(t))
	c := startContainerd(t, bins.Containerd, harness.ContainerdConfig{
		HostsDir: s.hostsDir,
		Nodecred: nodecredSection(fmt.Sprintf("type = \"helper\"\nhelper = %q\nhosts = [%q]\ntimeout = \"2s\"", bin, ecrHostPattern)),
		Env:      env,
	})
	err := criPull(c, ecrHost+"/team/app:1")
	t.Logf("CRI PullImage: %v", err)
	if err == nil || !strings.Contains(err.Error(), "authorization failed") {
		t.Fatalf("pull with a blackholed ECR endpoint: %v, want an authorization failure", err)
	}
	warnings := strings.Join(nodecredWarnings(c), "\n")
	t.Logf("nodecred warnings:\n%s", warnings)
	if !strings.Contains(warnings, "timed out") {
		t.Errorf("no nodecred warning says the helper timed out")
	}
}
