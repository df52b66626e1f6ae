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

// Package plan is `nodecred explain` and `nodecred check`: the hosts a pull
// of a reference would contact, configured as containerd's transfer service
// configures them, the credential the node's sources have for each, and,
// for check, each host's answer to a resolve with that credential.
package plan

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"

	"github.com/containerd/containerd/v2/core/remotes/docker"
	"github.com/containerd/containerd/v2/core/remotes/docker/config"
	refspec "github.com/containerd/containerd/v2/pkg/reference"
	"github.com/distribution/reference"
	"github.com/urfave/cli/v3"

	"github.com/nodecred/nodecred/credentials"
	"github.com/nodecred/nodecred/credentials/kubelet"
	"github.com/nodecred/nodecred/credentials/sourceconfig"
	"github.com/nodecred/nodecred/cripull"
	"github.com/nodecred/nodecred/nodeconfig"
)

// criNamespace is the containerd namespace CRI pulls in.
const criNamespace = "k8s.io"

// target is one host a pull of the reference would contact, in order, and
// what the node source has for it.
type target struct {
	Host         string   `json:"host"`
	Role         string   `json:"role"` // "mirror" or "server"
	Capabilities []string `json:"capabilities"`
	Source       string   `json:"source,omitempty"`
	Kind         string   `json:"kind"` // basic, identitytoken or none
	registryHost docker.RegistryHost
}

// plan is what a pull of Ref would do with the node's credentials.
type plan struct {
	Ref       string `json:"ref"`
	Namespace string `json:"namespace"`
	HostsDir  string `json:"hosts_dir"`
	// Scoped is set when the namespace may not use node credentials.
	Scoped bool `json:"namespace_excluded,omitempty"`
	// CRI is CRI's pull mode, for a plan in CRI's namespace.
	CRI     *cripull.Verdict `json:"cri,omitempty"`
	Targets []target         `json:"hosts"`
	// Providers are the kubelet sources' providers, each with the file it
	// came from, in the order they are asked.
	Providers []providerRow `json:"providers,omitempty"`
	// chain is the node source the targets' hosts ask for credentials:
	// check's handshakes ask it again, so it stays open until Close.
	chain credentials.Chain
}

// Close closes the plan's sources: helpers and providers run no more.
func (p *plan) Close() error { return p.chain.Close() }

// providerRow is one kubelet credential provider of a kubelet source.
type providerRow struct {
	Source string `json:"source"`
	kubelet.ProviderInfo
}

// planFlags are the flags explain and check share.
var planFlags = []cli.Flag{
	&cli.StringFlag{Name: "config", Aliases: []string{"c"}, Value: "/etc/containerd/config.toml", Usage: "containerd's config file: the nodecred section, and CRI's registry config_path"},
	&cli.StringFlag{Name: "hosts-dir", Usage: "registry hosts directory (default: CRI's config_path from --config)"},
	&cli.StringFlag{Name: "namespace", Aliases: []string{"n"}, Value: "k8s.io", Usage: "containerd namespace the pull runs in"},
	&cli.BoolFlag{Name: "json", Usage: "print JSON"},
}

type planOptions struct {
	configPath string
	hostsDir   string // overrides the config's
	namespace  string
	// updateClient, if set, is applied to every HTTP client the hosts use.
	updateClient func(*http.Client) error
}

// makePlan reads containerd's config, configures the hosts for ref exactly
// as containerd's transfer service does, and asks the node source about
// each host.
func makePlan(ctx context.Context, opts planOptions, ref string) (*plan, error) {
	node, err := nodeconfig.LoadContainerd(ctx, opts.configPath)
	if err != nil {
		return nil, err
	}
	named, err := reference.ParseDockerRef(ref)
	if err != nil {
		return nil, fmt.Errorf("invalid reference %q: %w", ref, err)
	}
	p := &plan{Ref: named.String(), Namespace: opts.namespace, HostsDir: node.HostsDir}
	if opts.namespace == criNamespace {
		p.CRI = &node.CRI
	}
	if opts.hostsDir != "" {
		p.HostsDir = opts.hostsDir
	}
	chain, err := sourceconfig.Build(node.Credentials.Sources)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", opts.configPath, err)
	}
	// Closed by the caller, after check's handshakes, which ask the chain
	// for credentials again: a closed helper or provider source answers
	// nothing, and check would send no credential.
	p.chain = chain
	ok := false
	defer func() {
		if !ok {
			chain.Close()
		}
	}()
	for _, s := range chain {
		if ks, ok := s.Source.(*kubelet.Source); ok {
			for _, info := range ks.Providers(ctx) {
				p.Providers = append(p.Providers, providerRow{Source: s.Name, ProviderInfo: info})
			}
		}
	}
	ns := node.Credentials.Namespaces
	p.Scoped = len(ns) > 0 && !slices.Contains(ns, opts.namespace)

	spec, err := refspec.Parse(p.Ref)
	if err != nil {
		return nil, err
	}
	lookup := func(host string) credentials.Credential {
		if p.Scoped {
			return credentials.Credential{}
		}
		c, _ := chain.Get(ctx, credentials.Request{Host: host, Ref: p.Ref, Namespace: opts.namespace})
		return c
	}
	hostOpts := config.HostOptions{
		Credentials: func(host string) (string, string, error) {
			c := lookup(host)
			if c.IdentityToken != "" {
				return "", c.IdentityToken.Reveal(), nil
			}
			return c.Username, c.Password.Reveal(), nil
		},
	}
	if p.HostsDir != "" {
		hostOpts.HostDir = config.HostDirFromRoot(p.HostsDir)
	}
	hostOpts.UpdateClient = opts.updateClient
	hosts, err := config.ConfigureHosts(ctx, hostOpts)(spec.Hostname())
	if err != nil {
		return nil, fmt.Errorf("failed to configure hosts for %s from %s: %w", spec.Hostname(), p.HostsDir, err)
	}
	for i, h := range hosts {
		t := target{Host: h.Host, Role: "mirror", registryHost: h}
		if i == len(hosts)-1 {
			t.Role = "server"
		}
		if h.Capabilities.Has(docker.HostCapabilityPull) {
			t.Capabilities = append(t.Capabilities, "pull")
		}
		if h.Capabilities.Has(docker.HostCapabilityResolve) {
			t.Capabilities = append(t.Capabilities, "resolve")
		}
		c := lookup(h.Host)
		t.Source, t.Kind = c.Source, c.Kind()
		p.Targets = append(p.Targets, t)
	}
	ok = true
	return p, nil
}

// criLocal reports whether CRI pulls in the plan's namespace bypass
// nodecred.
func (p *plan) criLocal() bool { return p.CRI != nil && p.CRI.Mode == cripull.Local }

// statusRecorder remembers the last HTTP status each host answered, so
// that check can name a 401 or 403 whatever error the resolver wraps it in.
type statusRecorder struct {
	mu   sync.Mutex
	last map[string]int
}

func (s *statusRecorder) wrap(c *http.Client) error {
	next := c.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	c.Transport = roundTripFunc(func(req *http.Request) (*http.Response, error) {
		resp, err := next.RoundTrip(req)
		if err == nil {
			s.mu.Lock()
			s.last[req.URL.Host] = resp.StatusCode
			s.mu.Unlock()
		}
		return resp, err
	})
	return nil
}

func (s *statusRecorder) status(host string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last[host]
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

func planOptionsFrom(cmd *cli.Command) planOptions {
	return planOptions{configPath: cmd.String("config"), hostsDir: cmd.String("hosts-dir"), namespace: cmd.String("namespace")}
}
