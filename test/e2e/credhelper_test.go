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
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/cli/cli/config"

	"github.com/nodecred/nodecred/test/e2e/harness"
)

// The credential helper tests run real clients of the docker credential
// helper protocol against bin/docker-credential-nodecred, the link `make
// build` makes: crane (go-containerregistry) and docker's own config
// library. They start no containerd: the helper reads the config file.

const helperLink = "docker-credential-nodecred"

var (
	craneOnce sync.Once
	cranePath string
	craneErr  error
)

// crane builds crane from the Go module proxy once per run.
func crane(t *testing.T) string {
	t.Helper()
	craneOnce.Do(func() {
		wd, _ := os.Getwd()
		root, err := harness.RepoRoot(wd)
		if err != nil {
			craneErr = err
			return
		}
		cranePath, craneErr = harness.BuildCrane(context.Background(), root)
	})
	if craneErr != nil {
		t.Fatal(craneErr)
	}
	return cranePath
}

// helperBinDir returns bin/, where `make build` links
// docker-credential-nodecred to nodecred. The harness builds bin/nodecred
// without make; the link is made here as make makes it when it is missing.
func helperBinDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Dir(bins.Nodecred)
	link := filepath.Join(dir, helperLink)
	target, err := os.Readlink(link)
	if os.IsNotExist(err) {
		if err := os.Symlink("nodecred", link); err != nil && !os.IsExist(err) {
			t.Fatal(err)
		}
		target, err = os.Readlink(link)
	}
	if err != nil {
		t.Fatal(err)
	}
	if target != "nodecred" {
		t.Fatalf("%s links to %q, want the relative link make build makes (nodecred)", link, target)
	}
	return dir
}

// privateImage is a registry with one user and one pushed image.
type privateImage struct {
	testRegistry
	ref    string
	digest string
}

func startPrivateImage(t *testing.T, user string) privateImage {
	t.Helper()
	password := newPassword(user)
	r, err := harness.StartRegistry(context.Background(), bins.Registry, t.TempDir(), map[string]string{user: password})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Stop)
	img, err := harness.NewImage(2, 2048)
	if err != nil {
		t.Fatal(err)
	}
	if err := img.Push(r.Host, "team/app", "1", user, password); err != nil {
		t.Fatal(err)
	}
	return privateImage{testRegistry: testRegistry{Registry: r, user: user, password: password}, ref: r.Host + "/team/app:1", digest: img.Digest.String()}
}

// clientEnv is the environment of a client that reads dockerConfig (a
// config.json) and finds the helper on PATH, with nodecred's config from
// NODECRED_CONFIG and its log at trace level.
func clientEnv(t *testing.T, nodecredConfig, dockerConfig string, extra ...string) []string {
	t.Helper()
	dockerDir := t.TempDir()
	writeFile(t, dockerDir, "config.json", dockerConfig)
	env := []string{
		"PATH=" + helperBinDir(t) + string(os.PathListSeparator) + os.Getenv("PATH"),
		"HOME=" + t.TempDir(),
		"DOCKER_CONFIG=" + dockerDir,
		"NODECRED_CONFIG=" + nodecredConfig,
		"NODECRED_LOG_LEVEL=trace",
	}
	return append(env, extra...)
}

// runCrane runs crane with env and checks its output for secrets. The
// helper's stderr, its log at trace level, reaches crane's: docker's
// client passes it through.
func runCrane(t *testing.T, env []string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	cmd := exec.Command(crane(t), append([]string{"--insecure"}, args...)...)
	cmd.Env = env
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	checkNoSecret(t, "crane "+args[0], out.String()+errOut.String())
	t.Logf("crane %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, out.String(), errOut.String())
	return out.String(), errOut.String(), err
}

func checkNoSecret(t *testing.T, what, text string) {
	t.Helper()
	leaks := secrets.Leaks(text)
	if len(leaks) > 0 {
		t.Errorf("%s printed %d secret form(s)", what, len(leaks))
	}
}

// cranePulls pulls img with crane into an OCI layout and checks that the
// manifest and every layer arrived.
func cranePulls(t *testing.T, env []string, img privateImage) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "oci")
	_, stderr, err := runCrane(t, env, "pull", "--format", "oci", img.ref, dir)
	if err != nil {
		t.Fatalf("crane pull %s through docker-credential-nodecred failed: %v", img.ref, err)
	}
	if !strings.Contains(stderr, "credential helper lookup") {
		t.Errorf("crane's stderr lacks the helper's trace log, so the helper's log was not checked for secrets")
	}
	algo, hex, _ := strings.Cut(img.digest, ":")
	manifest, err := os.ReadFile(filepath.Join(dir, "blobs", algo, hex))
	if err != nil {
		t.Fatalf("the pulled layout lacks the image's manifest: %v", err)
	}
	var m struct {
		Layers []struct{ Digest string } `json:"layers"`
	}
	if err := json.Unmarshal(manifest, &m); err != nil || len(m.Layers) != 2 {
		t.Fatalf("manifest: %v, %d layers", err, len(m.Layers))
	}
	for _, l := range m.Layers {
		a, h, _ := strings.Cut(l.Digest, ":")
		if _, err := os.Stat(filepath.Join(dir, "blobs", a, h)); err != nil {
			t.Fatalf("layer %s not pulled: %v", l.Digest, err)
		}
	}
}

// craneRefused checks that crane cannot pull img: the registry wants
// credentials it did not get.
func craneRefused(t *testing.T, env []string, img privateImage) {
	t.Helper()
	_, stderr, err := runCrane(t, env, "digest", img.ref)
	if err == nil {
		t.Fatalf("crane digest %s succeeded without credentials", img.ref)
	}
	if !strings.Contains(stderr, "UNAUTHORIZED") {
		t.Fatalf("crane digest %s failed for another reason than a missing credential:\n%s", img.ref, stderr)
	}
}

const credsStoreNodecred = `{"credsStore": "nodecred"}`

func TestCraneCredsStoreDockerconfigSource(t *testing.T) {
	img := startPrivateImage(t, "crane-dc")
	cfg := containerdConfigFile(t, "", nodecredSection("", dockerconfigSource(authFileFor(t, img.testRegistry))))

	craneRefused(t, clientEnv(t, cfg, `{}`), img) // the image is private
	cranePulls(t, clientEnv(t, cfg, credsStoreNodecred), img)
}

func TestCraneCredsStoreStaticSource(t *testing.T) {
	img := startPrivateImage(t, "crane-static")
	pw := writeFile(t, t.TempDir(), "pw", img.password+"\n")
	cfg := containerdConfigFile(t, "", nodecredSection("", staticSource(img.Host, img.user, pw)))

	env := clientEnv(t, cfg, credsStoreNodecred)
	cranePulls(t, env, img)
	if out, _, err := runCrane(t, env, "digest", img.ref); err != nil || strings.TrimSpace(out) != img.digest {
		t.Fatalf("crane digest = %q, %v; want %s", out, err, img.digest)
	}
}

// TestCraneCredHelpersOneHost: credHelpers names nodecred for one registry;
// the other, although nodecred has credentials for it, is not asked.
func TestCraneCredHelpersOneHost(t *testing.T) {
	served := startPrivateImage(t, "crane-one")
	other := startPrivateImage(t, "crane-other")
	dir := t.TempDir()
	cfg := containerdConfigFile(t, "", nodecredSection("",
		staticSource(served.Host, served.user, writeFile(t, dir, "served", served.password)),
		staticSource(other.Host, other.user, writeFile(t, dir, "other", other.password))))

	env := clientEnv(t, cfg, fmt.Sprintf(`{"credHelpers": {%q: "nodecred"}}`, served.Host))
	cranePulls(t, env, served)
	craneRefused(t, env, other)
}

// TestCraneHelperSourceRunsWithClientEnvironment: a helper source runs in
// the credential helper's process, with the environment the client gave it
// (here, the test helper's credentials), as user-invoked helpers do.
func TestCraneHelperSourceRunsWithClientEnvironment(t *testing.T) {
	img := startPrivateImage(t, "crane-exec")
	creds, _ := json.Marshal(map[string]string{img.Host: img.user + ":" + img.password})
	envFile := filepath.Join(t.TempDir(), "env")
	cfg := containerdConfigFile(t, "", nodecredSection("",
		fmt.Sprintf("type = \"helper\"\nhelper = %q\nhosts = [%q]", bins.CredHelper, img.Host)))

	env := clientEnv(t, cfg, credsStoreNodecred, "CREDHELPER_CREDS="+string(creds), "CREDHELPER_ENV_FILE="+envFile, "MARKER=from-the-client")
	cranePulls(t, env, img)
	got, err := os.ReadFile(envFile)
	if err != nil {
		t.Fatalf("the helper source did not run: %v", err)
	}
	if !strings.Contains(string(got), "\nMARKER=from-the-client\n") {
		t.Fatal("the helper source did not get the client's environment")
	}
}

// TestDockerConfigLibraryResolvesThroughHelper: docker's own config library
// (the code the docker CLI, buildx and crane use) gets the credentials
// through the helper: basic, identity token, a miss, and all of them.
func TestDockerConfigLibraryResolvesThroughHelper(t *testing.T) {
	img := startPrivateImage(t, "docker-lib")
	token := newPassword("")
	auth := writeFile(t, t.TempDir(), "auth.json", fmt.Sprintf(`{"auths": {%q: {"auth": %q}, "https://index.docker.io/v1/": {"identitytoken": %q}}}`,
		img.Host, b64(img.user+":"+img.password), token))
	cfg := containerdConfigFile(t, "", nodecredSection("", dockerconfigSource(auth)))
	for _, kv := range clientEnv(t, cfg, credsStoreNodecred) {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	file, err := config.Load(os.Getenv("DOCKER_CONFIG"))
	if err != nil {
		t.Fatal(err)
	}
	if file.CredentialsStore != "nodecred" {
		t.Fatalf("credsStore = %q", file.CredentialsStore)
	}

	got, err := file.GetAuthConfig(img.Host)
	if err != nil {
		t.Fatalf("GetAuthConfig(%s): %v", img.Host, err)
	}
	if got.Username != img.user || got.Password != img.password || got.IdentityToken != "" {
		t.Fatalf("GetAuthConfig(%s): user %q, password matches %v", img.Host, got.Username, got.Password == img.password)
	}
	hub, err := file.GetAuthConfig("https://index.docker.io/v1/")
	if err != nil || hub.IdentityToken != token || hub.Username != "" || hub.Password != "" {
		t.Fatalf("GetAuthConfig(Docker Hub): %v; identity token matches %v, user %q", err, hub.IdentityToken == token, hub.Username)
	}
	miss, err := file.GetAuthConfig("unknown.example.com")
	if err != nil || miss.Username != "" || miss.Password != "" || miss.IdentityToken != "" {
		t.Fatalf("GetAuthConfig(unknown.example.com) = user %q, %v; want an empty answer, no error", miss.Username, err)
	}
	all, err := file.GetAllCredentials() // list, then get for each
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[img.Host].Password != img.password || all["https://index.docker.io/v1/"].IdentityToken != token {
		t.Fatalf("GetAllCredentials gave %d entries: %v", len(all), keys(all))
	}
	// docker login would store; the helper refuses.
	err = file.GetCredentialsStore(img.Host).Store(got)
	if err == nil || !strings.Contains(err.Error(), "store and erase are refused") {
		t.Fatalf("store: %v", err)
	}
	checkNoSecret(t, "store's error", err.Error())
}

// TestCredentialHelperOutputAtTrace runs the helper as clients do, at trace
// level, and finds no secret outside get's answer.
func TestCredentialHelperOutputAtTrace(t *testing.T) {
	img := startPrivateImage(t, "trace-user")
	pw := writeFile(t, t.TempDir(), "pw", img.password)
	cfg := containerdConfigFile(t, "", nodecredSection("", staticSource(img.Host, img.user, pw), dockerconfigSource(authFileFor(t, img.testRegistry))))
	env := clientEnv(t, cfg, `{}`)
	for _, tt := range []struct {
		args  []string
		stdin string
		code  int
		want  string
	}{
		{[]string{"list"}, "", 0, fmt.Sprintf(`{%q:%q}`, img.Host, img.user)},
		{[]string{"get"}, "unknown.example.com", 1, "credentials not found in native keychain"},
		{[]string{"store"}, fmt.Sprintf(`{"ServerURL": %q, "Username": %q, "Secret": %q}`, img.Host, img.user, img.password), 1, "store and erase are refused"},
		{[]string{"erase"}, img.Host, 1, "store and erase are refused"},
		{[]string{"get"}, "*", 1, "names no registry host"},
		{[]string{"bogus"}, "", 1, "unknown action"},
		{nil, "", 1, "Usage: docker-credential-nodecred"},
	} {
		// As docker's client runs it: by name, found on PATH.
		cmd := &exec.Cmd{Path: filepath.Join(helperBinDir(t), helperLink), Args: append([]string{helperLink}, tt.args...), Env: env}
		cmd.Stdin = strings.NewReader(tt.stdin)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		if err := cmd.Run(); err != nil && cmd.ProcessState == nil {
			t.Fatal(err)
		}
		code := cmd.ProcessState.ExitCode()
		t.Logf("%s %v: exit %d\nstdout: %s\nstderr: %s", helperLink, tt.args, code, out.String(), errOut.String())
		if code != tt.code || !strings.Contains(out.String(), tt.want) {
			t.Errorf("%v: exit %d, stdout %q; want exit %d and %q", tt.args, code, out.String(), tt.code, tt.want)
		}
		checkNoSecret(t, fmt.Sprintf("%s %v", helperLink, tt.args), out.String()+errOut.String())
	}

	// The subcommand form, with --config and a trace log.
	cmd := exec.Command(bins.Nodecred, "credential-helper", "--config", cfg, "--log-level", "trace", "get")
	cmd.Stdin = strings.NewReader(img.Host)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("nodecred credential-helper get: %v\n%s", err, out.String())
	}
	if !strings.Contains(errOut.String(), "credential helper lookup") {
		t.Errorf("no trace log on stderr: %s", errOut.String())
	}
	checkNoSecret(t, "nodecred credential-helper get's log", errOut.String())
	var answer struct{ Username, Secret string }
	if err := json.Unmarshal(out.Bytes(), &answer); err != nil || answer.Username != img.user || answer.Secret != img.password {
		t.Fatalf("nodecred credential-helper get: %v, user %q", err, answer.Username)
	}
}

func keys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

// TestCredentialHelperRefusesToRunItself: a helper source naming nodecred
// would start the helper from the helper without end; the inner run
// refuses, and the outer one skips the source.
func TestCredentialHelperRefusesToRunItself(t *testing.T) {
	cfg := containerdConfigFile(t, "", nodecredSection("", `type = "helper"
helper = "nodecred"
hosts = ["registry.example.com"]`))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(helperBinDir(t), helperLink), "get")
	cmd.Env = clientEnv(t, cfg, `{}`)
	cmd.Stdin = strings.NewReader("registry.example.com")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	t.Logf("exit %v\nstdout: %s\nstderr: %s", err, out.String(), errOut.String())
	if ctx.Err() != nil {
		t.Fatal("the helper did not finish")
	}
	if cmd.ProcessState.ExitCode() != 1 || out.String() != "credentials not found in native keychain\n" {
		t.Fatalf("exit %d, stdout %q; want the protocol's miss", cmd.ProcessState.ExitCode(), out.String())
	}
	if !strings.Contains(errOut.String(), "refusing to run itself again") {
		t.Fatalf("the outer run did not log the inner run's refusal:\n%s", errOut.String())
	}
}
