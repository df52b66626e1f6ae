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
	"context"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	kjsonserializer "k8s.io/apimachinery/pkg/runtime/serializer/json"
	credentialproviderapi "k8s.io/kubelet/pkg/apis/credentialprovider"
	"k8s.io/kubelet/pkg/apis/credentialprovider/install"

	"github.com/nodecred/nodecred/credentials"
	"github.com/nodecred/nodecred/internal/hostmatch"
)

// The kubelet's own codec for the provider API, set up as kubernetes
// pkg/credentialprovider/plugin/plugin.go sets it up: the published
// credentialprovider types installed in a scheme, strict decoding.
var kubeletCodecs = func() serializer.CodecFactory {
	scheme := runtime.NewScheme()
	install.Install(scheme)
	return serializer.NewCodecFactory(scheme, serializer.EnableStrict)
}()

// kubeletEncodeRequest encodes a request for image as the kubelet's
// execPlugin.encodeRequest does for a provider speaking apiVersion.
func kubeletEncodeRequest(t *testing.T, apiVersion, image string) []byte {
	t.Helper()
	info, ok := runtime.SerializerInfoForMediaType(kubeletCodecs.SupportedMediaTypes(), "application/json")
	if !ok {
		t.Fatal("no JSON serializer")
	}
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		t.Fatal(err)
	}
	data, err := runtime.Encode(kubeletCodecs.EncoderForVersion(info.Serializer, gv), &credentialproviderapi.CredentialProviderRequest{Image: image})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// kubeletDecodeResponse is the kubelet's execPlugin.ExecPlugin and
// decodeResponse: the response's apiVersion must be the provider's, then
// the strict codec decodes it; pluginProvider.provide then refuses a
// cacheKeyType other than the three.
func kubeletDecodeResponse(data []byte, apiVersion string) (*credentialproviderapi.CredentialProviderResponse, bool) {
	gvk, err := kjsonserializer.DefaultMetaFactory.Interpret(data)
	if err != nil || gvk.GroupVersion().String() != apiVersion {
		return nil, false
	}
	obj, gvk, err := kubeletCodecs.UniversalDecoder().Decode(data, nil, nil)
	if err != nil || gvk.Kind != "CredentialProviderResponse" || gvk.Group != credentialproviderapi.GroupName {
		return nil, false
	}
	resp, ok := obj.(*credentialproviderapi.CredentialProviderResponse)
	if !ok {
		return nil, false
	}
	switch resp.CacheKeyType {
	case credentialproviderapi.ImagePluginCacheKeyType, credentialproviderapi.RegistryPluginCacheKeyType, credentialproviderapi.GlobalPluginCacheKeyType:
		return resp, true
	}
	return nil, false
}

// compareWithKubelet fails when parseProviderResponse and the kubelet
// disagree about data, except where nodecred is stricter on purpose (see
// parseProviderResponse).
func compareWithKubelet(t *testing.T, data []byte, apiVersion string) {
	t.Helper()
	ours, err := parseProviderResponse(data, apiVersion)
	theirs, ok := kubeletDecodeResponse(data, apiVersion)
	switch {
	case err == nil && !ok:
		t.Fatalf("nodecred takes a response the kubelet refuses: %q", data)
	case err != nil && ok:
		if theirs.CacheDuration != nil && theirs.CacheDuration.Duration < 0 {
			return // refused on purpose: negative cacheDuration
		}
		for key := range theirs.Auth {
			if _, err := hostmatch.ParsePattern(key); err != nil {
				return // refused on purpose: an auth key that is not a host pattern
			}
		}
		t.Fatalf("nodecred refuses (%v) a response the kubelet takes: %q", err, data)
	case err == nil:
		if string(ours.keyType) != string(theirs.CacheKeyType) {
			t.Fatalf("cacheKeyType %q, kubelet %q", ours.keyType, theirs.CacheKeyType)
		}
		if (ours.duration == nil) != (theirs.CacheDuration == nil) || ours.duration != nil && *ours.duration != theirs.CacheDuration.Duration {
			t.Fatalf("cacheDuration %v, kubelet %v", ours.duration, theirs.CacheDuration)
		}
		got := map[string]string{}
		for _, a := range ours.auth {
			got[a.key.String()] = a.cred.Username + ":" + a.cred.Password.Reveal()
		}
		want := map[string]string{}
		for key, a := range theirs.Auth {
			want[key] = a.Username + ":" + a.Password
		}
		if !maps.Equal(got, want) {
			t.Fatalf("auth %v, kubelet %v", got, want)
		}
	}
}

func TestParseProviderResponseAgreesWithKubelet(t *testing.T) {
	bodies := []string{
		`"kind":"CredentialProviderResponse","cacheKeyType":"Registry","cacheDuration":"5m","auth":{"r.io":{"username":"u","password":"p"},"*.r.io/team":{"username":"v","password":"q"}}`,
		`"kind":"CredentialProviderResponse","cacheKeyType":"Image"`,
		`"kind":"CredentialProviderResponse","cacheKeyType":"Global","cacheDuration":"0s","auth":{}`,
		`"kind":"CredentialProviderResponse","cacheKeyType":"Global","auth":null`,
		`"kind":"CredentialProviderResponse","cacheKeyType":"Forever"`,
		`"kind":"CredentialProviderResponse"`,
		`"kind":"CredentialProviderRequest","cacheKeyType":"Image"`,
		`"cacheKeyType":"Image"`,
		`"kind":"CredentialProviderResponse","cacheKeyType":"Image","colour":"blue"`,
		`"kind":"CredentialProviderResponse","CacheKeyType":"Image"`,
		`"kind":"CredentialProviderResponse","cacheKeyType":"Image","cacheKeyType":"Global"`,
		`"kind":"CredentialProviderResponse","cacheKeyType":"Image","auth":{"r.io":{"username":"u","password":"p","token":"t"}}`,
		`"kind":"CredentialProviderResponse","cacheKeyType":"Image","cacheDuration":"soon"`,
		`"kind":"CredentialProviderResponse","cacheKeyType":"Image","cacheDuration":"-1m"`,
		`"kind":"CredentialProviderResponse","cacheKeyType":"Image","auth":{"a..b":{"username":"u","password":"p"}}`,
		`"kind":"CredentialProviderResponse","cacheKeyType":"Image","auth":{"r.io":{"username":5}}`,
	}
	for _, version := range providerAPIVersions {
		for _, body := range bodies {
			for _, respVersion := range providerAPIVersions {
				for _, data := range []string{
					`{"apiVersion":"` + respVersion + `",` + body + `}`,
					`{"apiVersion":"` + respVersion + `",` + body + `} trailing`,
					`{"apiVersion":"` + respVersion + `",` + body,
				} {
					compareWithKubelet(t, []byte(data), version)
				}
			}
		}
	}
	for _, data := range []string{
		`{"APIVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderResponse","cacheKeyType":"Image"}`,
		`{"apiVersion":"credentialprovider.kubelet.k8s.io/v1alpha1","apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderResponse","cacheKeyType":"Image"}`,
		`{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderResponse","cacheKeyType":"Image","auth":{"r.io":{"username":"u"},"r.io":{"username":"v"}}}`,
		`apiVersion: credentialprovider.kubelet.k8s.io/v1
kind: CredentialProviderResponse
cacheKeyType: Image`,
		`null`,
		``,
	} {
		compareWithKubelet(t, []byte(data), "credentialprovider.kubelet.k8s.io/v1")
	}
	// The agreement must not be vacuous: each version takes its own responses.
	for _, version := range providerAPIVersions {
		data := `{"apiVersion":"` + version + `","kind":"CredentialProviderResponse","cacheKeyType":"Image"}`
		if _, err := parseProviderResponse([]byte(data), version); err != nil {
			t.Errorf("%s: %v", version, err)
		}
	}
}

func FuzzProviderResponseAgainstKubelet(f *testing.F) {
	for _, v := range providerAPIVersions {
		f.Add([]byte(`{"apiVersion":"`+v+`","kind":"CredentialProviderResponse","cacheKeyType":"Registry","cacheDuration":"5m","auth":{"*.r.io":{"username":"u","password":"p"}}}`), uint8(0))
	}
	f.Add([]byte(`{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderResponse","CacheKeyType":"Image"}`), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, v uint8) {
		compareWithKubelet(t, data, providerAPIVersions[int(v)%len(providerAPIVersions)])
	})
}

// scriptProvider installs a provider that records its request in
// REQUEST_FILE and answers RESPONSE: shell built-ins only, since a provider
// runs with a small environment.
func scriptProvider(t *testing.T, binDir, name string) {
	t.Helper()
	script := "#!/bin/sh\nIFS= read -r req\nprintf '%s' \"$req\" > \"$REQUEST_FILE\"\nprintf '%s' \"$RESPONSE\"\n"
	if err := os.WriteFile(filepath.Join(binDir, name), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
}

// TestProviderAPIVersionsRoundTrip runs a provider of each apiVersion: the
// request it gets is the kubelet's encoding for that version, and it is
// served only when its response carries that same version.
func TestProviderAPIVersionsRoundTrip(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	for _, version := range providerAPIVersions {
		for _, respVersion := range providerAPIVersions {
			t.Run(version+" answered in "+respVersion, func(t *testing.T) {
				binDir, config := t.TempDir(), filepath.Join(t.TempDir(), "cp.yaml")
				scriptProvider(t, binDir, "script")
				request := filepath.Join(t.TempDir(), "request")
				response := `{"apiVersion":"` + respVersion + `","kind":"CredentialProviderResponse","cacheKeyType":"Registry","auth":{"r.io":{"username":"u","password":"p"}}}`
				writeConfig(t, config, versionedConfig("kubelet.config.k8s.io/v1", version, map[string]string{"REQUEST_FILE": request, "RESPONSE": response}, "script"))
				src, err := Open(config, binDir, 10*time.Second)
				if err != nil {
					t.Fatal(err)
				}
				c, _ := src.Get(context.Background(), credentials.Request{Host: "r.io", Ref: "r.io/team/app:1"})
				if served := c.Username == "u"; served != (respVersion == version) {
					t.Fatalf("served = %v for a %s response to a %s request", served, respVersion, version)
				}
				sent, err := os.ReadFile(request)
				if err != nil {
					t.Fatal(err)
				}
				var got, want map[string]any
				if err := json.Unmarshal(sent, &got); err != nil {
					t.Fatalf("request %q: %v", sent, err)
				}
				if err := json.Unmarshal(kubeletEncodeRequest(t, version, "r.io/team/app:1"), &want); err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("request %v, the kubelet sends %v", got, want)
				}
			})
		}
	}
}

// TestKubeletAPIVersionsHaveV1Fields holds the claim that every version
// decodes into the v1 types against the published types' source (the
// v1beta1 config package is too heavy to import): v1alpha1 and v1beta1
// have v1's fields, less tokenAttributes in the config and less the service
// account fields of the request, which nodecred never sends.
func TestKubeletAPIVersionsHaveV1Fields(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "k8s.io/kubelet").Output()
	if err != nil {
		t.Skipf("cannot locate k8s.io/kubelet: %v", err)
	}
	root := strings.TrimSpace(string(out))
	checks := []struct {
		dir     string
		types   []string
		v1Extra map[string][]string // type -> fields only v1 has
	}{
		{"config", []string{"CredentialProviderConfig", "CredentialProvider", "ExecEnvVar"},
			map[string][]string{"CredentialProvider": {"tokenAttributes"}}},
		{"pkg/apis/credentialprovider", []string{"CredentialProviderRequest", "CredentialProviderResponse", "AuthConfig"},
			map[string][]string{"CredentialProviderRequest": {"serviceAccountToken", "serviceAccountAnnotations"}}},
	}
	for _, c := range checks {
		v1 := structFields(t, filepath.Join(root, c.dir, "v1"))
		for _, version := range []string{"v1beta1", "v1alpha1"} {
			old := structFields(t, filepath.Join(root, c.dir, version))
			for _, typ := range c.types {
				want := map[string]string{}
				for name, typeText := range v1[typ] {
					if !slices.Contains(c.v1Extra[typ], name) {
						want[name] = typeText
					}
				}
				if !maps.Equal(old[typ], want) {
					t.Errorf("%s/%s.%s fields %v, want v1's %v", c.dir, version, typ, old[typ], want)
				}
			}
		}
	}
	// The versions nodecred lists are the ones these packages register.
	for _, v := range append(slices.Clone(kubeletConfigVersions), providerAPIVersions...) {
		group, version, _ := strings.Cut(v, "/")
		dir := filepath.Join(root, "config", version)
		if strings.HasPrefix(group, "credentialprovider.") {
			dir = filepath.Join(root, "pkg/apis/credentialprovider", version)
		}
		b, err := os.ReadFile(filepath.Join(dir, "register.go"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), fmt.Sprintf("GroupName = %q", group)) || !strings.Contains(string(b), fmt.Sprintf("Version: %q", version)) {
			t.Errorf("%s/register.go does not register %s", dir, v)
		}
	}
}

// structFields maps each struct type declared in the Go package in dir to
// its JSON field names and their Go types.
func structFields(t *testing.T, dir string) map[string]map[string]string {
	t.Helper()
	fset := token.NewFileSet()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	structs := map[string]map[string]string{}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			spec, ok := n.(*ast.TypeSpec)
			if !ok {
				return true
			}
			st, ok := spec.Type.(*ast.StructType)
			if !ok {
				return true
			}
			fields := map[string]string{}
			for _, field := range st.Fields.List {
				name := ""
				if field.Tag != nil {
					tag := reflect.StructTag(strings.Trim(field.Tag.Value, "`")).Get("json")
					name, _, _ = strings.Cut(tag, ",")
				}
				if name == "" { // embedded TypeMeta
					name = types.ExprString(field.Type)
				}
				fields[name] = types.ExprString(field.Type)
			}
			structs[spec.Name.Name] = fields
			return true
		})
	}
	return structs
}
