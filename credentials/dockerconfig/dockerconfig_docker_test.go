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
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/cli/cli/config/configfile"

	"github.com/nodecred/nodecred/credentials"
	"github.com/nodecred/nodecred/credentials/helper"
	"github.com/nodecred/nodecred/internal/hostmatch"
)

// These tests hold Source to docker's own code: docker/cli's
// configfile.ConfigFile.GetAuthConfig, which picks a credHelpers helper, the
// credsStore native store or the file store for a registry and asks it. Both
// sides run the same real credential helper programs.

// dockerHelpers installs credential helpers on PATH as
// docker-credential-NAME, shell scripts that speak the helper protocol's
// get with built-ins only. Each answers "NAME:pw-NAME" for every server URL
// in urls, except "none", which has nothing, and "tok", which answers with
// an identity token.
func dockerHelpers(t *testing.T, urls []string) {
	t.Helper()
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	dir := t.TempDir()
	for _, name := range []string{"store", "hub", "gcloud", "none", "tok"} {
		user, secret := name, "pw-"+name
		if name == "tok" {
			user, secret = "<token>", "tok-refresh"
		}
		known := "-" // matches no server URL
		if name != "none" {
			quoted := make([]string, len(urls))
			for i, u := range urls {
				quoted[i] = "'" + u + "'"
			}
			known = strings.Join(quoted, "|")
		}
		script := fmt.Sprintf(`#!/bin/sh
[ "$1" = get ] || exit 1
IFS= read -r url
case "$url" in
%s) printf '{"ServerURL":"%%s","Username":"%s","Secret":"%s"}' "$url" ;;
*) printf 'credentials not found in native keychain'; exit 1 ;;
esac
`, known, user, secret)
		if err := os.WriteFile(filepath.Join(dir, "docker-credential-"+name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", dir)
	// Newer docker reads credentials from DOCKER_AUTH_CONFIG too
	// (configfile.DockerEnvConfigKey, absent from the docker/cli that
	// containerd 2.1 and 2.2 pull in).
	t.Setenv("DOCKER_AUTH_CONFIG", "")
}

// dockerName is the registry name docker looks credentials up by for the
// host containerd contacts: for Docker Hub, whose host containerd contacts
// is registry-1.docker.io, the docker CLI asks for its index server
// (registry.GetAuthConfigKey), the key every docker/cli version reads; newer
// ones also map "docker.io" to it, older ones (containerd 2.1 to 2.3 pull
// one in) do not.
func dockerName(host string) string {
	if hostmatch.CanonicalHost(host) == "docker.io" {
		return helper.DockerHubServerURL
	}
	return host
}

// dockerAnswer is what docker's own code answers for the registry.
func dockerAnswer(t *testing.T, config, host string) string {
	t.Helper()
	cf := configfile.New("")
	if err := cf.LoadFromReader(strings.NewReader(config)); err != nil {
		t.Fatalf("docker cannot load the config: %v", err)
	}
	ac, err := cf.GetAuthConfig(dockerName(host))
	if err != nil {
		t.Fatalf("docker GetAuthConfig(%q): %v", dockerName(host), err)
	}
	return describe(ac.Username, ac.Password, ac.IdentityToken)
}

// nodecredAnswer is what Source answers for a pull of repo from host.
func nodecredAnswer(t *testing.T, config, host, repo string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := New(path, 10*time.Second).Get(context.Background(), credentials.Request{Host: host, Ref: host + "/" + repo + ":1"})
	if err != nil {
		t.Fatalf("nodecred Get(%q): %v", host, err)
	}
	return describe(c.Username, string(c.Password), string(c.IdentityToken))
}

func describe(user, pass, token string) string {
	if user == "" && pass == "" && token == "" {
		return "none"
	}
	return user + "/" + pass + "/" + token
}

func TestDockerConfigPicksWhatDockerPicks(t *testing.T) {
	const (
		reg = "registry.example.com"
		hub = "registry-1.docker.io" // what containerd contacts for docker.io images
	)
	dockerHelpers(t, []string{reg, reg + ":5000", "gcr.io", "quay.io", helper.DockerHubServerURL})
	auth := func(user string) string { return `{"auth": "` + b64(user+":pw-"+user) + `"}` }
	const (
		storeAnswer  = "store/pw-store/"
		gcloudAnswer = "gcloud/pw-gcloud/"
		hubAnswer    = "hub/pw-hub/"
	)
	tests := []struct {
		name, config, host, repo string
		want                     string // what both docker and nodecred answer
	}{
		{"auths", `{"auths": {"` + reg + `": ` + auth("u") + `}}`, reg, "app", "u/pw-u/"},
		{"auths, other host", `{"auths": {"` + reg + `": ` + auth("u") + `}}`, "other.example.com", "app", "none"},
		{"auths, port is another host", `{"auths": {"` + reg + `": ` + auth("u") + `}}`, reg + ":5000", "app", "none"},
		{"auths with port", `{"auths": {"` + reg + `:5000": ` + auth("u") + `}}`, reg + ":5000", "app", "u/pw-u/"},
		{"auths URL key", `{"auths": {"https://` + reg + `/v2/": ` + auth("u") + `}}`, reg, "app", "u/pw-u/"},
		{"auths host key beats URL key", `{"auths": {"https://` + reg + `": ` + auth("url") + `, "` + reg + `": ` + auth("host") + `}}`, reg, "app", "host/pw-host/"},
		{"auths identitytoken", `{"auths": {"` + reg + `": {"auth": "` + b64("<token>:") + `", "identitytoken": "refresh"}}}`, reg, "app", "<token>//refresh"},
		{"credHelpers beat auths", `{"auths": {"` + reg + `": ` + auth("u") + `}, "credHelpers": {"` + reg + `": "gcloud"}}`, reg, "app", gcloudAnswer},
		{"credHelpers for another host", `{"auths": {"` + reg + `": ` + auth("u") + `}, "credHelpers": {"gcr.io": "gcloud"}}`, reg, "app", "u/pw-u/"},
		{"credHelpers with a path match nothing", `{"auths": {"quay.io": ` + auth("u") + `}, "credHelpers": {"quay.io/team": "gcloud"}}`, "quay.io", "team/app", "u/pw-u/"},
		{"credHelpers not found is no credential", `{"auths": {"` + reg + `": ` + auth("u") + `}, "credHelpers": {"` + reg + `": "none"}}`, reg, "app", "none"},
		{"credsStore beats auths", `{"auths": {"` + reg + `": ` + auth("u") + `}, "credsStore": "store"}`, reg, "app", storeAnswer},
		{"credsStore for a host without auths", `{"auths": {"quay.io": ` + auth("u") + `}, "credsStore": "store"}`, reg, "app", storeAnswer},
		{"credsStore not found is no credential", `{"auths": {"` + reg + `": ` + auth("u") + `}, "credsStore": "none"}`, reg, "app", "none"},
		{"credsStore identity token", `{"credsStore": "tok"}`, reg, "app", "//tok-refresh"},
		{"credHelpers beat credsStore", `{"credHelpers": {"` + reg + `": "gcloud"}, "credsStore": "store"}`, reg, "app", gcloudAnswer},
		{"credsStore for hosts without credHelpers", `{"credHelpers": {"gcr.io": "gcloud"}, "credsStore": "store"}`, reg, "app", storeAnswer},
		{"empty credHelpers entry opts out of credsStore", `{"auths": {"` + reg + `": ` + auth("u") + `}, "credHelpers": {"` + reg + `": ""}, "credsStore": "store"}`, reg, "app", "u/pw-u/"},
		{"credsStore with port", `{"auths": {"` + reg + `:5000": ` + auth("u") + `}, "credsStore": "store"}`, reg + ":5000", "app", storeAnswer},
		{"Docker Hub auths", `{"auths": {"https://index.docker.io/v1/": ` + auth("u") + `}}`, hub, "library/pause", "u/pw-u/"},
		{"Docker Hub index.docker.io", `{"auths": {"https://index.docker.io/v1/": ` + auth("u") + `}}`, "index.docker.io", "library/pause", "u/pw-u/"},
		{"Docker Hub docker's key wins", `{"auths": {"docker.io": ` + auth("podman") + `, "https://index.docker.io/v1/": ` + auth("docker") + `}}`, hub, "library/pause", "docker/pw-docker/"},
		{"Docker Hub credsStore beats auths", `{"auths": {"https://index.docker.io/v1/": ` + auth("u") + `}, "credsStore": "store"}`, hub, "library/pause", storeAnswer},
		{"Docker Hub credHelpers", `{"credHelpers": {"https://index.docker.io/v1/": "hub"}, "credsStore": "store"}`, hub, "library/pause", hubAnswer},
		{"Docker Hub credHelpers, other host", `{"credHelpers": {"https://index.docker.io/v1/": "hub"}}`, reg, "app", "none"},
		{"path-scoped key, repository under it", `{"auths": {"quay.io/team": ` + auth("team") + `}}`, "quay.io", "team/app", "team/pw-team/"},
		{"empty config", `{}`, reg, "app", "none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := dockerAnswer(t, tt.config, tt.host); got != tt.want {
				t.Errorf("docker answers %q, want %q (the table is wrong about docker)", got, tt.want)
			}
			if got := nodecredAnswer(t, tt.config, tt.host, tt.repo); got != tt.want {
				t.Errorf("nodecred answers %q, docker %q", got, tt.want)
			}
		})
	}
}

// TestDockerConfigDiffersFromDockerOnPurpose pins the places where nodecred
// reads a key more loosely or more narrowly than docker, so that a change on
// either side is noticed. Each is documented in docs/config.md.
func TestDockerConfigDiffersFromDockerOnPurpose(t *testing.T) {
	const hub = "registry-1.docker.io"
	dockerHelpers(t, []string{"gcr.io", "quay.io", helper.DockerHubServerURL})
	auth := func(user string) string { return `{"auth": "` + b64(user+":pw-"+user) + `"}` }
	tests := []struct {
		name, config, host, repo string
		docker, nodecred         string
	}{
		// containers auth.json (podman, skopeo) stores Docker Hub as
		// "docker.io"; docker reads only "https://index.docker.io/v1/".
		{"Docker Hub as docker.io", `{"auths": {"docker.io": ` + auth("u") + `}}`, hub, "library/pause", "none", "u/pw-u/"},
		{"Docker Hub as index.docker.io", `{"auths": {"index.docker.io": ` + auth("u") + `}}`, hub, "library/pause", "none", "u/pw-u/"},
		{"Docker Hub credHelpers as docker.io", `{"credHelpers": {"docker.io": "hub"}}`, hub, "library/pause", "none", "hub/pw-hub/"},
		// A key with a path serves only repositories under it, as in
		// containers-auth.json; docker hands it to the whole host.
		{"path-scoped key, other repository", `{"auths": {"quay.io/team": ` + auth("team") + `}}`, "quay.io", "other/app", "team/pw-team/", "none"},
		// URL and upper-case credHelpers keys name their host; docker
		// matches credHelpers keys exactly.
		{"credHelpers URL key", `{"credHelpers": {"https://gcr.io": "gcloud"}}`, "gcr.io", "proj/app", "none", "gcloud/pw-gcloud/"},
		{"credHelpers upper-case key", `{"credHelpers": {"GCR.io": "gcloud"}}`, "gcr.io", "proj/app", "none", "gcloud/pw-gcloud/"},
		{"auths upper-case key", `{"auths": {"Quay.IO": ` + auth("u") + `}}`, "quay.io", "team/app", "none", "u/pw-u/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := dockerAnswer(t, tt.config, tt.host); got != tt.docker {
				t.Errorf("docker answers %q, want %q", got, tt.docker)
			}
			if got := nodecredAnswer(t, tt.config, tt.host, tt.repo); got != tt.nodecred {
				t.Errorf("nodecred answers %q, want %q", got, tt.nodecred)
			}
		})
	}
}
