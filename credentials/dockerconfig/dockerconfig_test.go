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

package dockerconfig

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nodecred/nodecred/credentials"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestDockerConfigLookup(t *testing.T) {
	cfg := `{
	  "auths": {
	    "https://index.docker.io/v1/": {"auth": "` + b64("hubuser:hubpass") + `"},
	    "registry.example.com": {"username": "robot", "password": "robotpass"},
	    "token.example.com": {"auth": "` + b64("<token>:") + `", "identitytoken": "refresh-token"},
	    "quay.io": {"auth": "` + b64("quayuser:quaypass") + `"},
	    "quay.io/team": {"auth": "` + b64("teamuser:teampass") + `"},
	    "quay.io/team/app": {"auth": "` + b64("appuser:apppass") + `"},
	    "http://plain.example.com:5000/": {"auth": "` + b64("u:p:with:colons") + `"},
	    "empty.example.com": {}
	  },
	  "credHelpers": {"gcr.io": "gcloud"}
	}`
	dc, err := Parse([]byte(cfg))
	if err != nil {
		t.Fatal(err)
	}
	if got := dc.helperFor("gcr.io"); got != "gcloud" {
		t.Errorf("helperFor(gcr.io) = %q, want gcloud", got)
	}
	tests := []struct {
		host, path         string
		user, pass, itoken string
	}{
		{"registry-1.docker.io", "library/pause", "hubuser", "hubpass", ""},
		{"docker.io", "library/pause", "hubuser", "hubpass", ""},
		{"index.docker.io", "library/pause", "hubuser", "hubpass", ""},
		{"registry.example.com", "app", "robot", "robotpass", ""},
		{"REGISTRY.example.com", "app", "robot", "robotpass", ""},
		{"registry.example.com:443", "app", "", "", ""},
		{"token.example.com", "app", "<token>", "", "refresh-token"},
		{"quay.io", "other/app", "quayuser", "quaypass", ""},
		{"quay.io", "team/web", "teamuser", "teampass", ""},
		{"quay.io", "team/app", "appuser", "apppass", ""},
		{"quay.io", "team/app2", "teamuser", "teampass", ""},
		{"quay.io", "teamx/app", "quayuser", "quaypass", ""},
		{"plain.example.com:5000", "x", "u", "p:with:colons", ""},
		{"empty.example.com", "x", "", "", ""},
		{"unknown.example.com", "x", "", "", ""},
	}
	for _, tt := range tests {
		c := dc.Lookup(tt.host, tt.path)
		if c.Username != tt.user || c.Password.Reveal() != tt.pass || c.IdentityToken.Reveal() != tt.itoken {
			t.Errorf("Lookup(%q, %q) = %q/%q/%q, want %q/%q/%q", tt.host, tt.path,
				c.Username, c.Password.Reveal(), c.IdentityToken.Reveal(), tt.user, tt.pass, tt.itoken)
		}
	}
}

func TestDockerConfigHelperFor(t *testing.T) {
	tests := []struct {
		name, cfg, host, want string
	}{
		{"none", `{"auths": {"r.io": {"auth": "` + b64("u:p") + `"}}}`, "r.io", ""},
		{"credHelpers", `{"credHelpers": {"r.io": "ecr-login"}}`, "r.io", "ecr-login"},
		{"credHelpers other host", `{"credHelpers": {"r.io": "ecr-login"}}`, "s.io", ""},
		{"credHelpers upper-case host", `{"credHelpers": {"r.io": "ecr-login"}}`, "R.IO", "ecr-login"},
		{"credHelpers URL key", `{"credHelpers": {"https://r.io/v2/": "ecr-login"}}`, "r.io", "ecr-login"},
		{"credHelpers path key ignored", `{"credHelpers": {"r.io/team": "ecr-login"}}`, "r.io", ""},
		{"credsStore ahead of auths", `{"auths": {"r.io": {"auth": "` + b64("u:p") + `"}}, "credsStore": "pass"}`, "r.io", "pass"},
		{"credsStore every host", `{"credsStore": "pass"}`, "s.io:5000", "pass"},
		{"credHelpers ahead of credsStore", `{"credHelpers": {"r.io": "ecr-login"}, "credsStore": "pass"}`, "r.io", "ecr-login"},
		{"empty credHelpers entry: auths", `{"credHelpers": {"r.io": ""}, "credsStore": "pass"}`, "r.io", ""},
		{"Docker Hub by URL", `{"credHelpers": {"https://index.docker.io/v1/": "hub"}}`, "registry-1.docker.io", "hub"},
		{"Docker Hub by name", `{"credHelpers": {"docker.io": "hub"}}`, "index.docker.io", "hub"},
		{"Docker Hub: docker's key wins", `{"credHelpers": {"docker.io": "podman", "https://index.docker.io/v1/": "docker"}}`, "registry-1.docker.io", "docker"},
		{"host key wins over URL key", `{"credHelpers": {"https://r.io": "url", "r.io": "host"}}`, "r.io", "host"},
	}
	for _, tt := range tests {
		dc, err := Parse([]byte(tt.cfg))
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := dc.helperFor(tt.host); got != tt.want {
			t.Errorf("%s: helperFor(%q) = %q, want %q", tt.name, tt.host, got, tt.want)
		}
	}
}

func TestDockerHubAliasesAllServeDockerHub(t *testing.T) {
	for _, key := range []string{"docker.io", "index.docker.io", "registry-1.docker.io", "https://index.docker.io/v1/"} {
		dc, err := Parse([]byte(`{"auths": {"` + key + `": {"auth": "` + b64("u:p") + `"}}}`))
		if err != nil {
			t.Fatal(err)
		}
		if c := dc.Lookup("registry-1.docker.io", "library/pause"); c.Username != "u" || c.Password.Reveal() != "p" {
			t.Errorf("key %q: registry-1.docker.io got %q", key, c.Username)
		}
	}
}

func TestDockerConfigErrorsCarryNoSecret(t *testing.T) {
	const secret = "s3cr3t-value"
	token := "ghp_" + "Zq8vK2mX9pL4rT7wY1nB6cH3jF5dS0aGeUiO" // a token pasted as a key
	tests := []struct{ name, cfg, want string }{
		{"bad base64", `{"auths": {"r.io": {"auth": "` + secret + `!!"}}}`, `auths["r.io"].auth: not valid base64 (value not shown)`},
		{"no colon", `{"auths": {"r.io": {"auth": "` + b64(secret) + `"}}}`, `auths["r.io"].auth: decoded value is not user:password (value not shown)`},
		{"syntax", `{"auths": {"r.io": {"password": "` + secret + `"`, "invalid docker config: malformed JSON"},
		{"syntax at a byte", `{"auths": {"r.io": {"password": "` + secret + `" "` + secret + `"}}}`, "invalid docker config: syntax error at byte 48"},
		{"wrong type", `{"auths": {"r.io": {"password": 12345}}}`, `invalid docker config: auths[…].password: wrong type number at byte 37`},
		{"wrong type under a secret key", `{"auths": {"` + secret + `.io": {"password": 12345}}}`, `auths[…].password: wrong type number`},
		{"entry not an object", `{"auths": {"` + secret + `": "` + secret + `"}}`, `invalid docker config: auths: wrong type string at byte 41`},
		{"not an object", `["` + secret + `"]`, "invalid docker config"},
		{"empty", " \n", "the file is empty"},
		{"bad url key", `{"auths": {"https://` + "\x7f" + secret + `": {"auth": "` + b64("u:"+secret) + `"}}}`, `auths: a key is not a registry host or URL (key not shown)`},
		{"bad credHelpers key", `{"credHelpers": {"/` + secret + `": "pass"}}`, `credHelpers: a key has no host (key not shown)`},
		{"bad credHelpers name", `{"credHelpers": {"r.io": "../` + secret + `"}}`, `credHelpers["r.io"]: not a credential helper name: want NAME of docker-credential-NAME`},
		{"bad credsStore", `{"credsStore": "/bin/` + secret + `"}`, `credsStore: not a credential helper name`},
		{"token as a key", `{"auths": {"` + token + `": {"auth": "` + secret + `"}}}`, `auths["<redacted>"].auth: not valid base64`},
	}
	for _, tt := range tests {
		_, err := Parse([]byte(tt.cfg))
		if err == nil {
			t.Errorf("%s: no error", tt.name)
			continue
		}
		if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), b64(secret)) || strings.Contains(err.Error(), token) {
			t.Errorf("%s: error carries the secret: %v", tt.name, err)
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %q does not contain %q", tt.name, err, tt.want)
		}
	}
}

func TestDockerConfigSourceReadsFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.json")
	src := New(path, 0)
	req := credentials.Request{Host: "r.example.com", Ref: "r.example.com/app:1"}
	if c, err := src.Get(context.Background(), req); err != nil || !c.IsZero() {
		t.Fatalf("missing file: got %v, %v; want not found", c.Username, err)
	}
	if err := os.WriteFile(path, []byte(`{"auths": {"r.example.com": {"auth": "`+b64("u:p")+`"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := src.Get(context.Background(), req)
	if err != nil || c.Username != "u" || c.Password.Reveal() != "p" {
		t.Fatalf("got %q, %v; want u/p", c.Username, err)
	}
}

// FuzzParseDockerConfig checks that a parse keeps only entries it can
// serve, and that its errors quote no value of the file: a string value
// holding the marker SECRET never shows in an error, unless a key (which
// errors may name) holds it too.
func FuzzParseDockerConfig(f *testing.F) {
	f.Add([]byte(`{"auths": {"https://index.docker.io/v1/": {"auth": "dTpw"}}}`))
	f.Add([]byte(`{"auths": {"quay.io/team": {"username": "u", "password": "p", "identitytoken": "t"}}, "credsStore": "pass"}`))
	f.Add([]byte(`{"auths": {"": {}}}`))
	f.Add([]byte(`not json`))
	f.Add([]byte(`{"auths": {"r.io": {"auth": "SECRET!!"}}}`))
	f.Add([]byte(`{"auths": {"r.io": {"auth": "U0VDUkVUMQ=="}}}`))
	f.Add([]byte(`{"auths": {"r.io": {"password": ["SECRET"]}}}`))
	f.Add([]byte(`{"credHelpers": {"r.io": "../SECRET"}, "credsStore": "SECRET/x"}`))
	f.Add([]byte(`{"auths": {"https://SECRET\u007f": {"auth": "dTpw"}}}`))
	f.Add([]byte(`{"auths": {"r.io": {"identitytoken": "SECRET"}}, "x": "SECRET"`))
	f.Fuzz(func(t *testing.T, data []byte) {
		dc, err := Parse(data)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error: %q", err)
			}
			if strings.Contains(err.Error(), "SECRET") && !keyHolds(data, "SECRET") {
				t.Fatalf("error quotes a value: %v", err)
			}
			return
		}
		for host, auths := range dc.hosts {
			for _, a := range auths {
				if a.cred.IsZero() {
					t.Fatalf("empty credential kept for %q", host)
				}
				got := dc.Lookup(host, a.path)
				if got.IsZero() {
					t.Fatalf("entry for %q/%q not found by Lookup", host, a.path)
				}
			}
		}
	})
}

// keyHolds reports whether an object key anywhere in the JSON document
// holds s; a document that does not decode has no keys.
func keyHolds(data []byte, s string) bool {
	var doc any
	if json.Unmarshal(data, &doc) != nil {
		return false
	}
	var walk func(v any) bool
	walk = func(v any) bool {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				if strings.Contains(k, s) || walk(e) {
					return true
				}
			}
		case []any:
			for _, e := range v {
				if walk(e) {
					return true
				}
			}
		}
		return false
	}
	return walk(doc)
}
