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

package e2e

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nodecred/nodecred/test/e2e/harness"
)

func TestConfigMistakesStopContainerd(t *testing.T) {
	tests := []struct {
		name, top, source, want string
	}{
		{"unknown top-level key", "namespace = [\"k8s.io\"]\n", dockerconfigSource("/etc/containerd/auth.json"), `unknown key \"namespace\"`},
		{"unknown type", "", `type = "vault"`, `sources[0].type: unknown source type \"vault\"`},
		{"missing path", "", `type = "dockerconfig"`, `sources[0].path: required`},
		{"relative path", "", "type = \"dockerconfig\"\npath = \"auth.json\"", `sources[0].path: \"auth.json\" is not an absolute path`},
		{"static without username", "", "type = \"static\"\nhosts = [\"r.io\"]\npassword_file = \"/pw\"", `sources[0].username: required`},
		{"unknown source key", "", "type = \"static\"\nhosts = [\"r.io\"]\nusername = \"u\"\npasword_file = \"/pw\"", `sources[0]: unknown key \"pasword_file\"`},
		{"bad duration", "", "type = \"helper\"\nhelper = \"/bin/true\"\ntimeout = \"10 seconds\"", `sources[0].timeout: \"10 seconds\" is not a positive duration`},
		{"helper not found", "", "type = \"helper\"\nhelper = \"no-such-helper\"", `docker-credential-no-such-helper not found in PATH`},
		{"kubelet relative bin_dir", "", "type = \"kubelet\"\nconfig = \"/etc/cp.yaml\"\nbin_dir = \"bin\"", `sources[0].bin_dir: \"bin\" is not an absolute path`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, err := os.MkdirTemp("", "nc")
			if err != nil {
				t.Fatal(err)
			}
			defer os.RemoveAll(dir)
			out, err := harness.RunContainerd(context.Background(), bins.Containerd, dir, harness.ContainerdConfig{
				Nodecred: nodecredSection(tt.top, tt.source),
			}, 60*time.Second)
			if err == nil {
				t.Fatalf("containerd exited cleanly with a bad config")
			}
			if strings.Contains(out, "containerd successfully booted") {
				t.Fatalf("containerd booted with a bad config")
			}
			if !strings.Contains(out, tt.want) {
				t.Fatalf("containerd output does not name the mistake %s:\n%s", tt.want, out)
			}
		})
	}
}
