package credentials

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/containerd/log"
	kubeletconfig "k8s.io/kubelet/config/v1"
	"sigs.k8s.io/yaml"
)

const (
	kubeletConfigAPIVersion = "kubelet.config.k8s.io/v1"
	kubeletConfigKind       = "CredentialProviderConfig"
)

// KubeletSource runs kubelet credential provider plugins
// (https://kubernetes.io/docs/tasks/administer-cluster/kubelet-credential-provider/)
// as the kubelet does, from a CredentialProviderConfig file that is re-read
// when it changes, for every pull including the sandbox image.
type KubeletSource struct {
	file *reloadingFile[[]*provider]
}

var _ Source = (*KubeletSource)(nil)

// NewKubeletSource reads the providers from configPath; their executables
// are in binDir.
func NewKubeletSource(configPath, binDir string, timeout time.Duration) *KubeletSource {
	return &KubeletSource{file: newReloadingFile(configPath, false, func(data []byte) ([]*provider, error) {
		cfg, err := ParseKubeletConfig(data)
		if err != nil {
			return nil, err
		}
		return newProviders(cfg, binDir, timeout, execRunner{}, nil), nil
	})}
}

// Get asks, in order, the providers whose matchImages match the contacted
// host, and returns the first credential one of them has for it. A
// provider that fails is logged once and skipped.
func (s *KubeletSource) Get(ctx context.Context, req Request) (Credential, error) {
	providers, ok := s.file.Load(ctx)
	if !ok {
		return Credential{}, nil
	}
	return askProviders(ctx, providers, req), nil
}

func askProviders(ctx context.Context, providers []*provider, req Request) Credential {
	host := req.Host
	if canonicalHost(host) == "docker.io" {
		host = "docker.io"
	}
	path := req.RepoPath()
	image := req.ImageAt(host)
	for _, p := range providers {
		if !p.match.Match(host, path) {
			continue
		}
		if c := p.get(ctx, image, host, path); !c.IsZero() {
			return c
		}
	}
	return Credential{}
}

// ParseKubeletConfig parses a CredentialProviderConfig in YAML or JSON and
// checks it as the kubelet does. Unknown fields are errors.
func ParseKubeletConfig(data []byte) (*kubeletconfig.CredentialProviderConfig, error) {
	j, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, errors.New("invalid YAML")
	}
	// Service account tokens are refused before the typed decode, so that
	// the message is the same with kubelet API types that predate them.
	var loose struct {
		Providers []struct {
			TokenAttributes json.RawMessage `json:"tokenAttributes"`
		} `json:"providers"`
	}
	if json.Unmarshal(j, &loose) == nil {
		for i, p := range loose.Providers {
			if len(p.TokenAttributes) > 0 && string(p.TokenAttributes) != "null" {
				return nil, fmt.Errorf("providers[%d].tokenAttributes: service account tokens belong to a pod, and containerd pulls for the node", i)
			}
		}
	}
	var cfg kubeletconfig.CredentialProviderConfig
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return nil, fmt.Errorf("invalid CredentialProviderConfig: %w", scrubJSONError(err))
	}
	if cfg.APIVersion != kubeletConfigAPIVersion || cfg.Kind != kubeletConfigKind {
		return nil, fmt.Errorf("apiVersion %q, kind %q: want %s %s", cfg.APIVersion, cfg.Kind, kubeletConfigAPIVersion, kubeletConfigKind)
	}
	if len(cfg.Providers) == 0 {
		return nil, errors.New("providers: none configured")
	}
	seen := map[string]bool{}
	for i, p := range cfg.Providers {
		field := fmt.Sprintf("providers[%d]", i)
		switch {
		case p.Name == "" || strings.ContainsAny(p.Name, `/\`) || p.Name == "." || p.Name == "..":
			return nil, fmt.Errorf("%s.name: %q is not a file name in bin_dir", field, p.Name)
		case seen[p.Name]:
			return nil, fmt.Errorf("%s.name: %q is configured twice", field, p.Name)
		case len(p.MatchImages) == 0:
			return nil, fmt.Errorf("%s.matchImages: required", field)
		case p.DefaultCacheDuration == nil || p.DefaultCacheDuration.Duration < 0:
			return nil, fmt.Errorf("%s.defaultCacheDuration: required and not negative", field)
		case p.APIVersion != providerAPIVersion:
			return nil, fmt.Errorf("%s.apiVersion: %q is not supported (want %s)", field, p.APIVersion, providerAPIVersion)
		}
		if _, err := ParsePatterns(p.MatchImages); err != nil {
			return nil, fmt.Errorf("%s.matchImages%w", field, err)
		}
		seen[p.Name] = true
	}
	return &cfg, nil
}

func newProviders(cfg *kubeletconfig.CredentialProviderConfig, binDir string, timeout time.Duration, run runner, clock func() time.Time) []*provider {
	ps := make([]*provider, 0, len(cfg.Providers))
	for _, p := range cfg.Providers {
		match, _ := ParsePatterns(p.MatchImages) // checked by ParseKubeletConfig
		env := make([]string, 0, len(p.Env))
		for _, e := range p.Env {
			env = append(env, e.Name+"="+e.Value)
		}
		ps = append(ps, &provider{
			name:         p.Name,
			path:         filepath.Join(binDir, p.Name),
			match:        match,
			defaultCache: p.DefaultCacheDuration.Duration,
			apiVersion:   p.APIVersion,
			args:         p.Args,
			env:          env,
			timeout:      timeout,
			run:          run,
			cache:        newExpiring[*providerAnswer](clock),
		})
	}
	return ps
}

func logProviderFailure(ctx context.Context, p *provider, err error, stderr []byte) {
	log.G(ctx).WithFields(log.Fields{
		"provider": p.name,
		"error":    err.Error(),
		"stderr":   redactOutput(stderr),
	}).Warn("nodecred: credential provider failed; treating it as a miss")
}
