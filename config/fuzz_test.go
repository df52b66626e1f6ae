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
	"fmt"
	"strings"
	"testing"

	"github.com/nodecred/nodecred/credentials/sourceconfig"
	"github.com/nodecred/nodecred/internal/testprog"
	"github.com/pelletier/go-toml/v2"
)

// FuzzConfigSection holds "no secret value in any error" for the nodecred
// section, from its TOML text through Parse and sourceconfig.Build, as
// containerd's start runs them. The fuzzer writes the section; every value
// that may be a secret — a source's password, its env values, and the value
// of any key nodecred does not know (a misspelled password key) — is then
// set to one secret, and the section checked again with another secret of
// the same length and shape. The two errors must be the same: an error
// that showed the value would differ.
func FuzzConfigSection(f *testing.F) {
	seeds := []string{
		"namespaces = [\"k8s.io\"]\n[[sources]]\ntype = \"static\"\nhosts = [\"r.io\"]\nusername = \"u\"\npassword = \"x\"\n",
		"[[sources]]\ntype = \"static\"\nhosts = [\"r.io\"]\nusername = \"u\"\npasword = \"x\"\n",
		"pasword = \"x\"\n",
		"[[sources]]\ntype = \"static\"\nhosts = [\"r.io:notaport\"]\nusername = \"u\"\npassword = \"x\"\n",
		"[[sources]]\ntype = \"static\"\nhosts = [\"r.io\"]\nusername = \"u\"\npassword = \"x\"\npassword_file = \"/pw\"\n",
		"[[sources]]\ntype = \"dockerconfig\"\npath = \"/etc/containerd/auth.json\"\npassword = \"x\"\n",
		"[[sources]]\ntype = \"helper\"\nhelper = \"/bin/sh\"\nenv = { AWS_SECRET_ACCESS_KEY = \"x\", \"A=B\" = \"y\" }\n",
		"[[sources]]\ntype = \"helper\"\nhelper = \"/bin/sh\"\nenv = { A = \"x\" }\ntimeout = \"876000h\"\n",
		"[[sources]]\ntype = \"kubelet\"\nconfig = \"/c.yaml\"\nbin_dir = \"/bin\"\nenv = { A = \"x\" }\n",
		"[[sources]]\ntype = \"static\"\nhosts = [\"r.io\"]\nusername = \"u\"\npassword = 5\n",
		"[[sources]]\ntype = \"vault\"\ntoken = \"x\"\n",
		"sources = [\"x\"]\n",
	}
	for _, s := range seeds {
		f.Add(s, "s3cr3t-Value")
	}
	f.Add(seeds[0], "")
	f.Add(seeds[6], "a\x00b")
	f.Fuzz(func(t *testing.T, text, secret string) {
		raw := map[string]any{}
		if err := toml.NewDecoder(bytes.NewReader([]byte(text))).Decode(&raw); err != nil {
			return
		}
		other := testprog.ShapeAlike(secret)
		if other == secret {
			return
		}
		errA, errB := check(plant(raw, secret)), check(plant(raw, other))
		if fmt.Sprint(errA) != fmt.Sprint(errB) {
			t.Fatalf("an error shows a secret value:\n%v\n%v", errA, errB)
		}
	})
}

// check runs what the plugin runs at containerd's start.
func check(raw map[string]any) error {
	cfg, err := Parse(raw)
	if err != nil {
		return err
	}
	_, err = sourceconfig.Build(cfg.Sources)
	return err
}

// plant returns a copy of the section with every value that may be a secret
// set to secret.
func plant(raw map[string]any, secret string) map[string]any {
	out := map[string]any{}
	for k, v := range raw {
		switch k {
		case "namespaces", "push", "require_cri_transfer_pull":
			out[k] = v
		case "sources":
			list, ok := v.([]any)
			if !ok {
				out[k] = v
				continue
			}
			planted := make([]any, len(list))
			for i, item := range list {
				planted[i] = item
				if m, ok := item.(map[string]any); ok {
					planted[i] = plantSource(m, secret)
				}
			}
			out[k] = planted
		default:
			out[k] = secret // an unknown key
		}
	}
	return out
}

func plantSource(m map[string]any, secret string) map[string]any {
	known := map[string]bool{}
	for _, key := range []string{"type", "path", "helper", "hosts", "env", "renew", "timeout", "config", "bin_dir", "username", "password_file", "password"} {
		known[key] = true
	}
	out := map[string]any{}
	for k, v := range m {
		// go-toml matches keys to fields whatever their case ("tYpe" is
		// type), so a key is known, or the password, in any case.
		switch lower := strings.ToLower(k); {
		case lower == "password" || !known[lower]:
			out[k] = secret
		case lower == "env":
			env, ok := v.(map[string]any)
			if !ok {
				out[k] = v
				continue
			}
			planted := map[string]any{}
			for name := range env {
				planted[name] = secret
			}
			out[k] = planted
		default:
			out[k] = v
		}
	}
	return out
}

// TestConfigSectionFuzzCanFail: the property FuzzConfigSection checks
// catches an error that shows a secret.
func TestConfigSectionFuzzCanFail(t *testing.T) {
	leaky := func(raw map[string]any) error {
		if err := check(raw); err != nil {
			return err
		}
		return fmt.Errorf("password %v", raw["sources"].([]any)[0].(map[string]any)["password"])
	}
	raw := map[string]any{"sources": []any{map[string]any{"type": "vault", "password": "x"}}}
	if fmt.Sprint(check(plant(raw, "s3cr3t"))) != fmt.Sprint(check(plant(raw, testprog.ShapeAlike("s3cr3t")))) {
		t.Fatal("the real check differs")
	}
	raw = map[string]any{"sources": []any{map[string]any{"type": "static", "hosts": []any{"r.io"}, "username": "u", "password": "x"}}}
	if fmt.Sprint(leaky(plant(raw, "s3cr3t"))) == fmt.Sprint(leaky(plant(raw, testprog.ShapeAlike("s3cr3t")))) {
		t.Fatal("an error showing the password passes the check")
	}
}
