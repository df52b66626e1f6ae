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
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nodecred/nodecred/test/e2e/harness"
)

// Azure's names, as docker-credential-acr-env reaches them with its
// defaults (the public cloud): Entra ID's token endpoint host, the
// resource a client-credentials token is asked for, and a registry name
// its pattern accepts (*.azurecr.io).
const (
	aadHost         = "login.microsoftonline.com"
	armResource     = "https://management.azure.com/"
	acrRegistryHost = "nodecredconformance.azurecr.io"
)

// azureEndpoint stands in for Entra ID's v1 token endpoint and for the
// registry's own token service, checking what they check:
//
//   - POST /<tenant>/oauth2/token with grant_type=client_credentials, the
//     app's client id and secret and the ARM resource grants the AAD token;
//   - POST /oauth2/exchange on the registry with grant_type=access_token,
//     the registry's service name, the tenant and that AAD token grants an
//     ACR refresh token (which the helper returns as an identity token);
//   - POST /oauth2/token on the registry with grant_type=refresh_token, the
//     service and that refresh token grants a short access token for the
//     scope asked, as ACR's token service does for docker and containerd;
//   - /v2/ with such an access token reaches the registry (the backend's
//     htpasswd user stands behind it); anything else gets ACR's challenge.
type azureEndpoint struct {
	TenantID, ClientID, ClientSecret string
	aadToken, refreshToken           string
	backendUser, backendPassword     string

	aadGrants, exchanges, accessGrants atomic.Int64

	mu      sync.Mutex
	access  map[string]bool // access tokens granted
	refused []string
}

func newAzureEndpoint(backendUser, backendPassword string) *azureEndpoint {
	a := &azureEndpoint{
		TenantID:        requestID(),
		ClientID:        requestID(),
		ClientSecret:    "acr~" + randomHex(18),
		aadToken:        jwtShaped(),
		refreshToken:    jwtShaped(),
		backendUser:     backendUser,
		backendPassword: backendPassword,
		access:          map[string]bool{},
	}
	for _, s := range []string{a.ClientSecret, a.aadToken, a.refreshToken} {
		remember("", s)
	}
	remember(backendUser, backendPassword)
	return a
}

// jwtShaped returns a random token shaped as Entra ID's and ACR's are
// (three base64url segments, the first a JOSE header), so redaction sees
// the shape real tokens have.
func jwtShaped() string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256","typ":"JWT"}`)) + "." +
		enc([]byte(`{"jti":"`+randomHex(16)+`"}`)) + "." + enc([]byte(randomHex(32)))
}

// env is what a node gives the helper: a service principal's client
// credentials, as azure-sdk and go-autorest read them.
func (a *azureEndpoint) env() []string {
	return []string{"AZURE_TENANT_ID=" + a.TenantID, "AZURE_CLIENT_ID=" + a.ClientID, "AZURE_CLIENT_SECRET=" + a.ClientSecret}
}

func (a *azureEndpoint) refuse(w http.ResponseWriter, status int, why string) {
	a.mu.Lock()
	a.refused = append(a.refused, why)
	a.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": "unauthorized", "error_description": why})
}

// Refused returns why the stand-ins refused requests.
func (a *azureEndpoint) Refused() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.refused...)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// tokenForm returns the form of a POST to a token endpoint with grantType,
// and refuses any other request to it.
func (a *azureEndpoint) tokenForm(w http.ResponseWriter, r *http.Request, endpoint, grantType string) (url.Values, bool) {
	if err := r.ParseForm(); err != nil {
		a.refuse(w, http.StatusBadRequest, endpoint+": "+err.Error())
		return nil, false
	}
	if r.Method != http.MethodPost || r.PostForm.Get("grant_type") != grantType {
		a.refuse(w, http.StatusBadRequest, endpoint+": "+r.Method+" grant_type "+r.PostForm.Get("grant_type"))
		return nil, false
	}
	return r.PostForm, true
}

// ServeAAD answers every request to login.microsoftonline.com.
func (a *azureEndpoint) ServeAAD(w http.ResponseWriter, r *http.Request) bool {
	if r.URL.Path != "/"+a.TenantID+"/oauth2/token" {
		a.refuse(w, http.StatusNotFound, "aad: "+r.Method+" "+r.URL.Path)
		return true
	}
	f, ok := a.tokenForm(w, r, "aad", "client_credentials")
	switch {
	case !ok:
	case f.Get("client_id") != a.ClientID || f.Get("client_secret") != a.ClientSecret:
		a.refuse(w, http.StatusUnauthorized, "aad: wrong client id or secret")
	case f.Get("resource") != armResource:
		a.refuse(w, http.StatusBadRequest, "aad: resource "+f.Get("resource"))
	default:
		a.aadGrants.Add(1)
		exp := time.Now().Add(time.Hour)
		writeJSON(w, map[string]string{
			"token_type": "Bearer", "expires_in": "3599", "ext_expires_in": "3599",
			"expires_on": strconv.FormatInt(exp.Unix(), 10), "not_before": strconv.FormatInt(time.Now().Unix(), 10),
			"resource": armResource, "access_token": a.aadToken,
		})
	}
	return true
}

// ServeRegistry answers the registry's token endpoints and its challenge,
// and lets a request with a granted access token through to the backend.
func (a *azureEndpoint) ServeRegistry(w http.ResponseWriter, r *http.Request) bool {
	switch r.URL.Path {
	case "/oauth2/exchange":
		f, ok := a.tokenForm(w, r, "exchange", "access_token")
		switch {
		case !ok:
		case f.Get("service") != acrRegistryHost:
			a.refuse(w, http.StatusBadRequest, "exchange: service "+f.Get("service"))
		case f.Get("tenant") != a.TenantID || f.Get("access_token") != a.aadToken:
			a.refuse(w, http.StatusUnauthorized, "exchange: wrong tenant or AAD token")
		default:
			a.exchanges.Add(1)
			writeJSON(w, map[string]string{"refresh_token": a.refreshToken})
		}
		return true
	case "/oauth2/token":
		f, ok := a.tokenForm(w, r, "token", "refresh_token")
		switch {
		case !ok:
		case f.Get("service") != acrRegistryHost:
			a.refuse(w, http.StatusBadRequest, "token: service "+f.Get("service"))
		case f.Get("refresh_token") != a.refreshToken:
			a.refuse(w, http.StatusUnauthorized, "token: wrong refresh token")
		case !strings.Contains(f.Get("scope"), ":pull"):
			a.refuse(w, http.StatusBadRequest, "token: scope "+f.Get("scope"))
		default:
			a.accessGrants.Add(1)
			tok := jwtShaped()
			remember("", tok)
			a.mu.Lock()
			a.access[tok] = true
			a.mu.Unlock()
			writeJSON(w, map[string]string{"access_token": tok})
		}
		return true
	}
	if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		a.mu.Lock()
		granted := a.access[tok]
		a.mu.Unlock()
		if granted {
			r.SetBasicAuth(a.backendUser, a.backendPassword)
			return false
		}
	}
	w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="https://%s/oauth2/token",service="%s"`, acrRegistryHost, acrRegistryHost))
	http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
	return true
}

// TestACREnvHelper runs docker-credential-acr-env, the docker credential
// helper for Azure Container Registry that ko and crane build in, with a
// service principal's client credentials in containerd's environment. It
// gets an Entra ID token, exchanges it at the registry for a refresh token
// and answers with user "<token>": an identity token, which containerd
// trades at the registry's token service for each scope, as docker does.
// The registry is reached as nodecredconformance.azurecr.io through the
// cloud front; the helper trusts the front's CA through SSL_CERT_FILE.
func TestACREnvHelper(t *testing.T) {
	bin := program(t, acrEnvHelper)
	backendUser, backendPassword := "acr-backend", "registry-"+randomHex(16)
	reg := privateRegistry(t, backendUser, backendPassword, "private/pause:3.10", "team/app:1")
	a := newAzureEndpoint(backendUser, backendPassword)
	front := startCloudFront(t, map[string]*route{
		acrRegistryHost: {Backend: reg.Host, Serve: a.ServeRegistry},
		aadHost:         {Serve: a.ServeAAD},
	})
	hostsDir := t.TempDir()
	writeCloudHostsToml(t, hostsDir, acrRegistryHost, front.CAFile)
	sandbox := acrRegistryHost + "/private/pause:3.10"
	c := startContainerd(t, bins.Containerd, harness.ContainerdConfig{
		HostsDir:     hostsDir,
		SandboxImage: sandbox,
		Nodecred:     nodecredSection(helperSource(bin, "*.azurecr.io")),
		Env:          append(append(a.env(), front.cloudEnv()...), "SSL_CERT_FILE="+front.CAFile),
	})
	checkPulls(t, c, sandbox, acrRegistryHost+"/team/app:1")
	if d := decisions(c, acrRegistryHost); len(d) == 0 || !strings.Contains(d[0], `source="helper:`+bin+`"`) || !strings.Contains(d[0], "kind=identitytoken") {
		t.Errorf("no identity-token decision for %s naming the helper: %q", acrRegistryHost, d)
	}
	if a.aadGrants.Load() == 0 || a.exchanges.Load() == 0 || a.accessGrants.Load() == 0 {
		t.Errorf("the Azure flow did not run: AAD grants %d, exchanges %d, registry access tokens %d",
			a.aadGrants.Load(), a.exchanges.Load(), a.accessGrants.Load())
	}
	t.Logf("AAD grants %d, refresh-token exchanges %d, registry access tokens %d", a.aadGrants.Load(), a.exchanges.Load(), a.accessGrants.Load())
	if r := a.Refused(); len(r) > 0 {
		t.Errorf("the Azure stand-ins refused: %v", r)
	}
	if r := front.Refused(); len(r) > 0 {
		t.Errorf("something tried to leave the machine through the proxy: %v", r)
	}
}
