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
	"net/http"
	"strings"
	"testing"

	"github.com/nodecred/nodecred/test/e2e/harness"
)

// The registries docker-credential-gcr serves (its configure-docker list):
// gcr.io and its regional names, Artifact Registry's *-docker.pkg.dev. The
// helper ignores the server URL it is asked about, so nodecred's host
// patterns are what keeps its token to Google's registries.
var gcrHostPatterns = []string{"gcr.io", "*.gcr.io", "*-docker.pkg.dev"}

// gcrSetup is a Google endpoint stand-in and one private registry reached
// as both gcr.io and us-docker.pkg.dev through the cloud front.
type gcrSetup struct {
	g        *googleEndpoint
	front    *cloudFront
	hostsDir string
	home     string
}

// newGCRSetup starts the registry with gcrUser and password, in front of
// which authorize (if set) checks tokens.
func newGCRSetup(t *testing.T, g *googleEndpoint, password string, authorize func(*http.Request)) gcrSetup {
	t.Helper()
	reg := privateRegistry(t, gcrUser(), password, "conformance-project/private/pause:3.10", "conformance-project/app:1")
	rt := &route{Backend: reg.Host, Authorize: authorize}
	front := startCloudFront(t, map[string]*route{gcrRegistryHost: rt, garRegistryHost: rt})
	hostsDir := t.TempDir()
	writeCloudHostsToml(t, hostsDir, gcrRegistryHost, front.CAFile)
	writeCloudHostsToml(t, hostsDir, garRegistryHost, front.CAFile)
	return gcrSetup{g: g, front: front, hostsDir: hostsDir, home: t.TempDir()}
}

func (s gcrSetup) run(t *testing.T, credentialsFile string) *harness.Containerd {
	t.Helper()
	bin := program(t, gcrHelper)
	sandbox := garRegistryHost + "/conformance-project/private/pause:3.10"
	c := startContainerd(t, bins.Containerd, harness.ContainerdConfig{
		HostsDir:     s.hostsDir,
		SandboxImage: sandbox,
		Nodecred:     nodecredSection(helperSource(bin, gcrHostPatterns...)),
		Env:          append(googleEnv(credentialsFile, s.home), s.front.cloudEnv()...),
	})
	// The sandbox image from Artifact Registry, the other from gcr.io.
	checkPulls(t, c, sandbox, gcrRegistryHost+"/conformance-project/app:1")
	for _, h := range []string{gcrRegistryHost, garRegistryHost} {
		if s.front.Connects(h) == 0 {
			t.Errorf("containerd never reached %s through the proxy", h)
		}
		if d := decisions(c, h); len(d) == 0 || !strings.Contains(d[0], `source="helper:`+bin+`"`) {
			t.Errorf("no credential decision for %s naming the helper: %q", h, d)
		}
	}
	if r := s.front.Refused(); len(r) > 0 {
		t.Errorf("something tried to leave the machine through the proxy: %v", r)
	}
	if r := s.g.Refused(); len(r) > 0 {
		t.Errorf("the Google stand-ins refused: %v", r)
	}
	return c
}

// TestGCRHelperServiceAccountKey: GOOGLE_APPLICATION_CREDENTIALS names a
// service-account key file. docker-credential-gcr v2.2.1 asks for
// credentials with UseSelfSignedJWT, so it signs a JWT with the key itself
// and never calls token_uri; Google's registries accept such a JWT as an
// access token. The front here checks it (RS256 by the key in the file,
// kid, issuer and subject, scope, lifetime) before the registry sees the
// request, so no other key and no other file can pass.
func TestGCRHelperServiceAccountKey(t *testing.T) {
	g := startGoogleEndpoint(t)
	backendPassword := "registry-" + randomHex(16)
	remember(gcrUser(), backendPassword)
	s := newGCRSetup(t, g, backendPassword, g.AuthorizeSelfSignedJWT(gcrUser(), backendPassword))
	s.run(t, g.serviceAccountFile(t))
	if g.jwtAccepted.Load() == 0 {
		t.Errorf("no self-signed JWT by the service account's key reached the registry")
	}
	t.Logf("self-signed JWTs accepted: %d; token_uri calls: %d", g.jwtAccepted.Load(), g.oauthCalls.Load())
	if n := g.oauthCalls.Load(); n != 0 {
		t.Logf("note: docker-credential-gcr called token_uri %d time(s); v2.2.1 was read to sign its own JWT", n)
	}
}

// TestGCRHelperWorkloadIdentityFederation: GOOGLE_APPLICATION_CREDENTIALS
// names an external_account file (workload identity federation, as on a
// node outside Google Cloud) whose token_url is the STS stand-in. The
// helper exchanges the subject token there, and the access token it gets is
// the registry's password.
func TestGCRHelperWorkloadIdentityFederation(t *testing.T) {
	g := startGoogleEndpoint(t)
	s := newGCRSetup(t, g, g.AccessToken, nil)
	s.run(t, g.externalAccountFile(t))
	if g.stsCal.Load() == 0 {
		t.Errorf("the STS stand-in was never called")
	}
	t.Logf("STS exchanges: %d", g.stsCal.Load())
}
