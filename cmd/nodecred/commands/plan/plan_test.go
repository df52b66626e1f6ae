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

package plan

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/containerd/containerd/v2/core/remotes/docker"
	"github.com/containerd/errdefs"
	"github.com/opencontainers/go-digest"
	"github.com/urfave/cli/v3"

	"github.com/nodecred/nodecred/cmd/nodecred/commands"
	"github.com/nodecred/nodecred/internal/testprog"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		err    error
		status int
		want   string
	}{
		{nil, 200, "ok"},
		{fmt.Errorf("pull access denied: %w", docker.ErrInvalidAuthorization), 401, "unauthorized"},
		{errors.New("unexpected status from HEAD request"), 401, "unauthorized"},
		{errors.New("unexpected status from HEAD request"), 403, "forbidden"},
		{fmt.Errorf("manifest unknown: %w", errdefs.ErrNotFound), 404, "not-found"},
		{&net.OpError{Op: "dial", Err: errors.New("connection refused")}, 0, "unreachable"},
		{errors.New("server error"), 500, "error"},
	}
	for _, tt := range tests {
		if got, _ := classify(tt.err, tt.status); got != tt.want {
			t.Errorf("classify(%v, %d) = %q, want %q", tt.err, tt.status, got, tt.want)
		}
	}
}

// app is nodecred with the two commands of this package.
func app() *cli.Command {
	return &cli.Command{Name: "nodecred", Commands: []*cli.Command{ExplainCommand(), CheckCommand()}}
}

func TestPlanOrderSourcesAndScoping(t *testing.T) {
	hostsDir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(hostsDir, "registry.example.com"), 0o755); err != nil {
		t.Fatal(err)
	}
	hostsToml := "server = \"https://registry.example.com\"\n[host.\"https://mirror.example.com\"]\n  capabilities = [\"pull\", \"resolve\"]\n"
	if err := os.WriteFile(filepath.Join(hostsDir, "registry.example.com", "hosts.toml"), []byte(hostsToml), 0o644); err != nil {
		t.Fatal(err)
	}
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte("mirror-secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := testprog.ContainerdConfig(t, hostsDir, fmt.Sprintf(`[plugins."io.containerd.credentials.v1.nodecred"]
  namespaces = ["k8s.io"]
  [[plugins."io.containerd.credentials.v1.nodecred".sources]]
    type = "static"
    hosts = ["mirror.example.com"]
    username = "robot"
    password_file = %q
`, pw))
	p, err := makePlan(context.Background(), planOptions{configPath: cfg, namespace: "k8s.io"}, "registry.example.com/app:1")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Targets) != 2 || p.Targets[0].Host != "mirror.example.com" || p.Targets[1].Host != "registry.example.com" {
		t.Fatalf("targets = %+v", p.Targets)
	}
	if p.Targets[0].Source != "static:mirror.example.com" || p.Targets[0].Kind != "basic" || p.Targets[1].Kind != "none" {
		t.Fatalf("sources: %+v", p.Targets)
	}
	var out bytes.Buffer
	if err := writeExplain(&out, p); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "mirror-secret") {
		t.Fatal("explain printed the password")
	}

	scoped, err := makePlan(context.Background(), planOptions{configPath: cfg, namespace: "default"}, "registry.example.com/app:1")
	if err != nil {
		t.Fatal(err)
	}
	if !scoped.Scoped || scoped.Targets[0].Kind != "none" {
		t.Fatalf("namespace default: %+v", scoped)
	}

	// docker.io references are normalised and contact Docker Hub's host.
	hub, err := makePlan(context.Background(), planOptions{configPath: cfg, namespace: "k8s.io"}, "pause:3.10")
	if err != nil {
		t.Fatal(err)
	}
	if hub.Ref != "docker.io/library/pause:3.10" || hub.Targets[len(hub.Targets)-1].Host != "registry-1.docker.io" {
		t.Fatalf("docker.io plan: %+v", hub)
	}
}

func TestPlanConfigErrors(t *testing.T) {
	cfg := testprog.ContainerdConfig(t, t.TempDir(), "[plugins.\"io.containerd.credentials.v1.nodecred\"]\n  [[plugins.\"io.containerd.credentials.v1.nodecred\".sources]]\n    type = \"vault\"\n")
	_, err := makePlan(context.Background(), planOptions{configPath: cfg}, "r.io/a:1")
	if err == nil || !strings.Contains(err.Error(), `sources[0].type: unknown source type "vault"`) {
		t.Fatalf("err = %v", err)
	}
	if _, err := makePlan(context.Background(), planOptions{configPath: testprog.ContainerdConfig(t, t.TempDir(), "")}, "UPPER/Case"); err == nil {
		t.Fatal("bad reference accepted")
	}
}

// In CRI's namespace, explain and check say first that CRI pulls locally,
// naming the setting, and end with exit status 3; in another namespace
// CRI's mode does not apply.
func TestExplainSaysCRIPullsLocallyFirst(t *testing.T) {
	cfg := testprog.ContainerdConfig(t, t.TempDir(), "[plugins.\"io.containerd.cri.v1.images\"]\n  discard_unpacked_layers = true\n")
	var out bytes.Buffer
	cmd := app()
	cmd.Writer = &out
	err := cmd.Run(context.Background(), []string{"nodecred", "explain", "--config", cfg, "r.io/app:1"})
	var local commands.CRILocalError
	if !errors.As(err, &local) {
		t.Fatalf("err = %v, want a CRI local pull error (exit %d)", err, commands.ExitCRILocal)
	}
	first, _, _ := strings.Cut(out.String(), "\n")
	for _, want := range []string{"CRI PULLS LOCALLY", "discard_unpacked_layers = true", "To fix"} {
		if !strings.Contains(first, want) {
			t.Errorf("first line %q lacks %q", first, want)
		}
	}

	out.Reset()
	cmd = app()
	cmd.Writer = &out
	if err := cmd.Run(context.Background(), []string{"nodecred", "explain", "--config", cfg, "-n", "default", "r.io/app:1"}); err != nil {
		t.Errorf("namespace default: err = %v", err)
	}
	if strings.Contains(out.String(), "CRI PULLS LOCALLY") {
		t.Errorf("namespace default: %s", out.String())
	}

	out.Reset()
	cmd = app()
	cmd.Writer = &out
	if err := cmd.Run(context.Background(), []string{"nodecred", "explain", "--json", "--config", cfg, "r.io/app:1"}); !errors.As(err, &local) {
		t.Errorf("--json: err = %v", err)
	}
	if !strings.Contains(out.String(), `"mode": "local"`) || !strings.Contains(out.String(), `"key": "discard_unpacked_layers"`) {
		t.Errorf("--json lacks CRI's mode: %s", out.String())
	}

	transfer := testprog.ContainerdConfig(t, t.TempDir(), "")
	out.Reset()
	cmd = app()
	cmd.Writer = &out
	if err := cmd.Run(context.Background(), []string{"nodecred", "explain", "--config", transfer, "r.io/app:1"}); err != nil || strings.Contains(out.String(), "LOCALLY") {
		t.Errorf("transfer mode: err = %v\n%s", err, out.String())
	}
}

// A check that fails exits 1 also where CRI pulls locally: 3 from check
// means the credentials would serve transfer API clients. Its output still
// names CRI's setting first.
func TestCheckFailureWinsOverCRILocal(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	cfg := testprog.ContainerdConfig(t, t.TempDir(), "[plugins.\"io.containerd.cri.v1.images\"]\n  discard_unpacked_layers = true\n")
	var out bytes.Buffer
	cmd := app()
	cmd.Writer = &out
	err := cmd.Run(context.Background(), []string{"nodecred", "check", "--config", cfg, host + "/app:1"})
	var failed commands.FailedError
	var local commands.CRILocalError
	if !errors.As(err, &failed) || errors.As(err, &local) {
		t.Fatalf("err = %v, want the check's failure (exit %d)", err, commands.ExitFailed)
	}
	if first, _, _ := strings.Cut(out.String(), "\n"); !strings.Contains(first, "CRI PULLS LOCALLY") {
		t.Errorf("first line %q does not name CRI's mode", first)
	}
	// No source has a credential for the host: nothing was refused.
	if !strings.Contains(out.String(), "the node has none for this host") || strings.Contains(out.String(), "refused") {
		t.Errorf("a 401 to a pull that sent no credential:\n%s", out.String())
	}
}

// check asks the node source again for each handshake, after the plan is
// made: a helper source (as a kubelet source) must still answer then, so
// that the handshake sends the credential explain found.
func TestCheckSendsAHelpersCredential(t *testing.T) {
	const user, password = "robot", "pw-seven"
	manifest := []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != user || p != password {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
		w.Header().Set("Docker-Content-Digest", digest.FromBytes(manifest).String())
		w.Header().Set("Content-Length", fmt.Sprint(len(manifest)))
		if r.Method == http.MethodGet {
			w.Write(manifest)
		}
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	helper := filepath.Join(t.TempDir(), "docker-credential-test")
	script := fmt.Sprintf("#!/bin/sh\nread server\nprintf '{\"ServerURL\":\"%%s\",\"Username\":\"%s\",\"Secret\":\"%s\"}' \"$server\"\n", user, password)
	if err := os.WriteFile(helper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := testprog.ContainerdConfig(t, t.TempDir(), fmt.Sprintf(`[plugins."io.containerd.credentials.v1.nodecred"]
  [[plugins."io.containerd.credentials.v1.nodecred".sources]]
    type = "helper"
    helper = %q
`, helper))
	var out bytes.Buffer
	cmd := app()
	cmd.Writer = &out
	if err := cmd.Run(context.Background(), []string{"nodecred", "check", "--config", cfg, host + "/app:1"}); err != nil {
		t.Fatalf("check: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "ok: the pull would resolve") {
		t.Errorf("check:\n%s", out.String())
	}
}
