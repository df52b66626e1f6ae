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

package migrate

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/containerd/containerd/v2/core/remotes/docker"
	hostsconfig "github.com/containerd/containerd/v2/core/remotes/docker/config"

	"github.com/nodecred/nodecred/nodeconfig"
	"github.com/nodecred/nodecred/test/e2e/harness"
)

// TestHostsFilesMeanWhatCRIMeant writes the hosts.toml files migrate makes
// from CRI's registry.mirrors and registry.configs.*.tls, reads them back
// with containerd's own hosts parser (ConfigureHosts over HostDirFromRoot,
// as the transfer service does), and checks that each registry host gets
// the endpoints CRI's local pull mode gave it, in the same order, with the
// TLS settings containerd 1.7 gave each endpoint's host.
func TestHostsFilesMeanWhatCRIMeant(t *testing.T) {
	certs, err := harness.WriteTLSFiles(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	tls := func(host, keys string) string {
		return fmt.Sprintf("[plugins.\"io.containerd.cri.v1.images\".registry.configs.%q.tls]\n%s\n", host, keys)
	}
	full := fmt.Sprintf("  ca_file = %q\n  cert_file = %q\n  key_file = %q", certs.CA, certs.ClientCert, certs.ClientKey)
	const v3 = "version = 3\n"
	mirror := func(host string, eps ...string) string {
		return fmt.Sprintf("[plugins.\"io.containerd.cri.v1.images\".registry.mirrors.%q]\n  endpoint = [%s]\n", host, `"`+strings.Join(eps, `", "`)+`"`)
	}
	// Each endpoint reads "scheme://host/path capabilities tls", where
	// capabilities are those beyond pull and resolve and tls lists the TLS
	// settings the endpoint's HTTP client carries.
	for _, tt := range []struct {
		name   string
		config string
		want   map[string][]string // registry host → endpoints containerd tries
	}{{
		name:   "mirror then the registry itself",
		config: v3 + mirror("docker.io", "https://mirror.gcr.io"),
		want: map[string][]string{
			"docker.io": {"https://mirror.gcr.io/v2", "https://registry-1.docker.io/v2 push"},
			"quay.io":   {"https://quay.io/v2 push"},
		},
	}, {
		name:   "mirrors keep their order; no fallback where a mirror is the registry",
		config: v3 + mirror("r.example.com", "https://r.example.com", "https://backup.example.com/cache/r", "https://third.example.com/v2"),
		want: map[string][]string{
			"r.example.com": {"https://r.example.com/v2", "https://backup.example.com/cache/r", "https://third.example.com/v2 push"},
		},
	}, {
		name:   "endpoints without a scheme get CRI's default scheme",
		config: v3 + mirror("localhost:5000", "localhost:5001", "registry.internal:5000"),
		want: map[string][]string{
			"localhost:5000": {"http://localhost:5001/v2", "https://registry.internal:5000/v2", "http://localhost:5000/v2 push"},
		},
	}, {
		name:   `"*" mirrors become _default for every other host`,
		config: v3 + mirror("*", "https://cache.example.com") + mirror("quay.io", "https://quay-mirror.example.com"),
		want: map[string][]string{
			"docker.io":     {"https://cache.example.com/v2", "https://registry-1.docker.io/v2 push"},
			"ghcr.io":       {"https://cache.example.com/v2", "https://ghcr.io/v2 push"},
			"quay.io":       {"https://quay-mirror.example.com/v2", "https://quay.io/v2 push"},
			"localhost:443": {"https://cache.example.com/v2", "https://localhost:443/v2 push skip_verify"},
		},
	}, {
		name: "tls of a registry and of a mirror, on every endpoint of that host",
		config: v3 + mirror("docker.io", "https://tls.example.com:5443", "http://plain.example.com:5000") +
			tls("tls.example.com:5443", full) + tls("plain.example.com:5000", "  insecure_skip_verify = true") +
			tls("private.example.com", fmt.Sprintf("  ca_file = %q\n  insecure_skip_verify = true", certs.CA)),
		want: map[string][]string{
			"docker.io":            {"https://tls.example.com:5443/v2 ca client", "http://plain.example.com:5000/v2", "https://registry-1.docker.io/v2 push"},
			"tls.example.com:5443": {"https://tls.example.com:5443/v2 push ca client"},
			"private.example.com":  {"https://private.example.com/v2 push ca skip_verify"},
			"other.example.com":    {"https://other.example.com/v2 push"},
		},
	}, {
		name:   "tls of a loopback registry without a mirror: CRI reached it over http, so no TLS",
		config: v3 + tls("127.0.0.1:5000", "  insecure_skip_verify = true"),
		want: map[string][]string{
			"127.0.0.1:5000": {"http://127.0.0.1:5000/v2 push"},
		},
	}, {
		name:   `a host with tls but no mirrors of its own still gets the "*" mirrors first`,
		config: v3 + mirror("*", "https://cache.example.com") + tls("private.example.com", "  insecure_skip_verify = true"),
		want: map[string][]string{
			"private.example.com": {"https://cache.example.com/v2", "https://private.example.com/v2 push skip_verify"},
		},
	}, {
		name: "version 2 config",
		config: "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\".registry.mirrors.\"docker.io\"]\n  endpoint = [\"https://mirror.gcr.io\"]\n" +
			"[plugins.\"io.containerd.grpc.v1.cri\".registry.configs.\"mirror.gcr.io\".tls]\n  insecure_skip_verify = true\n",
		want: map[string][]string{
			"docker.io":     {"https://mirror.gcr.io/v2 skip_verify", "https://registry-1.docker.io/v2 push"},
			"mirror.gcr.io": {"https://mirror.gcr.io/v2 push skip_verify"},
		},
	}} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := filepath.Join(dir, "config.toml")
			if err := os.WriteFile(cfg, []byte(tt.config), 0o600); err != nil {
				t.Fatal(err)
			}
			cri, err := nodeconfig.LoadCRIImages(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			files, err := hostsFiles(cri)
			if err != nil {
				t.Fatal(err)
			}
			hostsDir := filepath.Join(dir, "certs.d")
			for _, f := range files {
				p := filepath.Join(hostsDir, f.Dir, "hosts.toml")
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, f.Data, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			resolve := hostsconfig.ConfigureHosts(context.Background(), hostsconfig.HostOptions{HostDir: hostsconfig.HostDirFromRoot(hostsDir)})
			for host, want := range tt.want {
				rhosts, err := resolve(host)
				if err != nil {
					t.Fatalf("%s: containerd's parser: %v", host, err)
				}
				var got []string
				for _, h := range rhosts {
					got = append(got, describe(t, h, certs))
				}
				if !slices.Equal(got, want) {
					t.Errorf("%s:\n got  %q\n want %q\nfiles:\n%s", host, got, want, dump(files))
				}
			}
		})
	}
}

// describe writes one registry host as the table above expects it.
func describe(t *testing.T, h docker.RegistryHost, certs harness.TLSFiles) string {
	t.Helper()
	s := h.Scheme + "://" + h.Host + h.Path
	const pullResolve = docker.HostCapabilityPull | docker.HostCapabilityResolve
	if h.Capabilities&pullResolve != pullResolve {
		s += " no-pull-or-resolve"
	}
	if h.Capabilities.Has(docker.HostCapabilityPush) {
		s += " push"
	}
	tr, ok := h.Client.Transport.(*http.Transport)
	if !ok {
		return s + fmt.Sprintf(" transport %T", h.Client.Transport)
	}
	c := tr.TLSClientConfig
	if c == nil {
		return s
	}
	if c.RootCAs != nil {
		data, err := os.ReadFile(certs.CA)
		if err != nil {
			t.Fatal(err)
		}
		block, _ := pem.Decode(data)
		ca, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ca.Verify(x509.VerifyOptions{Roots: c.RootCAs}); err == nil {
			s += " ca"
		}
	}
	if len(c.Certificates) > 0 {
		s += " client"
	}
	if c.InsecureSkipVerify {
		s += " skip_verify"
	}
	return s
}

func dump(files []hostsFile) string {
	var b strings.Builder
	for _, f := range files {
		fmt.Fprintf(&b, "== %s/hosts.toml\n%s", f.Dir, f.Data)
	}
	return b.String()
}

func TestHostsFilesRefuseWhatContainerdRefused(t *testing.T) {
	for _, tt := range []struct {
		name string
		cri  nodeconfig.CRIImages
		want string
	}{{
		name: "certificate without key",
		cri:  nodeconfig.CRIImages{Configs: map[string]nodeconfig.RegistryConfig{"r.io": {TLS: &nodeconfig.RegistryTLS{CertFile: "/etc/c.pem"}}}},
		want: `registry.configs."r.io".tls: cert_file "/etc/c.pem" and key_file "": set both or neither`,
	}, {
		name: "relative CA path",
		cri:  nodeconfig.CRIImages{Configs: map[string]nodeconfig.RegistryConfig{"r.io": {TLS: &nodeconfig.RegistryTLS{CAFile: "ca.pem"}}}},
		want: `registry.configs."r.io".tls.ca_file "ca.pem": not an absolute path`,
	}, {
		name: "endpoint that is not http",
		cri:  nodeconfig.CRIImages{Mirrors: map[string][]string{"docker.io": {"https://m.io", "ftp://m.io"}}},
		want: `registry.mirrors."docker.io".endpoint[1] "ftp://m.io": not an http or https URL with a host`,
	}, {
		name: "endpoint that is not a URL",
		cri:  nodeconfig.CRIImages{Mirrors: map[string][]string{"*": {"https://m.io:port"}}},
		want: `registry.mirrors."*".endpoint[0] "https://m.io:port": parse`,
	}, {
		name: "mirror key that is a path",
		cri:  nodeconfig.CRIImages{Mirrors: map[string][]string{"../etc": {"https://m.io"}}},
		want: `registry.mirrors key "../etc": not a registry host`,
	}, {
		name: "configs key with a path",
		cri:  nodeconfig.CRIImages{Configs: map[string]nodeconfig.RegistryConfig{"r.io/x": {TLS: &nodeconfig.RegistryTLS{InsecureSkipVerify: true}}}},
		want: `registry.configs key "r.io/x": not a registry host`,
	}} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := hostsFiles(tt.cri)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}
