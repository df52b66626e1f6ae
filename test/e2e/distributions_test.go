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
	"os"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"testing"
	"text/template"

	"github.com/containerd/containerd/v2/version"

	"github.com/nodecred/nodecred/test/e2e/harness"
)

// distribution is one distribution's containerd config as it ships
// (testdata/distributions, each file naming the repository, path and commit
// it reflects), with the release snippet added the way that distribution
// takes additions.
type distribution struct {
	name string
	// config is the main config.toml's fixture; files are further
	// fixtures, by their path under containerd's directory.
	config string
	files  map[string]string
	// addTo is where the snippet goes, under containerd's directory: ""
	// appends it to config.toml; a path in files appends it there; any
	// other path is a new file in an import directory.
	addTo string
	// setting is what makes CRI pull locally as shipped; "" when CRI
	// pulls through the transfer service.
	setting string
	// version is the config version when above 3: containerd 2.1 and 2.2
	// read up to version 3 (make compat).
	version int
}

var distributions = []distribution{
	{name: "eks-al2023", config: "eks-al2023.toml", setting: "discard_unpacked_layers = true"},
	{name: "bottlerocket", config: "bottlerocket.toml", addTo: "config.d/nodecred.toml"},
	{name: "k3s", config: "k3s.toml", setting: "use_local_image_pull = true"},
	{name: "k3s-v2", config: "k3s-v2.toml"},
	{name: "rke2", config: "rke2.toml", setting: "use_local_image_pull = true"},
	{name: "kind", config: "kind.toml", setting: "discard_unpacked_layers = true"},
	{name: "talos", config: "talos.toml", files: map[string]string{"talos-cri.toml": "cri/conf.d/cri.toml"},
		addTo: "cri/conf.d/cri.toml", setting: "use_local_image_pull = true"},
	{name: "aks", config: "aks.toml"},
	{name: "flatcar", config: "flatcar.toml"},
	{name: "microk8s", config: "microk8s.toml"},
	{name: "minikube", config: "minikube.toml", setting: "discard_unpacked_layers = true"},
	{name: "kubeadm", config: "kubeadm.toml", addTo: "conf.d/nodecred.toml", version: 4},
}

// nodeTemplate points a fixture's root, state, sockets and log level at
// the test's directory; fixtures place it before their first table. A
// version 4 config ("node4") names the sockets in the server plugins'
// sections, where containerd's migration to version 4 moves them.
const nodeTemplate = `{{define "node"}}root = "{{.Dir}}/root"
state = "{{.Dir}}/state"
[grpc]
  address = "{{.Dir}}/c.sock"
[ttrpc]
  address = "{{.Dir}}/c.sock.ttrpc"
[debug]
  level = "debug"
{{end}}{{define "node4"}}root = "{{.Dir}}/root"
state = "{{.Dir}}/state"
[plugins."io.containerd.server.v1.grpc"]
  address = "{{.Dir}}/c.sock"
[plugins."io.containerd.server.v1.ttrpc"]
  address = "{{.Dir}}/c.sock.ttrpc"
[debug]
  level = "debug"
{{end}}`

type fixtureData struct{ Dir, Sandbox, HostsDir, Arch string }

// renderFixture renders a fixture file for a containerd under dir.
func renderFixture(name string, data fixtureData) (string, error) {
	text, err := os.ReadFile(filepath.Join("testdata", "distributions", name))
	if err != nil {
		return "", err
	}
	tmpl, err := template.New(name).Parse(nodeTemplate + string(text))
	if err != nil {
		return "", err
	}
	var b strings.Builder
	err = tmpl.Execute(&b, data)
	return b.String(), err
}

// releaseSnippet is deploy/nodecred-config.toml with its auth file path
// pointed at authFile.
func releaseSnippet(t *testing.T, authFile string) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root, err := harness.RepoRoot(wd)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "deploy", "nodecred-config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	const shipped = `"/etc/containerd/nodecred/auth.json"`
	if !strings.Contains(string(b), shipped) {
		t.Fatalf("deploy/nodecred-config.toml no longer names %s", shipped)
	}
	return strings.ReplaceAll(string(b), shipped, `"`+authFile+`"`)
}

// importFile is the snippet as a file of its own in an import directory,
// as docs/operations.md says to write it: containerd 2.3 and later migrate
// each imported file from its own version and warn about one without a
// version line, so it gets the version this containerd reads; 2.1 and 2.2
// migrate a version-less import silently and must not get one (a version 3
// import into a version 2 config would skip the config's migration).
func importFile(snippet string) string {
	if version.ConfigVersion >= 4 {
		return "version = 4\n" + snippet
	}
	return snippet
}

// Each distribution's config, with the release snippet added its way:
// either the private sandbox image is pulled with node credentials, or CRI
// pulls locally and containerd's log, the plugin's exports and `nodecred
// explain` all name the setting.
func TestDistributionConfigs(t *testing.T) {
	s := newSandboxSetup(t)
	snippet := releaseSnippet(t, s.authFile)
	for _, d := range distributions {
		t.Run(d.name, func(t *testing.T) {
			if d.version > version.ConfigVersion {
				t.Skipf("this containerd reads config versions up to %d", version.ConfigVersion)
			}
			var fail error
			c := startContainerd(t, bins.Containerd, harness.ContainerdConfig{Whole: func(dir string) string {
				config, err := d.write(dir, fixtureData{Dir: dir, Sandbox: s.image, HostsDir: s.hostsDir, Arch: goruntime.GOARCH}, snippet)
				fail = err
				return config
			}})
			if fail != nil {
				t.Fatal(fail)
			}
			log := c.Log()
			if lines := logLines(log, "Configuration migrated from version 0"); len(lines) > 0 {
				t.Errorf("containerd warned about the snippet: %s", lines[0])
			}
			ex := nodecredExports(t, c)
			err := runSandbox(t, c, "fixture-"+d.name)
			if d.setting == "" {
				if ex["cri_pull_mode"] != "transfer" {
					t.Errorf("exports %v, want transfer", ex)
				}
				if !imagePresent(t, c, s.image) {
					t.Fatalf("the sandbox image was not pulled with node credentials; RunPodSandbox: %v", err)
				}
				if lines := logLines(log, criLocalLine); len(lines) > 0 {
					t.Errorf("transfer mode, yet: %s", lines[0])
				}
				return
			}
			if err == nil || !isAuthError(err) || imagePresent(t, c, s.image) {
				t.Errorf("RunPodSandbox: %v; want the pull refused (CRI pulls locally, without nodecred)", err)
			}
			lines := logLines(log, criLocalLine)
			if len(lines) != 1 || !strings.Contains(lines[0], "level=error") || !strings.Contains(lines[0], d.setting) {
				t.Errorf("want one error line naming %s, got %q", d.setting, lines)
			}
			if ex["cri_pull_mode"] != "local" || ex["cri_pull_setting"] != d.setting {
				t.Errorf("exports %v, want local, %s", ex, d.setting)
			}
			out, code := runCLI(t, "explain", "--config", filepath.Join(c.Dir, "config.toml"), s.image)
			first, _, _ := strings.Cut(out, "\n")
			if code != 3 || !strings.Contains(first, "CRI PULLS LOCALLY ("+d.setting+")") {
				t.Errorf("nodecred explain: exit %d, first line %q; want 3 and %s named", code, first, d.setting)
			}
		})
	}
}

// write writes the distribution's files and the snippet under dir and
// returns config.toml's contents.
func (d distribution) write(dir string, data fixtureData, snippet string) (string, error) {
	config, err := renderFixture(d.config, data)
	if err != nil {
		return "", err
	}
	texts := map[string]string{}
	for fixture, path := range d.files {
		if texts[path], err = renderFixture(fixture, data); err != nil {
			return "", err
		}
	}
	switch _, inFiles := texts[d.addTo]; {
	case d.addTo == "":
		config += "\n" + snippet
	case inFiles:
		texts[d.addTo] += "\n" + snippet
	default:
		texts[d.addTo] = importFile(snippet)
	}
	for path, text := range texts {
		p := filepath.Join(dir, path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return "", err
		}
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			return "", err
		}
	}
	return config, nil
}
