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

package config

import (
	"bytes"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/pelletier/go-toml/v2"

	"github.com/nodecred/nodecred/credentials/sourceconfig"
)

// section decodes TOML as containerd hands the plugin its section.
func section(t *testing.T, text string) map[string]any {
	t.Helper()
	raw := map[string]any{}
	if err := toml.NewDecoder(bytes.NewReader([]byte(text))).Decode(&raw); err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestParseConfig(t *testing.T) {
	cfg, err := Parse(section(t, `
namespaces = ["k8s.io"]
push = true
require_cri_transfer_pull = true
[[sources]]
  type = "dockerconfig"
  path = "/etc/containerd/auth.json"
[[sources]]
  type = "static"
  hosts = ["r.io"]
  username = "robot"
  password_file = "/etc/containerd/secrets/r.io"
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Namespaces) != 1 || !cfg.Push || !cfg.RequireCRITransferPull || len(cfg.Sources) != 2 || cfg.Sources[1].PasswordFile != "/etc/containerd/secrets/r.io" {
		t.Fatalf("parsed %+v", cfg)
	}
	if cfg, err := Parse(Default()); err != nil || len(cfg.Sources) != 0 || cfg.RequireCRITransferPull {
		t.Fatalf("default config: %+v, %v", cfg, err)
	}
}

func TestParseConfigErrorsNameTheKey(t *testing.T) {
	tests := []struct{ name, text, want string }{
		{"unknown top-level key", `namespace = ["k8s.io"]`, `unknown key "namespace"`},
		{"unknown source key", "[[sources]]\ntype = \"dockerconfig\"\npath = \"/a\"\n[[sources]]\ntype = \"static\"\npasword = \"hunter2-typo\"", `sources[1]: unknown key "pasword"`},
		{"wrong type", `push = "yes"`, `push`},
		{"wrong type of require_cri_transfer_pull", `require_cri_transfer_pull = "yes"`, `require_cri_transfer_pull`},
		{"misspelt require_cri_transfer_pull", `require_cri_transfer = true`, `unknown key "require_cri_transfer"`},
		{"wrong source field type", "[[sources]]\ntype = \"static\"\nhosts = \"r.io\"", `sources[0]: hosts`},
		{"sources not tables", `sources = ["dockerconfig"]`, `sources[0]: want a table`},
		{"bad namespace", `namespaces = ["k8s.io", "Not Valid!"]`, `namespaces: "Not Valid!" is not a valid containerd namespace`},
		{"hosts on dockerconfig", "[[sources]]\ntype = \"dockerconfig\"\npath = \"/a\"\nhosts = []", `sources[0].hosts: type "dockerconfig" does not take hosts (it takes path, renew, timeout)`},
		{"password on kubelet", "[[sources]]\ntype = \"kubelet\"\nconfig = \"/c\"\nbin_dir = \"/b\"\npassword = \"hunter2-typo\"", `sources[0].password: type "kubelet" does not take password`},
		{"timeout on static", "[[sources]]\ntype = \"static\"\nhosts = [\"r.io\"]\nusername = \"u\"\npassword = \"hunter2-typo\"\ntimeout = \"1s\"", `sources[0].timeout: type "static" does not take timeout`},
		{"empty env on static", "[[sources]]\ntype = \"static\"\nhosts = [\"r.io\"]\nenv = {}", `sources[0].env: only type "helper" takes env`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(section(t, tt.text))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "hunter2-typo") {
				t.Fatalf("error shows the value of an unknown key: %v", err)
			}
			if !errdefs.IsInvalidArgument(err) {
				t.Errorf("%v is not errdefs.ErrInvalidArgument", err)
			}
		})
	}
}

// TestParseConfigErrorTexts holds the texts docs/config.md shows, whole,
// and that each is a field error.
func TestParseConfigErrorTexts(t *testing.T) {
	for _, tt := range []struct{ name, text, want string }{
		{"unknown top-level key", `namespace = ["k8s.io"]`, `unknown key "namespace" (value not shown)`},
		{"unknown source key", "[[sources]]\ntype = \"dockerconfig\"\npath = \"/a\"\n[[sources]]\ntype = \"static\"\npasword_file = \"/p\"", `sources[1]: unknown key "pasword_file" (value not shown)`},
		{"bad namespace", `namespaces = ["k8s.io", "Not Valid!"]`, `namespaces: "Not Valid!" is not a valid containerd namespace`},
		{"wrong type", `push = "yes"`, `push: toml: cannot decode TOML string into struct field config.Config.Push of type bool`},
		{"sources not an array", `sources = "dockerconfig"`, `sources: want an array of tables ([[...sources]]), got string`},
		{"source not a table", `sources = ["dockerconfig"]`, `sources[0]: want a table, got string`},
		{"wrong source field type", "[[sources]]\ntype = \"static\"\nhosts = \"r.io\"", `sources[0]: hosts: toml: cannot decode TOML string into struct field sourceconfig.Config.Hosts of type []string`},
		{"key the type does not take", "[[sources]]\ntype = \"dockerconfig\"\npath = \"/a\"\nhosts = []", `sources[0].hosts: type "dockerconfig" does not take hosts (it takes path, renew, timeout)`},
		{"renew on static", "[[sources]]\ntype = \"static\"\nhosts = [\"r.io\"]\nrenew = true", `sources[0].renew: type "static" runs no program to renew`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(section(t, tt.text))
			if err == nil || err.Error() != tt.want {
				t.Fatalf("err = %v, want %s", err, tt.want)
			}
			if !errdefs.IsInvalidArgument(err) {
				t.Errorf("%v is not errdefs.ErrInvalidArgument", err)
			}
		})
	}
}

// TestKeyOfField: older go-toml leaves a decode error's key empty; the key
// is then found from the field its message names.
func TestKeyOfField(t *testing.T) {
	for _, tt := range []struct {
		out  any
		msg  string
		want string
	}{
		{&Config{}, "toml: cannot decode TOML string into struct field config.Config.Push of type bool", "push"},
		{&sourceconfig.Config{}, "toml: cannot decode TOML string into struct field sourceconfig.Config.PasswordFile of type string", "password_file"},
		{&Config{}, "toml: something else", "?"},
	} {
		if got := keyOfField(tt.out, tt.msg); got != tt.want {
			t.Errorf("keyOfField(%q) = %q, want %q", tt.msg, got, tt.want)
		}
	}
}
