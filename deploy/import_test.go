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
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	srvconfig "github.com/containerd/containerd/v2/cmd/containerd/server/config"
	"github.com/containerd/containerd/v2/version"
	"github.com/containerd/log"
	"github.com/sirupsen/logrus"
	"github.com/sirupsen/logrus/hooks/test"

	"github.com/nodecred/nodecred/nodeconfig"
)

// importForm is the snippet as docs/operations.md has it written into an
// import directory: containerd 2.3 and later (config version 4) migrate
// each imported file from its own version and warn about one without a
// version line; 2.1 and 2.2 migrate a version-less import silently.
func importForm(snippet []byte) string {
	if version.ConfigVersion >= 4 {
		return "version = 4\n" + string(snippet)
	}
	return string(snippet)
}

// The release snippet dropped into a version 2, 3 or 4 config's import
// directory is read, and containerd loads it without a migration warning.
func TestSnippetInImportDirectory(t *testing.T) {
	snippet, err := os.ReadFile("nodecred-config.toml")
	if err != nil {
		t.Fatal(err)
	}
	for _, nc := range nodeConfigs {
		if nc.version > version.ConfigVersion {
			continue
		}
		dir := t.TempDir()
		confd := filepath.Join(dir, "conf.d")
		if err := os.Mkdir(confd, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(confd, "nodecred.toml"), []byte(importForm(snippet)), 0o600); err != nil {
			t.Fatal(err)
		}
		versionLine, rest, _ := strings.Cut(nc.text, "\n")
		main := filepath.Join(dir, "config.toml")
		text := versionLine + "\nimports = [\"" + filepath.Join(confd, "*.toml") + "\"]\n" + rest
		if err := os.WriteFile(main, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}

		// As containerd's command loads it: into its default config, of
		// the version it reads.
		logger, hook := test.NewNullLogger()
		ctx := log.WithLogger(context.Background(), logrus.NewEntry(logger))
		c := srvconfig.Config{Version: version.ConfigVersion}
		if err := srvconfig.LoadConfig(ctx, main, &c); err != nil {
			t.Fatalf("version %d: %v", nc.version, err)
		}
		for _, e := range hook.AllEntries() {
			if e.Level <= logrus.WarnLevel && strings.Contains(e.Message, "from version 0") {
				t.Errorf("version %d config: containerd warns about the imported snippet: %s", nc.version, e.Message)
			}
		}
		node, err := nodeconfig.LoadContainerd(context.Background(), main)
		if err != nil {
			t.Fatalf("version %d: %v", nc.version, err)
		}
		if len(node.Credentials.Sources) != 1 || node.Credentials.Sources[0].Path != "/etc/containerd/nodecred/auth.json" {
			t.Errorf("version %d config: the imported section reads %+v", nc.version, node.Credentials)
		}
	}
}

// Without its version line, containerd 2.3 and later warn about the
// imported snippet: the check above can fail.
func TestImportWithoutVersionLineWarns(t *testing.T) {
	if version.ConfigVersion < 4 {
		t.Skip("containerd 2.1 and 2.2 migrate a version-less import silently")
	}
	snippet, err := os.ReadFile("nodecred-config.toml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	imp := filepath.Join(dir, "nodecred.toml")
	if err := os.WriteFile(imp, snippet, 0o600); err != nil {
		t.Fatal(err)
	}
	main := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(main, []byte("version = 4\nimports = [\""+imp+"\"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	logger, hook := test.NewNullLogger()
	ctx := log.WithLogger(context.Background(), logrus.NewEntry(logger))
	c := srvconfig.Config{Version: version.ConfigVersion}
	if err := srvconfig.LoadConfig(ctx, main, &c); err != nil {
		t.Fatal(err)
	}
	warned := false
	for _, e := range hook.AllEntries() {
		warned = warned || strings.Contains(e.Message, "from version 0")
	}
	if !warned {
		t.Error("containerd did not warn about a version-less import")
	}
}
