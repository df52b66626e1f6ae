package credentials

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/containerd/log"
	kubeletconfig "k8s.io/kubelet/config/v1"
	"sigs.k8s.io/yaml"
)

const kubeletConfigKind = "CredentialProviderConfig"

// KubeletSource runs kubelet credential provider plugins
// (https://kubernetes.io/docs/tasks/administer-cluster/kubelet-credential-provider/)
// as the kubelet does, from a CredentialProviderConfig file that is re-read
// when it changes, for every pull including the sandbox image.
type KubeletSource struct {
	file *reloadingFile[[]*provider]
}

var _ Source = (*KubeletSource)(nil)

// NewKubeletSource reads the providers from configPath; their executables
// are in binDir. Unlike OpenKubeletSource, it checks nothing until the
// first lookup.
func NewKubeletSource(configPath, binDir string, timeout time.Duration, opts ...Option) *KubeletSource {
	renew := applyOptions(opts).renew
	return &KubeletSource{file: newReloadingFile(configPath, maxKubeletConfigSize, false, func(data []byte) ([]*provider, error) {
		cfg, err := ParseKubeletConfig(data)
		if err != nil {
			return nil, err
		}
		providers := newProviders(cfg, binDir, timeout, execRunner{}, nil)
		for _, p := range providers {
			p.cache.renew = renew
		}
		return providers, nil
	})}
}

// Get asks, in order, the providers whose matchImages match the contacted
// host, and returns the first credential one of them has for it. A
// provider that fails is skipped; its failure is the source's error when
// no other provider served.
func (s *KubeletSource) Get(ctx context.Context, req Request) (Credential, error) {
	providers, ok := s.file.Load(ctx)
	if !ok {
		return Credential{}, nil
	}
	return askProviders(ctx, providers, req)
}

func askProviders(ctx context.Context, providers []*provider, req Request) (Credential, error) {
	host := req.Host
	if canonicalHost(host) == "docker.io" {
		host = "docker.io"
	}
	path := req.RepoPath()
	image := req.ImageAt(host)
	var errs []error
	for _, p := range providers {
		if !p.match.Match(host, path) {
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
	return Credential{}, errors.Join(errs...)
}

// ParseKubeletConfig parses a CredentialProviderConfig in YAML or JSON, of
// any version the kubelet accepts (kubelet.config.k8s.io/v1, v1beta1 or
// v1alpha1), and checks it as the kubelet does. It decodes as the kubelet's
// strict codec does: unknown, duplicate and wrongly-cased fields are
// errors. The result is in the v1 types, whose fields are every version's;
// its apiVersion is the file's. Errors name fields, never values: a
// provider's env may hold secrets.
func ParseKubeletConfig(data []byte) (*kubeletconfig.CredentialProviderConfig, error) {
	j, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return nil, invalidYAML(err)
	}
	var loose struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Providers  []struct {
			TokenAttributes json.RawMessage `json:"tokenAttributes"`
		} `json:"providers"`
	}
	if err := json.Unmarshal(j, &loose); err != nil {
		return nil, fmt.Errorf("invalid CredentialProviderConfig: %w", scrubJSONError(err))
	}
	// Service account tokens are refused first, in every version: the
	// kubelet takes them only in v1 (in v1alpha1 and v1beta1 they are an
	// unknown field), so the message is the same whatever the version.
	for i, p := range loose.Providers {
		if len(p.TokenAttributes) > 0 && string(p.TokenAttributes) != "null" {
			return nil, fmt.Errorf("providers[%d].tokenAttributes: service account tokens belong to a pod, and containerd pulls for the node", i)
		}
	}
	if !slices.Contains(kubeletConfigVersions, loose.APIVersion) || loose.Kind != kubeletConfigKind {
		return nil, fmt.Errorf("apiVersion %q, kind %q: want %s %s", loose.APIVersion, loose.Kind, wantVersions(kubeletConfigVersions), kubeletConfigKind)
	}
	var cfg kubeletconfig.CredentialProviderConfig
	if err := decodeStrict(j, &cfg); err != nil {
		return nil, fmt.Errorf("invalid CredentialProviderConfig: %w", err)
	}
	if len(cfg.Providers) == 0 {
		return nil, errors.New("providers: none configured")
	}
	seen := map[string]bool{}
	for i, p := range cfg.Providers {
		field := fmt.Sprintf("providers[%d]", i)
		switch {
		case p.Name == "" || strings.ContainsAny(p.Name, `/\ `) || p.Name == "." || p.Name == "..":
			return nil, fmt.Errorf("%s.name: %q is not a file name in bin_dir", field, p.Name)
		case seen[p.Name]:
			return nil, fmt.Errorf("%s.name: %q is configured twice", field, p.Name)
		case len(p.MatchImages) == 0:
			return nil, fmt.Errorf("%s.matchImages: required", field)
		case p.DefaultCacheDuration == nil || p.DefaultCacheDuration.Duration < 0:
			return nil, fmt.Errorf("%s.defaultCacheDuration: required and not negative", field)
		case p.APIVersion == "":
			return nil, fmt.Errorf("%s.apiVersion: required (%s)", field, wantVersions(providerAPIVersions))
		case !slices.Contains(providerAPIVersions, p.APIVersion):
			return nil, fmt.Errorf("%s.apiVersion: %q is not supported (want %s)", field, p.APIVersion, wantVersions(providerAPIVersions))
		}
		if _, err := ParsePatterns(p.MatchImages); err != nil {
			return nil, fmt.Errorf("%s.matchImages%w", field, err)
		}
		seen[p.Name] = true
	}
	return &cfg, nil
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
			cache:        newAnswers[*providerAnswer]("provider", p.Name, clock, true),
		})
	}
	return ps
}

// logSkippedProviders logs, once each, the failures of providers that a
// later provider made up for, so that they are not lost.
func logSkippedProviders(ctx context.Context, errs []error) {
	for _, err := range errs {
		if unreported(err) {
			log.G(ctx).WithError(err).Warn("nodecred: credential provider failed, a later one served")
		}
	}
}
