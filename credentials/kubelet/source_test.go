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
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/nodecred/nodecred/credentials"
	"github.com/nodecred/nodecred/internal/fakeclock"
	"github.com/nodecred/nodecred/internal/testprog"
)

// providerConfig renders a CredentialProviderConfig with one provider entry
// per element of envs, each running the test provider with that env.
func providerConfig(matchImages string, defaultCache string, envs ...map[string]string) string {
	var b strings.Builder
	b.WriteString("apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n")
	for i, env := range envs {
		fmt.Fprintf(&b, "- name: provider%d\n  matchImages: [%s]\n  defaultCacheDuration: %s\n  apiVersion: credentialprovider.kubelet.k8s.io/v1\n  env:\n", i, matchImages, defaultCache)
		for k, v := range env {
			fmt.Fprintf(&b, "  - name: %s\n    value: %q\n", k, v)
		}
	}
	return b.String()
}

// providerSetup writes bin_dir with a copy of the test provider per entry
// and returns the providers built from the config, with clock.
func providerSetup(t *testing.T, cfgText string, clock func() time.Time, timeout time.Duration) []*provider {
	t.Helper()
	_, prog := testprog.Build(t)
	cfg, err := ParseConfig([]byte(cfgText))
	if err != nil {
		t.Fatal(err)
	}
	binDir := t.TempDir()
	b, err := os.ReadFile(prog)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range cfg.Providers {
		if err := os.WriteFile(filepath.Join(binDir, p.Name), b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return newProviders(cfg, binDir, timeout, clock)
}

func ask(providers []*provider, host, ref string) credentials.Credential {
	c, _ := askProviders(context.Background(), providers, credentials.Request{Host: host, Ref: ref})
	return c
}

func TestParseKubeletConfig(t *testing.T) {
	good := providerConfig(`"*.example.com"`, "10m", map[string]string{"A": "b"})
	if _, err := ParseConfig([]byte(good)); err != nil {
		t.Fatalf("YAML: %v", err)
	}
	js := `{"apiVersion":"kubelet.config.k8s.io/v1","kind":"CredentialProviderConfig","providers":[{"name":"ecr-credential-provider","matchImages":["*.dkr.ecr.*.amazonaws.com"],"defaultCacheDuration":"12h","apiVersion":"credentialprovider.kubelet.k8s.io/v1","args":["get-credentials"]}]}`
	if _, err := ParseConfig([]byte(js)); err != nil {
		t.Fatalf("JSON: %v", err)
	}
	provider := func(extra string) string {
		return "apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n- " + extra
	}
	const base = "matchImages: [\"r.io\"]\n  defaultCacheDuration: 1m\n  apiVersion: credentialprovider.kubelet.k8s.io/v1\n  "
	tests := []struct{ name, cfg, want string }{
		{"unknown apiVersion", strings.Replace(good, "kubelet.config.k8s.io/v1", "kubelet.config.k8s.io/v2", 1), `apiVersion "kubelet.config.k8s.io/v2", kind "CredentialProviderConfig": want kubelet.config.k8s.io/v1, v1beta1 or v1alpha1 CredentialProviderConfig`},
		{"other group", strings.Replace(good, "kubelet.config.k8s.io/v1", "kubeproxy.config.k8s.io/v1alpha1", 1), `apiVersion "kubeproxy.config.k8s.io/v1alpha1"`},
		{"no apiVersion", strings.Replace(good, "apiVersion: kubelet.config.k8s.io/v1\n", "", 1), `apiVersion "", kind "CredentialProviderConfig"`},
		{"wrong kind", strings.Replace(good, "kind: CredentialProviderConfig", "kind: KubeletConfiguration", 1), `kind "KubeletConfiguration"`},
		{"no providers", "apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders: []\n", "providers: none"},
		{"bad name", provider("name: ../evil\n  " + base), `providers[0].name: "../evil"`},
		{"no matchImages", provider("name: p\n  defaultCacheDuration: 1m\n  apiVersion: credentialprovider.kubelet.k8s.io/v1\n"), "providers[0].matchImages: required"},
		{"bad matchImages", provider("name: p\n  matchImages: [\"a..b\"]\n  defaultCacheDuration: 1m\n  apiVersion: credentialprovider.kubelet.k8s.io/v1\n"), `providers[0].matchImages[0]: host pattern "a..b"`},
		{"no defaultCacheDuration", provider("name: p\n  matchImages: [\"r.io\"]\n  apiVersion: credentialprovider.kubelet.k8s.io/v1\n"), "providers[0].defaultCacheDuration: required"},
		{"unknown provider apiVersion", provider("name: p\n  matchImages: [\"r.io\"]\n  defaultCacheDuration: 1m\n  apiVersion: credentialprovider.kubelet.k8s.io/v2\n"), `providers[0].apiVersion: "credentialprovider.kubelet.k8s.io/v2" is not supported (want credentialprovider.kubelet.k8s.io/v1, v1beta1 or v1alpha1)`},
		{"no provider apiVersion", provider("name: p\n  matchImages: [\"r.io\"]\n  defaultCacheDuration: 1m\n"), `providers[0].apiVersion: required`},
		{"name with a space", provider("name: a b\n  " + base), `providers[0].name: "a b" is not a file name`},
		{"field in the wrong case", provider("name: p\n  " + base + "matchimages: [\"s.io\"]\n"), `unknown field "providers[0].matchimages"`},
		{"duplicate key", provider("name: p\n  " + base + "name: q\n"), "invalid YAML at line"},
		{"tokenAttributes in v1alpha1", strings.Replace(provider("name: p\n  "+base+"tokenAttributes: {serviceAccountTokenAudience: x}\n"), "kubelet.config.k8s.io/v1", "kubelet.config.k8s.io/v1alpha1", 1), `unknown field "providers[0].tokenAttributes" (only kubelet.config.k8s.io/v1 has it)`},
		{"tokenAttributes", provider("name: p\n  " + base + "tokenAttributes: {serviceAccountTokenAudience: x, cacheType: Token}\n"), "providers[0].tokenAttributes"},
		{"unknown field", provider("name: p\n  " + base + "colour: blue\n"), `unknown field`},
		{"duplicate", provider("name: p\n  "+strings.TrimSpace(base)) + "\n- name: p\n  " + base, `providers[1].name: "p" is configured twice`},
		{"not yaml", "\t:::", "invalid"},
	}
	for _, tt := range tests {
		_, err := ParseConfig([]byte(tt.cfg))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want it to contain %q", tt.name, err, tt.want)
		}
	}
}

func TestParseProviderResponse(t *testing.T) {
	const v1 = "credentialprovider.kubelet.k8s.io/v1"
	ok := func(body string) string {
		return `{"apiVersion":"` + v1 + `","kind":"CredentialProviderResponse",` + body + `}`
	}
	tests := []struct{ name, resp, wantErr string }{
		{"registry", ok(`"cacheKeyType":"Registry","cacheDuration":"5m","auth":{"r.io":{"username":"u","password":"p"}}`), ""},
		{"no auth", ok(`"cacheKeyType":"Global"`), ""},
		{"bad key type", ok(`"cacheKeyType":"secret-pw"`), `response cacheKeyType: not Image, Registry or Global (value not shown)`},
		{"missing key type", ok(`"auth":{}`), `response cacheKeyType: required (Image, Registry or Global)`},
		{"negative duration", ok(`"cacheKeyType":"Image","cacheDuration":"-1m"`), "response cacheDuration: negative"},
		{"bad auth key", ok(`"cacheKeyType":"Image","auth":{"secret-pw..b":{"username":"u","password":"secret-pw"}}`), "response auth: a key has an empty label (key not shown)"},
		{"auth key with a bad port", ok(`"cacheKeyType":"Image","auth":{"r.io:secret-pw":{"username":"u","password":"p"}}`), "response auth: a key has a port that is not a number from 1 to 65535 (key not shown)"},
		{"wrong kind", `{"apiVersion":"` + v1 + `","kind":"secret-pw","cacheKeyType":"Image"}`, `response kind: not CredentialProviderResponse (value not shown)`},
		{"wrong version", `{"apiVersion":"secret-pw","kind":"CredentialProviderResponse","cacheKeyType":"Image"}`, "response apiVersion: not " + v1 + ", the version the provider was asked in (value not shown)"},
		{"older version", `{"apiVersion":"credentialprovider.kubelet.k8s.io/v1beta1","kind":"CredentialProviderResponse","cacheKeyType":"Image"}`, "response apiVersion: not " + v1},
		{"truncated", `{"apiVersion":"` + v1 + `","auth":{"r.io":{"password":"secret-pw`, "malformed response: syntax error at byte 90"},
		{"syntax", `{"apiVersion":"` + v1 + `" "secret-pw"}`, "malformed response: syntax error at byte"},
		{"unknown field", ok(`"cacheKeyType":"Image","secret-pw":1`), "malformed response: an unknown field, or a field in the wrong case (field not shown)"},
		{"wrong case", ok(`"CacheKeyType":"Image"`), "malformed response: an unknown field, or a field in the wrong case (field not shown)"},
		{"duplicate field", ok(`"cacheKeyType":"Image","cacheKeyType":"Image"`), "malformed response: a duplicate field (field not shown)"},
		{"wrong type", ok(`"cacheKeyType":"Image","auth":{"secret-pw":{"password":5}}`), "malformed response: a field of the wrong type (number) at byte"},
	}
	for _, tt := range tests {
		_, err := parseProviderResponse([]byte(tt.resp), v1)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.wantErr)
		case err != nil && strings.Contains(err.Error(), "secret-pw"):
			t.Errorf("%s: error carries the password: %v", tt.name, err)
		}
	}
}

// FuzzParseProviderResponse checks that an accepted response can serve
// what it holds, and that an error quotes nothing of the response: the
// marker SECRET, wherever the response holds it (a value, an auth key, an
// unknown field's name), never shows in an error.
func FuzzParseProviderResponse(f *testing.F) {
	f.Add([]byte(`{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderResponse","cacheKeyType":"Registry","cacheDuration":"5m","auth":{"*.r.io":{"username":"u","password":"p"}}}`))
	f.Add([]byte(`{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderResponse","cacheKeyType":"Image"}`))
	f.Add([]byte(`{`))
	f.Add([]byte(`{"apiVersion":"SECRET","kind":"CredentialProviderResponse","cacheKeyType":"Image"}`))
	f.Add([]byte(`{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"SECRET","cacheKeyType":"Image"}`))
	f.Add([]byte(`{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderResponse","cacheKeyType":"SECRET"}`))
	f.Add([]byte(`{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderResponse","cacheKeyType":"Image","auth":{"SECRET..io":{"password":"p"}}}`))
	f.Add([]byte(`{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderResponse","cacheKeyType":"Image","SECRET":1}`))
	f.Add([]byte(`{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderResponse","cacheKeyType":"Image","auth":{"r.io":{"password":["SECRET"]}}}`))
	f.Add([]byte(`{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderResponse","cacheKeyType":"Image","cacheDuration":"SECRET"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := parseProviderResponse(data, providerAPIVersion)
		if err != nil {
			if strings.Contains(err.Error(), "SECRET") {
				t.Fatalf("error quotes the response: %v", err)
			}
			return
		}
		if a.duration != nil && *a.duration < 0 {
			t.Fatalf("negative cache duration accepted")
		}
		for _, pa := range a.auth {
			if !pa.cred.IsZero() && pa.key.String() == "" {
				t.Fatalf("credential under an empty key")
			}
		}
	})
}

func TestProviderServesAndCachesByKeyType(t *testing.T) {
	tests := []struct {
		keyType   string
		lookups   [][2]string // host, ref
		wantExecs int
	}{
		{"Registry", [][2]string{{"r.example.com", "r.example.com/a:1"}, {"r.example.com", "r.example.com/b:2"}, {"s.example.com", "s.example.com/a:1"}}, 2},
		{"Image", [][2]string{{"r.example.com", "r.example.com/a:1"}, {"r.example.com", "r.example.com/a:1"}, {"r.example.com", "r.example.com/b:2"}}, 2},
		{"Global", [][2]string{{"r.example.com", "r.example.com/a:1"}, {"s.example.com", "s.example.com/b:2"}}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.keyType, func(t *testing.T) {
			count := filepath.Join(t.TempDir(), "count")
			env := map[string]string{"PROVIDER_USER": "robot", "PROVIDER_PASSWORD": "pw", "PROVIDER_CACHE_KEY_TYPE": tt.keyType, "PROVIDER_COUNT_FILE": count}
			if tt.keyType == "Global" {
				env["PROVIDER_AUTH_KEY"] = "*.example.com"
			}
			ps := providerSetup(t, providerConfig(`"*.example.com"`, "10m", env), nil, 10*time.Second)
			for _, l := range tt.lookups {
				if c := ask(ps, l[0], l[1]); c.Username != "robot" || c.Password.Reveal() != "pw" {
					t.Fatalf("%s: got %q", l[1], c.Username)
				}
			}
			if n := countLines(t, count); n != tt.wantExecs {
				t.Fatalf("provider ran %d times, want %d", n, tt.wantExecs)
			}
		})
	}
}

func TestProviderCacheDuration(t *testing.T) {
	clock := fakeclock.New()
	count := filepath.Join(t.TempDir(), "count")
	env := map[string]string{"PROVIDER_USER": "u", "PROVIDER_PASSWORD": "p", "PROVIDER_COUNT_FILE": count}
	// No cacheDuration in the response: defaultCacheDuration (1m) applies.
	ps := providerSetup(t, providerConfig(`"r.io"`, "1m", env), clock.Now, 10*time.Second)
	ask(ps, "r.io", "r.io/a:1")
	clock.Advance(50 * time.Second)
	ask(ps, "r.io", "r.io/a:1")
	if n := countLines(t, count); n != 1 {
		t.Fatalf("runs within defaultCacheDuration = %d, want 1", n)
	}
	clock.Advance(20 * time.Second)
	ask(ps, "r.io", "r.io/a:1")
	if n := countLines(t, count); n != 2 {
		t.Fatalf("runs after expiry = %d, want 2", n)
	}

	// cacheDuration 0 in the response: never cached.
	count0 := filepath.Join(t.TempDir(), "count")
	env0 := map[string]string{"PROVIDER_USER": "u", "PROVIDER_PASSWORD": "p", "PROVIDER_COUNT_FILE": count0, "PROVIDER_CACHE_DURATION": "0s"}
	ps0 := providerSetup(t, providerConfig(`"r.io"`, "1h", env0), clock.Now, 10*time.Second)
	for range 3 {
		ask(ps0, "r.io", "r.io/a:1")
	}
	if n := countLines(t, count0); n != 3 {
		t.Fatalf("runs with cacheDuration 0 = %d, want 3", n)
	}
}

func TestProviderMatchesContactedMirrorHost(t *testing.T) {
	count := filepath.Join(t.TempDir(), "count")
	env := map[string]string{"PROVIDER_USER": "mirror-robot", "PROVIDER_PASSWORD": "p", "PROVIDER_COUNT_FILE": count}
	ps := providerSetup(t, providerConfig(`"mirror.example.com"`, "10m", env), nil, 10*time.Second)
	// The upstream host is not the provider's: no run, no credential.
	if c := ask(ps, "upstream.example.com", "upstream.example.com/lib/app:1"); !c.IsZero() {
		t.Fatalf("provider answered for the upstream host")
	}
	// Contacting the mirror for the same image: the provider is asked about
	// the image at the mirror, and its auth key matches the mirror.
	if c := ask(ps, "mirror.example.com", "upstream.example.com/lib/app:1"); c.Username != "mirror-robot" {
		t.Fatalf("mirror lookup got %q", c.Username)
	}
	b, _ := os.ReadFile(count)
	if got := strings.TrimSpace(string(b)); got != "mirror.example.com/lib/app:1" {
		t.Fatalf("provider was asked about %q, want the image at the mirror", got)
	}
}

func TestProvidersInOrderAndFaultsAreMisses(t *testing.T) {
	for _, mode := range []string{"fail", "garbage", "big", "wrong-kind", "hang"} {
		t.Run(mode, func(t *testing.T) {
			ctx, logs := capturedLog(t)
			broken := map[string]string{"PROVIDER_MODE": mode, "PROVIDER_PASSWORD": "leaked-pw"}
			good := map[string]string{"PROVIDER_USER": "second", "PROVIDER_PASSWORD": "p"}
			ps := providerSetup(t, providerConfig(`"r.io"`, "10m", broken, good), nil, 300*time.Millisecond)
			c, err := askProviders(ctx, ps, credentials.Request{Host: "r.io", Ref: "r.io/a:1"})
			if err != nil || c.Username != "second" {
				t.Fatalf("got %q, %v; want the second provider's", c.Username, err)
			}
			if n := strings.Count(logs.String(), "credential provider failed"); n != 1 {
				t.Errorf("%d warnings, want 1; log:\n%s", n, logs)
			}
			if strings.Contains(logs.String(), "leaked-pw") {
				t.Errorf("log carries the provider's password:\n%s", logs)
			}
		})
	}
}

func TestConcurrentProviderLookupsRunOnce(t *testing.T) {
	count := filepath.Join(t.TempDir(), "count")
	env := map[string]string{"PROVIDER_USER": "u", "PROVIDER_PASSWORD": "p", "PROVIDER_COUNT_FILE": count, "PROVIDER_SLEEP": "200ms"}
	ps := providerSetup(t, providerConfig(`"r.io"`, "10m", env), nil, 10*time.Second)
	var wg sync.WaitGroup
	for i := range 100 {
		wg.Go(func() {
			if c := ask(ps, "r.io", fmt.Sprintf("r.io/app:%d", i)); c.Username != "u" {
				t.Errorf("got %q", c.Username)
			}
		})
	}
	wg.Wait()
	if n := countLines(t, count); n != 1 {
		t.Fatalf("100 concurrent lookups of one registry ran the provider %d times, want 1", n)
	}
}

func TestKubeletSourceReadsConfigFile(t *testing.T) {
	_, prog := testprog.Build(t)
	binDir := filepath.Dir(prog)
	cfgPath := filepath.Join(t.TempDir(), "providers.yaml")
	cfg := strings.Replace(providerConfig(`"r.io"`, "10m", map[string]string{"PROVIDER_USER": "u", "PROVIDER_PASSWORD": "p"}), "name: provider0", "name: credprovider", 1)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := newSource(cfgPath, binDir, 0).Get(context.Background(), credentials.Request{Host: "r.io", Ref: "r.io/a:1"})
	if err != nil || c.Username != "u" {
		t.Fatalf("got %q, %v", c.Username, err)
	}
}

// FuzzParseKubeletConfig checks that the errors of a kubelet config never
// depend on its env values and args, which may hold secrets: the config the
// fuzzer writes is parsed twice, with every env value and arg replaced by
// one secret and then by another of the same shape, and the two errors
// must be the same.
func FuzzParseKubeletConfig(f *testing.F) {
	f.Add(providerConfig(`"r.io"`, "1m", map[string]string{"A": "b"}), "s3cret")
	f.Add(providerConfig(`"r.io:notaport"`, "1m", map[string]string{"A": "b"}), "AKIA0123")
	f.Add(providerConfig(`"r.io"`, "-1m", map[string]string{"A": "b"})+"  args: [x]\n", "hunter2")
	f.Add("apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n- name: p\n  env:\n  - name: A\n    value: [x]\n", "pw")
	f.Add("providers:\n- env:\n  - value: x\n    valeu: y\n", "token-1")
	f.Add(providerConfig(`"r.io"`, "1m", map[string]string{"A": "b"})+"  tokenAttributes: {serviceAccountTokenAudience: aud, cacheType: Pod, requiredServiceAccountAnnotationKeys: [\"bad key\"]}\n", "s3cret")
	f.Fuzz(func(t *testing.T, text, secret string) {
		var doc any
		if yaml.Unmarshal([]byte(text), &doc) != nil {
			_, _ = ParseConfig([]byte(text)) // must not panic
			return
		}
		other := testprog.ShapeAlike(secret)
		if other == secret {
			return
		}
		errA := parsePlanted(doc, secret)
		errB := parsePlanted(doc, other)
		if fmt.Sprint(errA) != fmt.Sprint(errB) {
			t.Fatalf("errors depend on env values or args:\n%v\n%v", errA, errB)
		}
	})
}

// parsePlanted sets every env value and arg of doc to secret, and parses it.
func parsePlanted(doc any, secret string) error {
	b, err := json.Marshal(doc)
	if err != nil {
		return nil
	}
	var copied any
	_ = json.Unmarshal(b, &copied)
	if m, ok := copied.(map[string]any); ok {
		if providers, ok := m["providers"].([]any); ok {
			for _, p := range providers {
				p, ok := p.(map[string]any)
				if !ok {
					continue
				}
				if env, ok := p["env"].([]any); ok {
					for _, e := range env {
						if e, ok := e.(map[string]any); ok {
							e["value"] = secret
						}
					}
				}
				if args, ok := p["args"].([]any); ok {
					for i := range args {
						args[i] = secret
					}
				}
			}
		}
	}
	planted, err := yaml.Marshal(copied)
	if err != nil {
		return nil
	}
	_, err = ParseConfig(planted)
	return err
}
