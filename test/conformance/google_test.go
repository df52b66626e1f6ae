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
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"crypto/rand"
)

const (
	gcrScope         = "https://www.googleapis.com/auth/devstorage.read_write"
	stsGrantType     = "urn:ietf:params:oauth:grant-type:token-exchange"
	jwtBearerGrant   = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	jwtSubjectType   = "urn:ietf:params:oauth:token-type:jwt"
	accessTokenType  = "urn:ietf:params:oauth:token-type:access_token"
	wifAudience      = "//iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/nodes/providers/conformance"
	saEmail          = "puller@conformance-project.iam.gserviceaccount.com"
	gcrRegistryHost  = "gcr.io"
	garRegistryHost  = "us-docker.pkg.dev"
	invalidGrantBody = `{"error":"invalid_grant","error_description":"Invalid JWT Signature."}`
	stsInvalidGrant  = `{"error":"invalid_grant","error_description":"The audience in ID Token [https://example.invalid] does not match the expected audience."}`
)

// gcrUser is the basic-auth user docker-credential-gcr answers with:
// "_dcgcr_<its version>_token".
func gcrUser() string {
	return "_dcgcr_" + strings.ReplaceAll(strings.TrimPrefix(gcrHelper.Version, "v"), ".", "_") + "_token"
}

// googleEndpoint stands in for Google's token endpoints on loopback:
// the OAuth2 token endpoint a service-account key's token_uri names
// (/token, JWT bearer grant with an assertion signed by the key), and the
// Security Token Service a workload identity federation (external_account)
// file's token_url names (/v1/token, RFC 8693 token exchange). Both check
// what Google checks cheaply and grant AccessToken.
type googleEndpoint struct {
	URL string
	// Key is the service account's key; KeyID its private_key_id.
	Key   *rsa.PrivateKey
	KeyID string
	// SubjectToken is the only subject token the STS exchanges.
	SubjectToken string
	// AccessToken is what both endpoints grant.
	AccessToken string

	invalidGrant       atomic.Bool
	oauthCalls, stsCal atomic.Int64
	jwtAccepted        atomic.Int64
	mu                 sync.Mutex
	refused            []string
}

func startGoogleEndpoint(t *testing.T) *googleEndpoint {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	g := &googleEndpoint{
		Key:          key,
		KeyID:        randomHex(20),
		SubjectToken: "subject-" + randomHex(16),
		AccessToken:  "ya29.fake-" + randomHex(24),
	}
	remember(gcrUser(), g.AccessToken)
	remember("", g.SubjectToken)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", g.oauthToken)
	mux.HandleFunc("POST /v1/token", g.stsToken)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	g.URL = srv.URL
	return g
}

func (g *googleEndpoint) refuse(w http.ResponseWriter, status int, body, why string) {
	g.mu.Lock()
	g.refused = append(g.refused, why)
	g.mu.Unlock()
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

// Refused returns why requests were refused.
func (g *googleEndpoint) Refused() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.refused...)
}

func (g *googleEndpoint) grant(w http.ResponseWriter, extra map[string]any) {
	out := map[string]any{"access_token": g.AccessToken, "token_type": "Bearer", "expires_in": 3599}
	for k, v := range extra {
		out[k] = v
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(out)
}

// oauthToken is the service-account token endpoint (token_uri).
func (g *googleEndpoint) oauthToken(w http.ResponseWriter, r *http.Request) {
	g.oauthCalls.Add(1)
	if g.invalidGrant.Load() {
		g.refuse(w, http.StatusBadRequest, invalidGrantBody, "invalid_grant (scenario)")
		return
	}
	if r.PostFormValue("grant_type") != jwtBearerGrant {
		g.refuse(w, http.StatusBadRequest, `{"error":"unsupported_grant_type","error_description":"Invalid grant_type: "}`, "grant_type "+r.PostFormValue("grant_type"))
		return
	}
	claims, err := verifyJWT(r.PostFormValue("assertion"), &g.Key.PublicKey)
	if err == nil {
		err = claims.check(g.URL+"/token", false)
	}
	if err != nil {
		g.refuse(w, http.StatusBadRequest, invalidGrantBody, "assertion: "+err.Error())
		return
	}
	g.grant(w, nil)
}

// stsToken is the Security Token Service (external_account token_url).
func (g *googleEndpoint) stsToken(w http.ResponseWriter, r *http.Request) {
	g.stsCal.Add(1)
	if g.invalidGrant.Load() {
		g.refuse(w, http.StatusBadRequest, stsInvalidGrant, "invalid_grant (scenario)")
		return
	}
	for k, want := range map[string]string{
		"grant_type": stsGrantType, "audience": wifAudience, "subject_token_type": jwtSubjectType,
		"requested_token_type": accessTokenType, "subject_token": g.SubjectToken,
	} {
		if got := r.PostFormValue(k); got != want {
			why := k + " differs"
			if k != "subject_token" {
				why = fmt.Sprintf("%s %q", k, got)
			}
			g.refuse(w, http.StatusBadRequest, stsInvalidGrant, why)
			return
		}
	}
	if !strings.Contains(" "+r.PostFormValue("scope")+" ", " "+gcrScope+" ") {
		g.refuse(w, http.StatusBadRequest, `{"error":"invalid_scope"}`, "scope "+r.PostFormValue("scope"))
		return
	}
	g.grant(w, map[string]any{"issued_token_type": accessTokenType})
}

// AuthorizeSelfSignedJWT stands for Google's registries accepting a
// self-signed service-account JWT as an access token: a basic-auth
// password that is such a JWT, signed by the key, is swapped for the
// backend registry's password. Anything else passes unchanged, and the
// backend refuses it.
func (g *googleEndpoint) AuthorizeSelfSignedJWT(user, backendPassword string) func(*http.Request) {
	return func(r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok {
			return
		}
		claims, err := verifyJWT(p, &g.Key.PublicKey)
		if err == nil {
			err = claims.check("", true)
		}
		if err == nil && claims.kid != g.KeyID {
			err = fmt.Errorf("kid %q is not the key's id", claims.kid)
		}
		if err != nil || u != user {
			g.mu.Lock()
			g.refused = append(g.refused, fmt.Sprintf("registry: user %q, token: %v", u, err))
			g.mu.Unlock()
			return
		}
		g.jwtAccepted.Add(1)
		r.SetBasicAuth(u, backendPassword)
	}
}

// jwtClaims are the claims the stand-ins check.
type jwtClaims struct {
	Iss   string `json:"iss"`
	Sub   string `json:"sub"`
	Aud   string `json:"aud"`
	Scope string `json:"scope"`
	Exp   int64  `json:"exp"`
	Iat   int64  `json:"iat"`
	kid   string
}

// check verifies issuer, audience (if aud is set), scope and lifetime. A
// self-signed JWT names the service account as its subject too.
func (c jwtClaims) check(aud string, selfSigned bool) error {
	now := time.Now().Unix()
	switch {
	case c.Iss != saEmail:
		return fmt.Errorf("iss %q", c.Iss)
	case selfSigned && c.Sub != saEmail:
		return fmt.Errorf("sub %q", c.Sub)
	case aud != "" && c.Aud != aud:
		return fmt.Errorf("aud %q, want %q", c.Aud, aud)
	case !strings.Contains(" "+c.Scope+" ", " "+gcrScope+" "):
		return fmt.Errorf("scope %q", c.Scope)
	case c.Exp <= now || c.Iat > now+300 || c.Exp-c.Iat > 3600:
		return fmt.Errorf("lifetime iat=%d exp=%d", c.Iat, c.Exp)
	}
	return nil
}

// verifyJWT checks an RS256 JWT's signature with pub and returns its claims.
func verifyJWT(tok string, pub *rsa.PublicKey) (jwtClaims, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return jwtClaims{}, errors.New("not a JWT")
	}
	var hdr struct{ Alg, Kid string }
	if err := decodeSegment(parts[0], &hdr); err != nil {
		return jwtClaims{}, err
	}
	if hdr.Alg != "RS256" {
		return jwtClaims{}, fmt.Errorf("alg %q", hdr.Alg)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return jwtClaims{}, err
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
		return jwtClaims{}, errors.New("signature is not by the service account's key")
	}
	var c jwtClaims
	if err := decodeSegment(parts[1], &c); err != nil {
		return jwtClaims{}, err
	}
	c.kid = hdr.Kid
	return c, nil
}

func decodeSegment(seg string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(seg, "="))
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// serviceAccountFile writes a service-account key file whose token_uri is
// the stand-in, and returns its path.
func (g *googleEndpoint) serviceAccountFile(t *testing.T) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(g.Key)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	b, _ := json.MarshalIndent(map[string]string{
		"type":                        "service_account",
		"project_id":                  "conformance-project",
		"private_key_id":              g.KeyID,
		"private_key":                 keyPEM,
		"client_email":                saEmail,
		"client_id":                   "100000000000000000001",
		"auth_uri":                    g.URL + "/o/oauth2/auth",
		"token_uri":                   g.URL + "/token",
		"auth_provider_x509_cert_url": g.URL + "/oauth2/v1/certs",
		"universe_domain":             "googleapis.com",
	}, "", "  ")
	return writeFile(t, t.TempDir(), "service-account.json", string(b))
}

// externalAccountFile writes a workload identity federation credential
// file (type external_account) reading its subject token from a file, and
// returns its path.
func (g *googleEndpoint) externalAccountFile(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	subject := writeFile(t, dir, "subject-token", g.SubjectToken)
	b, _ := json.MarshalIndent(map[string]any{
		"type":               "external_account",
		"audience":           wifAudience,
		"subject_token_type": jwtSubjectType,
		"token_url":          g.URL + "/v1/token",
		"credential_source":  map[string]string{"file": subject},
		"universe_domain":    "googleapis.com",
	}, "", "  ")
	return writeFile(t, dir, "external-account.json", string(b))
}

// googleEnv is the Google part of containerd's environment.
func googleEnv(credentialsFile, home string) []string {
	return []string{
		"GOOGLE_APPLICATION_CREDENTIALS=" + credentialsFile,
		// docker-credential-gcr's own config and credential store live
		// under $HOME/.config/gcloud.
		"HOME=" + home,
	}
}
