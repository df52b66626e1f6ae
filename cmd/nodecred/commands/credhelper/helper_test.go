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

package credhelper

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	dockercreds "github.com/docker/cli/cli/config/credentials"
	dhcredentials "github.com/docker/docker-credential-helpers/credentials"
	"github.com/urfave/cli/v3"

	"github.com/nodecred/nodecred/cmd/nodecred/commands"
	"github.com/nodecred/nodecred/internal/testprog"
)

// helperFixture is a containerd config whose nodecred section has a docker
// config source and a static password-file source, and the secrets they
// hold.
type helperFixture struct {
	config  string
	secrets []string // every form of every secret in the fixture
}

const (
	hubToken    = "hub-token-7f3a9c"
	regPassword = "reg-pw-51d0e2"
	teamPW      = "team-pw-c4b8a1"
	staticPW    = "static-pw-93e6f7"
	inlinePW    = "inline-pw-0a2b4c"
)

func newHelperFixture(t *testing.T) helperFixture {
	t.Helper()
	dir := t.TempDir()
	auth := fmt.Sprintf(`{"auths": {
  "https://index.docker.io/v1/": {"identitytoken": %q},
  "https://Reg.Example.com:5000/v1/": {"auth": %q},
  "quay.io/team": {"auth": %q},
  "gone.example.com": {"username": "", "password": ""}
}}`, hubToken, b64("alice:"+regPassword), b64("bob:"+teamPW))
	writeTestFile(t, filepath.Join(dir, "auth.json"), auth)
	writeTestFile(t, filepath.Join(dir, "pw"), staticPW+"\n")
	section := fmt.Sprintf(`[plugins."io.containerd.credentials.v1.nodecred"]
  namespaces = ["k8s.io"]
  [[plugins."io.containerd.credentials.v1.nodecred".sources]]
    type = "dockerconfig"
    path = %q
  [[plugins."io.containerd.credentials.v1.nodecred".sources]]
    type = "static"
    hosts = ["registry.example.com", "*.team.example.com", "ghcr.io/org", "https://reg.example.com:5000"]
    username = "robot"
    password_file = %q
`, filepath.Join(dir, "auth.json"), filepath.Join(dir, "pw"))
	f := helperFixture{config: testprog.ContainerdConfig(t, t.TempDir(), section)}
	for _, s := range [][2]string{{"", hubToken}, {"alice", regPassword}, {"bob", teamPW}, {"robot", staticPW}, {"robot", inlinePW}} {
		f.secrets = append(f.secrets, secretForms(s[0], s[1])...)
	}
	return f
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func writeTestFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// secretForms returns a secret, and its base64 forms alone and with user.
func secretForms(user, secret string) []string {
	forms := []string{secret}
	for _, v := range []string{secret, user + ":" + secret} {
		forms = append(forms, base64.StdEncoding.EncodeToString([]byte(v)), base64.RawStdEncoding.EncodeToString([]byte(v)))
	}
	return forms
}

// runHelper runs one action at trace level and returns its exit code and
// output.
func runHelper(t *testing.T, config, action, stdin string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = serveHelper(context.Background(), helperOptions{configPath: config, logLevel: "trace"}, action, strings.NewReader(stdin), &out, &errOut)
	t.Cleanup(func() { _ = os.Unsetenv(envRunning) })
	return code, out.String(), errOut.String()
}

func assertNoSecret(t *testing.T, what, text string, secrets []string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(text, s) {
			t.Errorf("%s carries a secret form (%d bytes):\n%s", what, len(s), strings.ReplaceAll(text, s, "<LEAK>"))
		}
	}
}

func TestCredentialHelperGet(t *testing.T) {
	f := newHelperFixture(t)
	tests := []struct {
		serverURL      string
		user, secret   string // "" user and secret: a miss
		wantServerEcho string
	}{
		// Docker Hub's names are one host, whatever a client sends.
		{serverURL: "https://index.docker.io/v1/", user: "<token>", secret: hubToken},
		{serverURL: "docker.io", user: "<token>", secret: hubToken},
		{serverURL: "index.docker.io", user: "<token>", secret: hubToken},
		{serverURL: "registry-1.docker.io", user: "<token>", secret: hubToken},
		// A docker config's URL key names its host with its port; a
		// client's URL is reduced to its host as docker does.
		{serverURL: "reg.example.com:5000", user: "alice", secret: regPassword},
		{serverURL: "https://reg.example.com:5000/v2/", user: "alice", secret: regPassword},
		{serverURL: "REG.EXAMPLE.COM:5000", user: "alice", secret: regPassword},
		{serverURL: "reg.example.com"}, // another port is another host
		// The static source, exact and by glob.
		{serverURL: "registry.example.com", user: "robot", secret: staticPW},
		{serverURL: "http://registry.example.com/", user: "robot", secret: staticPW},
		{serverURL: "a.team.example.com", user: "robot", secret: staticPW},
		{serverURL: "a.b.team.example.com"},
		// Entries scoped to a repository path: the protocol names only hosts.
		{serverURL: "quay.io"},
		{serverURL: "quay.io/team"},
		{serverURL: "ghcr.io"},
		{serverURL: "gone.example.com"},
		{serverURL: "unknown.example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.serverURL, func(t *testing.T) {
			code, out, errOut := runHelper(t, f.config, "get", tt.serverURL+"\n")
			if tt.user == "" {
				assertNoSecret(t, "stdout", out, f.secrets)
				if code != 1 || out != "credentials not found in native keychain\n" {
					t.Fatalf("get %s: exit %d, stdout %q; want exit 1 and the protocol's not-found message", tt.serverURL, code, out)
				}
			} else {
				var c dhcredentials.Credentials
				if err := json.Unmarshal([]byte(out), &c); err != nil || code != 0 {
					t.Fatalf("get %s: exit %d, %v", tt.serverURL, code, err)
				}
				if c.ServerURL != tt.serverURL || c.Username != tt.user || c.Secret != tt.secret {
					t.Fatalf("get %s: server %q user %q, secret matches: %v; want user %q", tt.serverURL, c.ServerURL, c.Username, c.Secret == tt.secret, tt.user)
				}
			}
			assertNoSecret(t, "stderr", errOut, f.secrets)
			if !strings.Contains(errOut, "credential helper lookup") {
				t.Errorf("no debug line at trace level; stderr:\n%s", errOut)
			}
		})
	}
}

func TestCredentialHelperList(t *testing.T) {
	f := newHelperFixture(t)
	code, out, errOut := runHelper(t, f.config, "list", "")
	if code != 0 {
		t.Fatalf("list: exit %d: %s", code, out)
	}
	assertNoSecret(t, "list stdout", out, f.secrets)
	assertNoSecret(t, "list stderr", errOut, f.secrets)
	var got map[string]string
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("list: %v: %s", err, out)
	}
	// The static source's https://reg.example.com:5000 is listed with the
	// docker config's user: the chain answers from its first source. Globs,
	// repository paths and the empty gone.example.com entry are not listed.
	want := map[string]string{
		"https://index.docker.io/v1/": "<token>",
		"reg.example.com:5000":        "alice",
		"registry.example.com":        "robot",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("list = %v, want %v", got, want)
	}
	// Every listed host is one get answers.
	for server := range got {
		if code, _, _ := runHelper(t, f.config, "get", server); code != 0 {
			t.Errorf("list gives %s, get misses it", server)
		}
	}
}

// TestCredentialHelperPrintsNoSecret runs every error path at trace level
// with secrets in the config, the files and the request, and checks that
// no output carries one.
func TestCredentialHelperPrintsNoSecret(t *testing.T) {
	f := newHelperFixture(t)
	dir := t.TempDir()
	badJSON := testprog.ContainerdConfig(t, t.TempDir(), fmt.Sprintf(`[plugins."io.containerd.credentials.v1.nodecred"]
  [[plugins."io.containerd.credentials.v1.nodecred".sources]]
    type = "dockerconfig"
    path = %q
`, filepath.Join(dir, "bad.json")))
	writeTestFile(t, filepath.Join(dir, "bad.json"), `{"auths": {"registry.example.com": {"auth": "`+b64("robot:"+staticPW)+`", "password": `+staticPW+`}}}`)
	both := testprog.ContainerdConfig(t, t.TempDir(), fmt.Sprintf(`[plugins."io.containerd.credentials.v1.nodecred"]
  [[plugins."io.containerd.credentials.v1.nodecred".sources]]
    type = "static"
    hosts = ["registry.example.com"]
    username = "robot"
    password = %q
    password_file = "/etc/pw"
`, inlinePW))
	unknownKey := testprog.ContainerdConfig(t, t.TempDir(), fmt.Sprintf(`[plugins."io.containerd.credentials.v1.nodecred"]
  [[plugins."io.containerd.credentials.v1.nodecred".sources]]
    type = "static"
    hosts = ["registry.example.com"]
    username = "robot"
    password = %q
    passwd = %q
`, inlinePW, inlinePW))
	badHost := testprog.ContainerdConfig(t, t.TempDir(), fmt.Sprintf(`[plugins."io.containerd.credentials.v1.nodecred"]
  [[plugins."io.containerd.credentials.v1.nodecred".sources]]
    type = "static"
    hosts = ["bad host"]
    username = "robot"
    password = %q
`, inlinePW))
	storeReq := fmt.Sprintf(`{"ServerURL": "registry.example.com", "Username": "robot", "Secret": %q}`, staticPW)

	tests := []struct {
		name, config, action, stdin string
		code                        int
		stdout                      string // a part of stdout
	}{
		{"store", f.config, "store", storeReq, 1, "store and erase are refused"},
		{"store malformed", f.config, "store", `{"Secret": "` + staticPW + "\x01\"", 1, "store and erase are refused"},
		{"erase", f.config, "erase", "registry.example.com\n", 1, "store and erase are refused"},
		{"unknown action", f.config, "gett", staticPW, 1, "unknown action: gett"},
		{"empty server URL", f.config, "get", "\n", 1, "no credentials server URL"},
		{"glob server URL", f.config, "get", "*.team.example.com", 1, `server URL "*.team.example.com" names no registry host`},
		{"bad server URL", f.config, "get", "https://", 1, "names no registry host"},
		{"missing config", filepath.Join(dir, "missing.toml"), "get", "registry.example.com", 1, "failed to load containerd config"},
		{"missing config list", filepath.Join(dir, "missing.toml"), "list", "", 1, "failed to load containerd config"},
		{"password and password_file", both, "get", "registry.example.com", 1, "password_file"},
		{"unknown key", unknownKey, "get", "registry.example.com", 1, "passwd"},
		{"bad host pattern", badHost, "get", "registry.example.com", 1, "bad host"},
		{"malformed docker config get", badJSON, "get", "registry.example.com", 1, "credentials not found"},
		{"malformed docker config list", badJSON, "list", "", 0, "{}"},
		{"version", f.config, "version", "", 0, "docker-credential-nodecred (github.com/nodecred/nodecred)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runHelper(t, tt.config, tt.action, tt.stdin)
			t.Logf("exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
			if code != tt.code || !strings.Contains(out, tt.stdout) {
				t.Errorf("exit %d, stdout %q; want exit %d and %q", code, out, tt.code, tt.stdout)
			}
			assertNoSecret(t, "stdout", out, f.secrets)
			assertNoSecret(t, "stderr", errOut, f.secrets)
		})
	}
}

// TestCredentialHelperRefusesItself: a source that runs the helper again
// gets a refusal, not another run.
func TestCredentialHelperRefusesItself(t *testing.T) {
	f := newHelperFixture(t)
	t.Setenv(envRunning, "1")
	code, out, _ := runHelper(t, f.config, "get", "registry.example.com")
	if code != 1 || !strings.Contains(out, "refusing to run itself again") {
		t.Fatalf("exit %d, stdout %q", code, out)
	}
}

func TestCredentialHelperCommandUsage(t *testing.T) {
	app := &cli.Command{Name: "nodecred", Commands: []*cli.Command{Command()}}
	err := app.Run(context.Background(), []string{"nodecred", "credential-helper"})
	var usage commands.UsageError
	if !errors.As(err, &usage) {
		t.Fatalf("credential-helper without an action: err = %v, want a usage error", err)
	}
}

func TestCredentialHelperBadLogLevel(t *testing.T) {
	var out bytes.Buffer
	code := serveHelper(context.Background(), helperOptions{configPath: newHelperFixture(t).config, logLevel: "loud"}, "get", strings.NewReader("registry.example.com"), &out, &bytes.Buffer{})
	if code != 1 || !strings.Contains(out.String(), `log level "loud"`) {
		t.Fatalf("exit %d, stdout %q", code, out.String())
	}
}

// TestContactedHostAsDocker checks the server URL to host step against
// docker's own (configfile's ConvertToHostname), then Docker Hub's names
// folded into the host containerd contacts.
func TestContactedHostAsDocker(t *testing.T) {
	for _, u := range []string{
		"https://index.docker.io/v1/", "index.docker.io", "docker.io", "https://registry-1.docker.io",
		"registry.example.com", "registry.example.com/", "https://registry.example.com:5000/v2/",
		"http://registry.example.com:5000", "quay.io/team/app", "https://[::1]:5000/v2/", "[::1]:5000", "127.0.0.1:5000",
		"Registry.Example.COM",
	} {
		got, err := contactedHost(u)
		if err != nil {
			t.Errorf("contactedHost(%q): %v", u, err)
			continue
		}
		want := strings.ToLower(dockercreds.ConvertToHostname(u))
		switch want {
		case "docker.io", "index.docker.io", "registry-1.docker.io":
			want = "registry-1.docker.io"
		}
		if got != want {
			t.Errorf("contactedHost(%q) = %q, want %q", u, got, want)
		}
	}
	for _, u := range []string{"", "https://", "*.example.com", "a b", "registry.example.com:", "registry.example.com:port", "[zz]:5000", "..", "a..b"} {
		if h, err := contactedHost(u); err == nil {
			t.Errorf("contactedHost(%q) = %q, want an error", u, h)
		}
	}
}

func TestListCandidateHosts(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want string // "" for none
	}{
		{"registry.example.com", "registry.example.com"},
		{"https://registry.example.com", "registry.example.com"},
		{"registry.example.com:5000", "registry.example.com:5000"},
		{"docker.io", "registry-1.docker.io"},
		{"https://index.docker.io/v1/", "registry-1.docker.io"},
		{"*.example.com", ""},
		{"reg[0-9].example.com", ""},
		{"quay.io/team", ""},
		{"[::1]:5000", "[::1]:5000"},
	} {
		got, ok := patternHost(tt.in)
		if !ok {
			got = ""
		}
		if got != tt.want {
			t.Errorf("patternHost(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	for _, tt := range []struct{ in, want string }{
		{"https://index.docker.io/v1/", "registry-1.docker.io"},
		{"https://registry.example.com/v1/", "registry.example.com"},
		{"registry.example.com/", "registry.example.com"},
		{"quay.io/team", ""},
	} {
		got, ok := authKeyHost(tt.in)
		if !ok {
			got = ""
		}
		if got != tt.want {
			t.Errorf("authKeyHost(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestKubeletHostsReadsDirectoryAndSkipsServiceAccountProviders: the hosts
// listed for a kubelet source come from every file of a config directory,
// and not from a provider that needs a pod's service account, which never
// runs for the node.
func TestKubeletHostsReadsDirectoryAndSkipsServiceAccountProviders(t *testing.T) {
	dir := t.TempDir()
	entry := func(name, match, extra string) string {
		return "apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n- name: " + name + "\n  matchImages: [\"" + match + "\"]\n  defaultCacheDuration: 1m\n  apiVersion: credentialprovider.kubelet.k8s.io/v1\n" + extra
	}
	files := map[string]string{
		"10-node.yaml": entry("node", "node.example.com", ""),
		"20-sa.yaml":   entry("sa", "sa.example.com", "  tokenAttributes: {serviceAccountTokenAudience: a, cacheType: Token, requireServiceAccount: true}\n"),
		"30-opt.yml":   entry("opt", "opt.example.com", "  tokenAttributes: {serviceAccountTokenAudience: a, cacheType: Token, requireServiceAccount: false}\n"),
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var hosts []string
	if err := kubeletHosts(dir, func(h string) { hosts = append(hosts, h) }); err != nil {
		t.Fatal(err)
	}
	if strings.Join(hosts, ",") != "node.example.com,opt.example.com" {
		t.Fatalf("hosts %v, want node.example.com and opt.example.com", hosts)
	}
}
