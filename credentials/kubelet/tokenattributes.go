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
	"errors"
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
	kubeletconfig "k8s.io/kubelet/config/v1"
	providerv1 "k8s.io/kubelet/pkg/apis/credentialprovider/v1"
)

// validateTokenAttributes checks a provider's tokenAttributes (KEP-4412,
// service account tokens for credential providers) as the kubelet 1.34 and
// later does with its feature gate on (validateCredentialProviderConfig in
// kubernetes pkg/credentialprovider/plugin/config.go). The messages name
// the field and, for annotation keys and enumerations, the value: neither
// is a secret. All the kubelet's errors are reported, joined.
func validateTokenAttributes(field, apiVersion string, ta *kubeletconfig.ServiceAccountTokenAttributes) error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(field+format, args...)) }
	if ta.ServiceAccountTokenAudience == "" {
		add(".serviceAccountTokenAudience: required")
	}
	if ta.RequireServiceAccount == nil {
		add(".requireServiceAccount: required")
	}
	if apiVersion != providerv1.SchemeGroupVersion.String() {
		add(": only supported for providers of apiVersion %s, not %q", providerv1.SchemeGroupVersion, apiVersion)
	}
	if ta.RequireServiceAccount != nil && !*ta.RequireServiceAccount && len(ta.RequiredServiceAccountAnnotationKeys) > 0 {
		add(".requiredServiceAccountAnnotationKeys: requireServiceAccount cannot be false when requiredServiceAccountAnnotationKeys is set")
	}
	errs = append(errs, annotationKeyErrors(field+".requiredServiceAccountAnnotationKeys", ta.RequiredServiceAccountAnnotationKeys)...)
	errs = append(errs, annotationKeyErrors(field+".optionalServiceAccountAnnotationKeys", ta.OptionalServiceAccountAnnotationKeys)...)
	var both []string
	for _, k := range ta.RequiredServiceAccountAnnotationKeys {
		if slices.Contains(ta.OptionalServiceAccountAnnotationKeys, k) && !slices.Contains(both, k) {
			both = append(both, k)
		}
	}
	if len(both) > 0 {
		slices.Sort(both)
		add(": annotation keys %q cannot be both required and optional", both)
	}
	switch ta.CacheType {
	case kubeletconfig.ServiceAccountServiceAccountTokenCacheType, kubeletconfig.TokenServiceAccountTokenCacheType:
	case "":
		add(".cacheType: required (%s or %s)", kubeletconfig.ServiceAccountServiceAccountTokenCacheType, kubeletconfig.TokenServiceAccountTokenCacheType)
	default:
		add(".cacheType: %q is not supported (want %s or %s)", ta.CacheType, kubeletconfig.ServiceAccountServiceAccountTokenCacheType, kubeletconfig.TokenServiceAccountTokenCacheType)
	}
	return errors.Join(errs...)
}

// annotationKeyErrors checks annotation keys as the kubelet does: each a
// qualified name, compared in lower case, and none twice.
func annotationKeyErrors(field string, keys []string) []error {
	var errs []error
	seen := map[string]bool{}
	for _, k := range keys {
		for _, msg := range validation.IsQualifiedName(strings.ToLower(k)) {
			errs = append(errs, fmt.Errorf("%s: %q: %s", field, k, msg))
		}
		if seen[k] {
			errs = append(errs, fmt.Errorf("%s: %q is listed twice", field, k))
		}
		seen[k] = true
	}
	return errs
}

// needsServiceAccount reports whether a provider runs only for a pod with
// a service account: tokenAttributes.requireServiceAccount is true. The
// kubelet skips such a provider for a pod without one, as every pull
// containerd makes for the node is.
func needsServiceAccount(p kubeletconfig.CredentialProvider) bool {
	ta := p.TokenAttributes
	return ta != nil && ta.RequireServiceAccount != nil && *ta.RequireServiceAccount
}
