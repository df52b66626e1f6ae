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

// Package deploy holds the Kubernetes manifests and config examples for a
// fleet; this test decodes them with the Kubernetes API types and nodecred's
// own parsers, so a typo fails here and not on a cluster.
package deploy

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/nodecred/nodecred/credentials/kubelet"
	"github.com/nodecred/nodecred/credentials/sourceconfig"
	"github.com/nodecred/nodecred/internal/hostmatch"
)

func documents(t *testing.T, name string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var docs [][]byte
	for _, d := range bytes.Split(data, []byte("\n---\n")) {
		if len(bytes.TrimSpace(d)) > 0 {
			docs = append(docs, d)
		}
	}
	return docs
}

func TestAuthSyncManifests(t *testing.T) {
	docs := documents(t, "auth-sync.yaml")
	if len(docs) != 2 {
		t.Fatalf("%d documents, want a ServiceAccount and a DaemonSet", len(docs))
	}
	var sa corev1.ServiceAccount
	if err := yaml.UnmarshalStrict(docs[0], &sa); err != nil {
		t.Fatalf("ServiceAccount: %v", err)
	}
	if sa.Kind != "ServiceAccount" || sa.AutomountServiceAccountToken == nil || *sa.AutomountServiceAccountToken {
		t.Errorf("ServiceAccount %+v must not automount a token", sa.ObjectMeta)
	}
	var ds appsv1.DaemonSet
	if err := yaml.UnmarshalStrict(docs[1], &ds); err != nil {
		t.Fatalf("DaemonSet: %v", err)
	}
	spec := ds.Spec.Template.Spec
	if ds.Kind != "DaemonSet" || spec.ServiceAccountName != sa.Name || ds.Namespace != sa.Namespace {
		t.Fatalf("DaemonSet %s/%s uses ServiceAccount %q", ds.Namespace, ds.Name, spec.ServiceAccountName)
	}
	if ds.Spec.Selector == nil || ds.Spec.Selector.MatchLabels["app.kubernetes.io/name"] != ds.Spec.Template.Labels["app.kubernetes.io/name"] {
		t.Errorf("selector does not match the pod labels")
	}
	volumes := map[string]corev1.Volume{}
	for _, v := range spec.Volumes {
		volumes[v.Name] = v
	}
	if s := volumes["registry-auth"].Secret; s == nil || s.SecretName != "nodecred-registry-auth" {
		t.Errorf("registry-auth volume: %+v", volumes["registry-auth"])
	}
	if h := volumes["nodecred-dir"].HostPath; h == nil || h.Path != "/etc/containerd/nodecred" {
		t.Errorf("nodecred-dir volume: %+v", volumes["nodecred-dir"])
	}
	if len(spec.Containers) != 1 {
		t.Fatalf("%d containers", len(spec.Containers))
	}
	c := spec.Containers[0]
	script := strings.Join(c.Args, "\n")
	for _, want := range []string{"chmod 0600", `mv -f "$dst.tmp" "$dst"`, "/secret/.dockerconfigjson", "/host/nodecred/auth.json"} {
		if !strings.Contains(script, want) {
			t.Errorf("sync script lacks %q", want)
		}
	}
	mounts := map[string]corev1.VolumeMount{}
	for _, m := range c.VolumeMounts {
		mounts[m.Name] = m
		if _, ok := volumes[m.Name]; !ok {
			t.Errorf("mount %q has no volume", m.Name)
		}
	}
	if !mounts["registry-auth"].ReadOnly || mounts["registry-auth"].MountPath != "/secret" || mounts["nodecred-dir"].MountPath != "/host/nodecred" {
		t.Errorf("mounts: %+v", c.VolumeMounts)
	}
	if sc := c.SecurityContext; sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation || sc.Privileged != nil && *sc.Privileged {
		t.Errorf("container security context: %+v", c.SecurityContext)
	}
}

func TestCredentialProviderExample(t *testing.T) {
	data, err := os.ReadFile("credential-provider.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := kubelet.ParseConfig(data)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"ecr-credential-provider": "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
		"auth-provider-gcp":       "europe-docker.pkg.dev",
		"acr-credential-provider": "myregistry.azurecr.io",
	}
	for _, p := range cfg.Providers {
		host, ok := want[p.Name]
		if !ok {
			t.Errorf("unexpected provider %q", p.Name)
			continue
		}
		ps, err := hostmatch.ParsePatterns(p.MatchImages)
		if err != nil {
			t.Fatal(err)
		}
		if !ps.Match(host, "team/app") {
			t.Errorf("%s does not match %s", p.Name, host)
		}
		delete(want, p.Name)
	}
	if len(want) > 0 {
		t.Errorf("missing providers: %v", want)
	}
}

func TestContainerdConfigExample(t *testing.T) {
	for _, node := range appendToNodeConfigs(t, "containerd-config.toml") {
		// A kubelet source is checked when it is built, as the kubelet checks
		// its providers: build it from this directory's provider config, with
		// a bin_dir holding every provider that config names.
		sources := append([]sourceconfig.Config(nil), node.Credentials.Sources...)
		for i := range sources {
			if sources[i].Type == sourceconfig.TypeKubelet {
				sources[i].Config, sources[i].BinDir = installedProviders(t)
			}
		}
		if _, err := sourceconfig.Build(sources); err != nil {
			t.Fatal(err)
		}
		if got := node.Credentials.Sources[0].Path; got != "/etc/containerd/nodecred/auth.json" {
			t.Errorf("the dockerconfig source reads %s, not the file the DaemonSet writes", got)
		}
	}
}

// installedProviders returns credential-provider.yaml and a bin_dir with an
// executable for each provider it names.
func installedProviders(t *testing.T) (config, binDir string) {
	t.Helper()
	config, err := filepath.Abs("credential-provider.yaml")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(config)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := kubelet.ParseConfig(data)
	if err != nil {
		t.Fatal(err)
	}
	binDir = t.TempDir()
	for _, p := range cfg.Providers {
		if err := os.WriteFile(filepath.Join(binDir, p.Name), []byte("#!/bin/sh\nexit 1\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return config, binDir
}
