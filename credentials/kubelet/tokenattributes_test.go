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

package kubelet

import (
	"strings"
	"testing"
)

// TestTokenAttributesValidatedAsTheKubelet holds each rule of the kubelet's
// validateCredentialProviderConfig for tokenAttributes (kubernetes
// pkg/credentialprovider/plugin/config.go, feature gate
// KubeletServiceAccountTokenForCredentialProviders on, as it is by default
// since 1.34), decoded into k8s.io/kubelet's published v1 types. Annotation
// keys are checked with apimachinery's IsQualifiedName, the kubelet's own
// check.
func TestTokenAttributesValidatedAsTheKubelet(t *testing.T) {
	cfg := func(providerVersion, attrs string) string {
		return "apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n- name: p\n  matchImages: [\"r.io\"]\n  defaultCacheDuration: 1m\n  apiVersion: " + providerVersion + "\n  tokenAttributes:\n" + attrs
	}
	const good = "    serviceAccountTokenAudience: sts.example.com\n    cacheType: ServiceAccount\n    requireServiceAccount: true\n"
	tests := []struct{ name, cfg, want string }{
		{"good", cfg(v1Provider, good), ""},
		{"good, optional account, Token cache", cfg(v1Provider, "    serviceAccountTokenAudience: a\n    cacheType: Token\n    requireServiceAccount: false\n    optionalServiceAccountAnnotationKeys: [\"example.com/Role\", \"team\"]\n"), ""},
		{"no audience", cfg(v1Provider, "    cacheType: Token\n    requireServiceAccount: true\n"), "providers[0].tokenAttributes.serviceAccountTokenAudience: required"},
		{"no requireServiceAccount", cfg(v1Provider, "    serviceAccountTokenAudience: a\n    cacheType: Token\n"), "providers[0].tokenAttributes.requireServiceAccount: required"},
		{"no cacheType", cfg(v1Provider, "    serviceAccountTokenAudience: a\n    requireServiceAccount: true\n"), "providers[0].tokenAttributes.cacheType: required (ServiceAccount or Token)"},
		{"unknown cacheType", cfg(v1Provider, "    serviceAccountTokenAudience: a\n    cacheType: Pod\n    requireServiceAccount: true\n"), `providers[0].tokenAttributes.cacheType: "Pod" is not supported`},
		{"older provider apiVersion", cfg("credentialprovider.kubelet.k8s.io/v1beta1", good), `providers[0].tokenAttributes: only supported for providers of apiVersion credentialprovider.kubelet.k8s.io/v1, not "credentialprovider.kubelet.k8s.io/v1beta1"`},
		{"required keys without requireServiceAccount", cfg(v1Provider, "    serviceAccountTokenAudience: a\n    cacheType: Token\n    requireServiceAccount: false\n    requiredServiceAccountAnnotationKeys: [\"example.com/role\"]\n"), "requiredServiceAccountAnnotationKeys: requireServiceAccount cannot be false"},
		{"bad annotation key", cfg(v1Provider, good+"    optionalServiceAccountAnnotationKeys: [\"not a key\"]\n"), `optionalServiceAccountAnnotationKeys: "not a key": name part must consist of alphanumeric characters`},
		{"key listed twice", cfg(v1Provider, good+"    requiredServiceAccountAnnotationKeys: [\"a\", \"a\"]\n"), `requiredServiceAccountAnnotationKeys: "a" is listed twice`},
		{"key both required and optional", cfg(v1Provider, good+"    requiredServiceAccountAnnotationKeys: [\"a\"]\n    optionalServiceAccountAnnotationKeys: [\"a\"]\n"), `annotation keys ["a"] cannot be both required and optional`},
		{"every error reported", cfg(v1Provider, "    cacheType: Pod\n"), "serviceAccountTokenAudience: required\nproviders[0].tokenAttributes.requireServiceAccount: required\nproviders[0].tokenAttributes.cacheType"},
		{"unknown field", cfg(v1Provider, good+"    audience: x\n"), `unknown field "providers[0].tokenAttributes.audience"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(tt.cfg))
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("err = %v\nwant it to contain %q", err, tt.want)
			}
		})
	}
}
