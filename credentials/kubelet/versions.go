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
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"

	kubeletconfig "k8s.io/kubelet/config/v1"
	providerv1 "k8s.io/kubelet/pkg/apis/credentialprovider/v1"
	providerv1alpha1 "k8s.io/kubelet/pkg/apis/credentialprovider/v1alpha1"
	providerv1beta1 "k8s.io/kubelet/pkg/apis/credentialprovider/v1beta1"
	kjson "sigs.k8s.io/json"

	"github.com/nodecred/nodecred/internal/jsonerr"
)

// The API versions the kubelet accepts. Its credential provider plugin
// package (kubernetes pkg/credentialprovider/plugin) registers the three
// CredentialProviderConfig versions in its scheme, and takes a provider's
// apiVersion from its apiVersions map of the three
// credentialprovider.kubelet.k8s.io versions.
//
// Every version is decoded into the v1 types: v1alpha1 and v1beta1 have the
// same fields, except CredentialProvider.tokenAttributes, which only v1 has
// (decodeKubeletConfig refuses it in the others, as the kubelet's strict
// decoding does), and v1's service account token fields in
// CredentialProviderRequest, which nodecred never sends: it pulls as for a
// pod without a service account
// (TestKubeletAPIVersionsHaveV1Fields holds this against the published
// types). The v1beta1 config package is not imported because it carries the
// whole KubeletConfiguration and its dependencies.
var (
	// kubeletConfigVersions are the CredentialProviderConfig apiVersions,
	// newest first.
	kubeletConfigVersions = []string{
		kubeletconfig.SchemeGroupVersion.String(),
		kubeletconfig.GroupName + "/v1beta1",
		kubeletconfig.GroupName + "/v1alpha1",
	}
	// providerAPIVersions are the CredentialProviderRequest and Response
	// apiVersions, newest first. The request a provider gets carries the
	// one its config names, and its response must carry exactly that one.
	providerAPIVersions = []string{
		providerv1.SchemeGroupVersion.String(),
		providerv1beta1.SchemeGroupVersion.String(),
		providerv1alpha1.SchemeGroupVersion.String(),
	}
)

// wantVersions renders versions for an error:
// "kubelet.config.k8s.io/v1, v1beta1 or v1alpha1".
func wantVersions(versions []string) string {
	return versions[0] + ", " + path.Base(versions[1]) + " or " + path.Base(versions[2])
}

// decodeStrict decodes JSON as the kubelet's strict codec does
// (sigs.k8s.io/json): field names are case-sensitive, and unknown or
// duplicate fields and trailing data are errors. Its errors name a field
// path or a byte offset, never a value.
func decodeStrict(data []byte, v any) error {
	strict, err := kjson.UnmarshalStrict(data, v)
	if err != nil {
		if ok, offset := kjson.SyntaxErrorOffset(err); ok {
			return fmt.Errorf("syntax error at byte %d", offset)
		}
		// A value of the wrong type: encoding/json names the field and the
		// kind of value found, which jsonerr.Scrub keeps.
		if err := json.Unmarshal(data, v); err != nil {
			return jsonerr.Scrub(err)
		}
		return errors.New("malformed JSON")
	}
	if len(strict) > 0 {
		return &strictFieldError{strict[0].Error()} // `unknown field "providers[0].colour"`
	}
	return nil
}

// strictFieldError is an unknown, duplicate or wrongly-cased field. It
// names the field's path, which for a provider's response can hold a
// value (an auth key), so responseDecodeError does not show it.
type strictFieldError struct{ msg string }

func (e *strictFieldError) Error() string { return e.msg }

// responseDecodeError says what is wrong with a provider's response that
// decodeStrict refused, quoting nothing from it: a byte offset, or the kind
// of mistake.
func responseDecodeError(err error) string {
	var field *strictFieldError
	var typ *jsonerr.TypeError
	switch {
	case errors.As(err, &field) && strings.HasPrefix(field.msg, "duplicate field"):
		return "a duplicate field (field not shown)"
	case errors.As(err, &field):
		return "an unknown field, or a field in the wrong case (field not shown)"
	case errors.As(err, &typ):
		return fmt.Sprintf("a field of the wrong type (%s) at byte %d (field not shown)", typ.Value, typ.Offset)
	}
	return err.Error() // "syntax error at byte N", "malformed JSON"
}
