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
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestProgramsDirect runs each real program outside containerd with the
// environment the containerd tests give containerd, and checks it gets the
// stand-in's credential. It is the baseline for the tests under
// containerd: a program that passes here and fails there points at nodecred.
func TestProgramsDirect(t *testing.T) {
	t.Run("ecr-login", func(t *testing.T) {
		bin := program(t, ecrLogin)
		e := startECREndpoint(t)
		env, _ := awsDirectEnv(t, e.URL, e.AccessKeyID, e.SecretKey)
		r := runDirect(t, bin, []string{"get"}, ecrHost, env, time.Minute, "")
		var out struct{ ServerURL, Username, Secret string }
		if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil || r.Exit != 0 {
			t.Fatalf("exit %d, stdout not a credential (%v); stderr %q; refused %v", r.Exit, err, r.Stderr, e.Refused())
		}
		if out.Username != e.User || out.Secret != e.Password {
			t.Errorf("got user %q and a secret that is not the stand-in's token", out.Username)
		}
	})
	t.Run("ecr-credential-provider", func(t *testing.T) {
		bin := program(t, ecrProvider)
		e := startECREndpoint(t)
		env, _ := awsDirectEnv(t, e.URL, e.AccessKeyID, e.SecretKey)
		r := runDirect(t, bin, nil, providerRequest, env, time.Minute, "")
		var out struct {
			Kind, CacheKeyType, CacheDuration string
			Auth                              map[string]struct{ Username, Password string }
		}
		if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil || r.Exit != 0 {
			t.Fatalf("exit %d, stdout not a response (%v); stderr %q; refused %v", r.Exit, err, r.Stderr, e.Refused())
		}
		a, ok := out.Auth[ecrHost]
		if out.Kind != "CredentialProviderResponse" || !ok || a.Username != e.User || a.Password != e.Password {
			t.Errorf("response kind %q, auth for %s present %v, user %q: not the stand-in's token", out.Kind, ecrHost, ok, a.Username)
		}
		t.Logf("cacheKeyType %s, cacheDuration %s", out.CacheKeyType, out.CacheDuration)
		if out.CacheKeyType != "Registry" {
			t.Errorf("cacheKeyType %q, want Registry", out.CacheKeyType)
		}
		if e.Calls() != 1 {
			t.Errorf("one provider run called the endpoint %d times", e.Calls())
		}
	})
	gcr := func(t *testing.T, file func(g *googleEndpoint) string, check func(t *testing.T, g *googleEndpoint, user, secret string)) {
		bin := program(t, gcrHelper)
		g := startGoogleEndpoint(t)
		env := append([]string{"PATH=/usr/bin:/bin"}, googleEnv(file(g), t.TempDir())...)
		for _, host := range []string{gcrRegistryHost, garRegistryHost} {
			r := runDirect(t, bin, []string{"get"}, host, env, time.Minute, "")
			var out struct{ ServerURL, Username, Secret string }
			if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil || r.Exit != 0 {
				t.Fatalf("%s: exit %d, stdout not a credential (%v); stderr %q; refused %v", host, r.Exit, err, r.Stderr, g.Refused())
			}
			if out.Username != gcrUser() {
				t.Errorf("%s: user %q, want %q", host, out.Username, gcrUser())
			}
			check(t, g, out.Username, out.Secret)
		}
	}
	t.Run("docker-credential-gcr/service_account", func(t *testing.T) {
		gcr(t, func(g *googleEndpoint) string { return g.serviceAccountFile(t) }, func(t *testing.T, g *googleEndpoint, user, secret string) {
			claims, err := verifyJWT(secret, &g.Key.PublicKey)
			if err == nil {
				err = claims.check("", true)
			}
			if err != nil || strings.Count(secret, ".") != 2 {
				t.Errorf("the secret is not a self-signed JWT by the service account's key: %v", err)
			}
			if n := g.oauthCalls.Load(); n != 0 {
				t.Errorf("token_uri called %d times; v2.2.1 was read to sign its own JWT", n)
			}
		})
	})
	t.Run("docker-credential-gcr/external_account", func(t *testing.T) {
		gcr(t, func(g *googleEndpoint) string { return g.externalAccountFile(t) }, func(t *testing.T, g *googleEndpoint, user, secret string) {
			if secret != g.AccessToken {
				t.Errorf("the secret is not the STS stand-in's access token")
			}
		})
	})
}
