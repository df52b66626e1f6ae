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
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	ecrTarget    = "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken"
	ecrAccountID = "123456789012"
	ecrRegion    = "us-east-1"
	// nodeRegion is AWS_REGION in containerd's environment.
	nodeRegion = "eu-west-1"
	// ecrHost is the registry's real cloud name; no request ever leaves the
	// machine for it (the cloud front answers it).
	ecrHost = ecrAccountID + ".dkr.ecr." + ecrRegion + ".amazonaws.com"
)

// ecrFailure is how the stand-in answers instead of granting a token.
type ecrFailure int

const (
	ecrGrant           ecrFailure = iota
	ecrAccessDenied               // AccessDeniedException, HTTP 400 (what ECR's API reference lists)
	ecrAccessDenied403            // AccessDeniedException, HTTP 403
)

// ecrEndpoint stands in for ECR's API endpoint (api.ecr.REGION.amazonaws.com)
// for GetAuthorizationToken, AWS JSON 1.1 protocol. It checks what ECR
// checks cheaply: the operation, a SigV4 signature by the configured access
// key's secret, scoped to the region and service "ecr", and a fresh date.
type ecrEndpoint struct {
	URL string
	// AccessKeyID and SecretKey are the only credentials it accepts.
	AccessKeyID, SecretKey string
	// User and Password are what the token it grants decodes to.
	User, Password string

	failure atomic.Int32
	calls   atomic.Int64
	grants  atomic.Int64
	mu      sync.Mutex
	refused []string
}

// startECREndpoint starts the stand-in on loopback with fresh fake keys and
// token password.
func startECREndpoint(t *testing.T) *ecrEndpoint {
	t.Helper()
	e := &ecrEndpoint{
		AccessKeyID: "AKIA" + strings.ToUpper(randomHex(8)),
		SecretKey:   "fake-secret-" + randomHex(16),
		User:        "AWS",
		Password:    "ecr-token-" + randomHex(24),
	}
	remember(e.User, e.Password)
	remember("", e.SecretKey)
	srv := httptest.NewServer(http.HandlerFunc(e.serve))
	t.Cleanup(srv.Close)
	e.URL = srv.URL
	return e
}

// Calls returns how many requests reached the endpoint; Grants how many
// tokens it handed out.
func (e *ecrEndpoint) Calls() int64  { return e.calls.Load() }
func (e *ecrEndpoint) Grants() int64 { return e.grants.Load() }

// Refused returns the reasons of the requests the endpoint refused.
func (e *ecrEndpoint) Refused() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.refused...)
}

func (e *ecrEndpoint) serve(w http.ResponseWriter, r *http.Request) {
	e.calls.Add(1)
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	if r.Method != http.MethodPost || r.Header.Get("X-Amz-Target") != ecrTarget {
		e.fail(w, http.StatusBadRequest, "UnknownOperationException", "", fmt.Sprintf("%s target %q", r.Method, r.Header.Get("X-Amz-Target")))
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-amz-json-1.1" {
		e.fail(w, http.StatusBadRequest, "SerializationException", "", "content type "+ct)
		return
	}
	var in struct{ RegistryIds []string }
	if err := json.Unmarshal(body, &in); err != nil {
		e.fail(w, http.StatusBadRequest, "SerializationException", "", "body: "+err.Error())
		return
	}
	if code, msg, why := checkSigV4(r, body, e.AccessKeyID, e.SecretKey, ecrRegion, "ecr"); code != "" {
		e.fail(w, http.StatusBadRequest, code, msg, why)
		return
	}
	for _, id := range in.RegistryIds {
		if id != ecrAccountID {
			e.fail(w, http.StatusBadRequest, "InvalidParameterException", "Invalid parameter at 'registryIds' failed to satisfy constraint", "registry id "+id)
			return
		}
	}
	if f := ecrFailure(e.failure.Load()); f == ecrAccessDenied || f == ecrAccessDenied403 {
		status := http.StatusBadRequest
		if f == ecrAccessDenied403 {
			status = http.StatusForbidden
		}
		e.fail(w, status, "AccessDeniedException",
			"User: arn:aws:iam::"+ecrAccountID+":user/node is not authorized to perform: ecr:GetAuthorizationToken on resource: * because no identity-based policy allows the ecr:GetAuthorizationToken action", "denied")
		return
	}
	e.grants.Add(1)
	token := base64.StdEncoding.EncodeToString([]byte(e.User + ":" + e.Password))
	out, _ := json.Marshal(map[string]any{"authorizationData": []map[string]any{{
		"authorizationToken": token,
		"expiresAt":          float64(time.Now().Add(12 * time.Hour).Unix()),
		"proxyEndpoint":      "https://" + ecrHost,
	}}})
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-RequestId", requestID())
	_, _ = w.Write(out)
}

// fail answers as an AWS JSON 1.1 service does and records why.
func (e *ecrEndpoint) fail(w http.ResponseWriter, status int, code, msg, why string) {
	e.mu.Lock()
	e.refused = append(e.refused, code+": "+why)
	e.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-RequestId", requestID())
	w.Header().Set("X-Amzn-ErrorType", code)
	w.WriteHeader(status)
	out, _ := json.Marshal(map[string]string{"__type": code, "message": msg})
	_, _ = w.Write(out)
}

// checkSigV4 verifies r's AWS Signature Version 4 Authorization header
// against the one key pair the endpoint knows, the expected region and
// service. It returns the AWS error code and message for a refusal, and a
// reason for the test's own record.
func checkSigV4(r *http.Request, body []byte, keyID, secret, region, service string) (code, msg, why string) {
	const alg = "AWS4-HMAC-SHA256 "
	authz := r.Header.Get("Authorization")
	if !strings.HasPrefix(authz, alg) {
		return "MissingAuthenticationTokenException", "Missing Authentication Token", "no SigV4 Authorization header"
	}
	fields := map[string]string{}
	for _, part := range strings.Split(strings.TrimPrefix(authz, alg), ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		fields[k] = v
	}
	scope := strings.Split(fields["Credential"], "/")
	if len(scope) != 5 || scope[4] != "aws4_request" {
		return "IncompleteSignatureException", "Authorization header requires 'Credential' parameter.", "credential " + fields["Credential"]
	}
	if scope[0] != keyID {
		return "UnrecognizedClientException", "The security token included in the request is invalid.", "unknown access key id"
	}
	if scope[2] != region || scope[3] != service {
		return "InvalidSignatureException", "Credential should be scoped to a valid region.",
			fmt.Sprintf("scope %s/%s, want %s/%s", scope[2], scope[3], region, service)
	}
	amzDate := r.Header.Get("X-Amz-Date")
	when, err := time.Parse("20060102T150405Z", amzDate)
	if err != nil || !strings.HasPrefix(amzDate, scope[1]) {
		return "IncompleteSignatureException", "Date must be in ISO-8601 'basic format'.", "date " + amzDate
	}
	if d := time.Since(when); d > 15*time.Minute || d < -15*time.Minute {
		return "InvalidSignatureException", "Signature expired", "date " + amzDate
	}
	signed := strings.Split(fields["SignedHeaders"], ";")
	if !sort.StringsAreSorted(signed) || !contains(signed, "host") || !contains(signed, "x-amz-date") {
		return "IncompleteSignatureException", "Invalid SignedHeaders", "signed headers " + fields["SignedHeaders"]
	}
	var canon strings.Builder
	canon.WriteString(r.Method + "\n")
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	canon.WriteString(path + "\n")
	canon.WriteString(canonicalQuery(r) + "\n")
	for _, h := range signed {
		var v string
		switch h {
		case "host":
			v = r.Host
		case "content-length":
			v = strconv.FormatInt(r.ContentLength, 10)
		default:
			vals := r.Header.Values(h)
			for i := range vals {
				vals[i] = strings.Join(strings.Fields(vals[i]), " ")
			}
			v = strings.Join(vals, ",")
		}
		canon.WriteString(h + ":" + v + "\n")
	}
	canon.WriteString("\n" + fields["SignedHeaders"] + "\n")
	payload := r.Header.Get("X-Amz-Content-Sha256")
	if payload == "" {
		sum := sha256.Sum256(body)
		payload = hex.EncodeToString(sum[:])
	}
	canon.WriteString(payload)
	creq := sha256.Sum256([]byte(canon.String()))
	toSign := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + strings.Join(scope[1:], "/") + "\n" + hex.EncodeToString(creq[:])
	k := hmacSHA256([]byte("AWS4"+secret), scope[1])
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	k = hmacSHA256(k, "aws4_request")
	want := hex.EncodeToString(hmacSHA256(k, toSign))
	if !hmac.Equal([]byte(want), []byte(fields["Signature"])) {
		return "InvalidSignatureException",
			"The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
			"signature mismatch"
	}
	return "", "", ""
}

func canonicalQuery(r *http.Request) string {
	q := r.URL.Query()
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		vals := append([]string(nil), q[k]...)
		sort.Strings(vals)
		for _, v := range vals {
			parts = append(parts, awsEscape(k)+"="+awsEscape(v))
		}
	}
	return strings.Join(parts, "&")
}

// awsEscape is SigV4's URI encoding: every byte but A-Z a-z 0-9 - _ . ~.
func awsEscape(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// awsEnv is the AWS part of containerd's environment for endpoint e.
func (e *ecrEndpoint) awsEnv(home string) []string {
	return []string{
		// The node's own region differs from the registry's: the programs
		// must take the region from the registry's cloud name, and the
		// stand-in accepts only signatures scoped to that region.
		"AWS_REGION=" + nodeRegion,
		"AWS_ACCESS_KEY_ID=" + e.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + e.SecretKey,
		"AWS_ENDPOINT_URL_ECR=" + e.URL,
		// No instance metadata service here: without this the SDK would
		// probe 169.254.169.254 when the keys above did not reach it.
		"AWS_EC2_METADATA_DISABLED=true",
		// ecr-login keeps its token cache and its log here.
		"AWS_ECR_CACHE_DIR=" + home + "/.ecr",
		"HOME=" + home,
	}
}
