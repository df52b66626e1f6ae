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

// Package kubelet runs kubelet credential provider plugins
// (https://kubernetes.io/docs/tasks/administer-cluster/kubelet-credential-provider/)
// as the kubelet does, from a CredentialProviderConfig file or directory
// that is re-read when it changes: the config's versions and checks, the
// request and response, the cache keyed Image, Registry and Global.
package kubelet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/containerd/log"
	kubeletconfig "k8s.io/kubelet/config/v1"

	"github.com/nodecred/nodecred/credentials"
	"github.com/nodecred/nodecred/internal/answercache"
	"github.com/nodecred/nodecred/internal/filewatch"
	"github.com/nodecred/nodecred/internal/hostmatch"
	"github.com/nodecred/nodecred/internal/logs"
)

const kubeletConfigKind = "CredentialProviderConfig"

// maxConfigFileSize bounds each kubelet config file (config): a larger
// file is not read. A config names a few providers. See TestFileHeapBound and docs/config.md.
const maxConfigFileSize = 64 << 10

// Source runs kubelet credential provider plugins
// (https://kubernetes.io/docs/tasks/administer-cluster/kubelet-credential-provider/)
// as the kubelet does, from a CredentialProviderConfig file, or a directory
// of them, that is re-read when it changes, for every pull including the
// sandbox image.
//
// A re-read keeps what did not change: the same contents change nothing,
// and a provider whose definition is the same keeps its cache and
// renewals. A provider removed or changed is closed: it runs no more, and
// its renewals stop.
type Source struct {
	file    *filewatch.File[[]*provider]
	binDir  string
	timeout time.Duration
	renew   bool

	mu     sync.Mutex
	closed bool
}

var (
	_ credentials.Source = (*Source)(nil)
	_ io.Closer          = (*Source)(nil)
)

// newSource reads the providers from configPath, a file or a
// directory; their executables are in binDir. Unlike Open, it
// checks nothing until the first lookup.
func newSource(configPath, binDir string, timeout time.Duration, opts ...credentials.Option) *Source {
	s := &Source{binDir: binDir, timeout: timeout, renew: credentials.Renewal(opts...)}
	s.file = filewatch.New(configPath, maxConfigFileSize, false, s.parse)
	s.file.Dir, s.file.ReadAll = isKubeletConfigName, readKubeletConfig
	s.file.Replaced = closeReplaced
	return s
}

// parse builds the providers of a config that changed, reusing each
// current provider whose definition is the same.
func (s *Source) parse(data []byte) ([]*provider, error) {
	entries, err := parseKubeletFiles(data)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, nil
	}
	current, _ := s.file.Current()
	providers := buildProviders(entries, s.binDir, s.timeout, nil, s.renew, current)
	for _, p := range providers {
		p.refresh = func(ctx context.Context) { s.file.Load(ctx) }
	}
	return providers, nil
}

// closeReplaced closes the providers of old that new does not keep.
func closeReplaced(old, new []*provider) {
	for _, p := range old {
		if !slices.Contains(new, p) {
			p.close()
		}
	}
}

// Close stops every provider's renewals and runs; the source serves
// nothing afterwards. The plugin closes its sources when containerd stops.
func (s *Source) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.file.Locked(func(providers []*provider) {
		for _, p := range providers {
			p.close()
		}
	})
	return nil
}

// Get asks, in order, the providers whose matchImages match the contacted
// host, and returns the first credential one of them has for it. A
// provider that fails is skipped; its failure is the source's error when
// no other provider served.
func (s *Source) Get(ctx context.Context, req credentials.Request) (credentials.Credential, error) {
	providers, ok := s.file.Load(ctx)
	if !ok || s.isClosed() {
		return credentials.Credential{}, nil
	}
	return askProviders(ctx, providers, req)
}

func askProviders(ctx context.Context, providers []*provider, req credentials.Request) (credentials.Credential, error) {
	host := req.Host
	if hostmatch.CanonicalHost(host) == "docker.io" {
		host = "docker.io"
	}
	path := req.RepoPath()
	image := req.ImageAt(host)
	var errs []error
	for _, p := range providers {
		if p.skip != "" || !p.match.Match(host, path) {
			continue
		}
		c, err := p.get(ctx, image, host, path)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !c.IsZero() {
			logSkippedProviders(ctx, errs)
			return c, nil
		}
	}
	// The failures are the source's error when no provider served.
	return credentials.Credential{}, errors.Join(errs...)
}

func (s *Source) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// ProviderInfo describes a configured provider for nodecred explain.
type ProviderInfo struct {
	// Name is the provider's name, its executable in bin_dir.
	Name string `json:"name"`
	// File is the config file it came from.
	File string `json:"file"`
	// MatchImages are its matchImages.
	MatchImages []string `json:"matchImages"`
	// Skipped, when set, says why it never runs for containerd's pulls.
	Skipped string `json:"skipped,omitempty"`
}

// Providers lists the providers of the current config, in the order they
// are asked.
func (s *Source) Providers(ctx context.Context) []ProviderInfo {
	providers, _ := s.file.Load(ctx)
	infos := make([]ProviderInfo, 0, len(providers))
	for _, p := range providers {
		infos = append(infos, ProviderInfo{Name: p.name, File: p.file, MatchImages: p.matchImages, Skipped: p.skip})
	}
	return infos
}

// lineNumber finds the line a YAML error names.
var lineNumber = regexp.MustCompile(`line (\d+)`)

// invalidYAML reports a YAML error by its line only: the YAML library's
// message can quote the input.
func invalidYAML(err error) error {
	if m := lineNumber.FindStringSubmatch(err.Error()); m != nil {
		return fmt.Errorf("invalid YAML at line %s", m[1])
	}
	return errors.New("invalid YAML")
}

// logSkippedProviders logs, once each, the failures of providers that a
// later provider made up for, so that they are not lost.
func logSkippedProviders(ctx context.Context, errs []error) {
	for _, err := range errs {
		if credentials.Unreported(err) {
			logs.G(ctx).WithError(err).Warn("credential provider failed, a later one served")
		}
	}
}

// newProviders builds the providers of one parsed config file.
func newProviders(cfg *kubeletconfig.CredentialProviderConfig, binDir string, timeout time.Duration, clock func() time.Time) []*provider {
	entries := make([]kubeletProvider, len(cfg.Providers))
	for i, p := range cfg.Providers {
		entries[i] = kubeletProvider{index: i, CredentialProvider: p}
	}
	return buildProviders(entries, binDir, timeout, clock, true, nil)
}

// skipServiceAccount is why a provider with tokenAttributes.requireServiceAccount: true never runs.
const skipServiceAccount = "tokenAttributes.requireServiceAccount is true: it needs a pod's service account token, and containerd pulls for the node, as the kubelet does for a pod without a service account"

// buildProviders builds a provider per entry, or keeps the one of current
// with the same definition, its cache and renewals with it. A provider
// that needs a pod's service account is built skipped, and said once.
func buildProviders(entries []kubeletProvider, binDir string, timeout time.Duration, clock func() time.Time, renew bool, current []*provider) []*provider {
	ps := make([]*provider, 0, len(entries))
	for _, e := range entries {
		def, _ := json.Marshal(e.CredentialProvider)
		spec := fmt.Sprintf("%s\x00%s\x00%s\x00%s", def, e.file, binDir, timeout)
		if i := slices.IndexFunc(current, func(p *provider) bool { return p.spec == spec }); i >= 0 {
			ps = append(ps, current[i])
			continue
		}
		p := e.CredentialProvider
		match, _ := hostmatch.ParsePatterns(p.MatchImages) // checked by validateKubeletProvider
		env := make([]string, 0, len(p.Env))
		for _, e := range p.Env {
			env = append(env, e.Name+"="+e.Value)
		}
		np := &provider{
			name:         p.Name,
			file:         e.file,
			spec:         spec,
			path:         filepath.Join(binDir, p.Name),
			match:        match,
			matchImages:  p.MatchImages,
			defaultCache: p.DefaultCacheDuration.Duration,
			apiVersion:   p.APIVersion,
			args:         p.Args,
			env:          env,
			timeout:      timeout,
			cache:        answercache.New[*providerAnswer]("provider", p.Name, clock, true),
		}
		np.cache.SetRenew(renew)
		np.cache.SetRejectBackoff(answercache.FailureTTL(timeout))
		if needsServiceAccount(p) {
			np.skip = skipServiceAccount
			logs.With(context.TODO(), log.Fields{"provider": p.Name, "file": e.file, "reason": skipServiceAccount}).
				Info("credential provider skipped")
		}
		ps = append(ps, np)
	}
	return ps
}
