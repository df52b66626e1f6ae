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

package deploy

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nodecred/nodecred/credentials/sourceconfig"
)

// The config snippet `make dist` ships, appended to a node's config.toml of
// any version, gives a nodecred section that builds on a node where the auth
// file does not exist yet.
func TestReleaseConfigSnippet(t *testing.T) {
	for _, node := range appendToNodeConfigs(t, "nodecred-config.toml") {
		if len(node.Credentials.Sources) != 1 || node.Credentials.Sources[0].Type != sourceconfig.TypeDockerConfig {
			t.Fatalf("sources = %+v, want one dockerconfig source", node.Credentials.Sources)
		}
		if _, err := sourceconfig.Build(node.Credentials.Sources); err != nil {
			t.Fatalf("the snippet's sources do not build: %v", err)
		}
	}
}

// The systemd drop-in clears the package's ExecStart and starts the
// release's containerd from the path docs/operations.md installs it to.
func TestSystemdDropIn(t *testing.T) {
	f, err := os.Open(filepath.Join("systemd", "nodecred.conf"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var section string
	var execStart []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "["):
			section = line
		case section == "[Service]" && strings.HasPrefix(line, "ExecStart="):
			execStart = append(execStart, strings.TrimPrefix(line, "ExecStart="))
		case section != "[Service]":
			t.Errorf("%q outside [Service]", line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(execStart) != 2 || execStart[0] != "" || execStart[1] != "/opt/nodecred/current/bin/containerd" {
		t.Fatalf("ExecStart lines = %q, want the package's cleared and then /opt/nodecred/current/bin/containerd", execStart)
	}
	doc, err := os.ReadFile(filepath.Join("..", "docs", "operations.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), "/opt/nodecred/current") {
		t.Error("docs/operations.md does not install the release where the drop-in starts it")
	}
}
