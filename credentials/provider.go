package credentials

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"golang.org/x/sync/singleflight"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	providerapi "k8s.io/kubelet/pkg/apis/credentialprovider/v1"

	"github.com/nodecred/nodecred/metrics"
)

const providerAPIVersion = "credentialprovider.kubelet.k8s.io/v1"

// provider is one kubelet credential provider plugin with its cache.
type provider struct {
	name         string
	path         string
	match        Patterns
	defaultCache time.Duration
	apiVersion   string
	args         []string
	env          []string
	timeout      time.Duration
	run          runner
	cache        *expiring[*providerAnswer]
	group        singleflight.Group
}

// providerAnswer is a provider's parsed response, or the failure of its
// run, which every lookup gets until it expires.
type providerAnswer struct {
	image    string // the image the provider was asked about
	keyType  providerapi.PluginCacheKeyType
	duration *time.Duration // from the response; nil: the provider's default
	auth     []providerAuth
	err      error
}

type providerAuth struct {
	key  Pattern
	cred Credential
}

// get returns the credential for image on host, from the cache (looked up
// Image, then Registry, then Global, as the kubelet does) or from one run of
// the provider shared by every concurrent lookup for the same host.
func (p *provider) get(ctx context.Context, image, host, path string) (Credential, error) {
	for _, key := range []string{"image:" + image, "registry:" + host, "global"} {
		if a, ok := p.cache.Get(key); ok {
			metrics.Cache("provider", p.name, true)
			return a.lookup(host, path)
		}
	}
	metrics.Cache("provider", p.name, false)
	a, err := p.flight(ctx, "registry:"+host, image, host)
	if err == nil && a.keyType == providerapi.ImagePluginCacheKeyType && a.image != image {
		// That answer was for another image of this registry.
		a, err = p.flight(ctx, "image:"+image, image, host)
	}
	if err != nil {
		return Credential{}, err
	}
	return a.lookup(host, path)
}

func (p *provider) flight(ctx context.Context, key, image, host string) (*providerAnswer, error) {
	detached := context.WithoutCancel(ctx)
	return shared(ctx, &p.group, key, func() *providerAnswer {
		a := p.exec(detached, image)
		p.store(a, image, host)
		return a
	})
}

func (p *provider) store(a *providerAnswer, image, host string) {
	if a.err != nil {
		p.cache.Set("registry:"+host, a, failureTTL(p.timeout))
		return
	}
	ttl := p.defaultCache
	if a.duration != nil {
		ttl = *a.duration
	}
	switch a.keyType {
	case providerapi.ImagePluginCacheKeyType:
		p.cache.Set("image:"+image, a, ttl)
	case providerapi.RegistryPluginCacheKeyType:
		p.cache.Set("registry:"+host, a, ttl)
	case providerapi.GlobalPluginCacheKeyType:
		p.cache.Set("global", a, ttl)
	}
}

// exec runs the provider once, as the kubelet does: the request on stdin,
// containerd's environment overlaid by the provider's env, the response on
// stdout.
func (p *provider) exec(ctx context.Context, image string) *providerAnswer {
	req, err := json.Marshal(&providerapi.CredentialProviderRequest{
		TypeMeta: metav1.TypeMeta{APIVersion: p.apiVersion, Kind: "CredentialProviderRequest"},
		Image:    image,
	})
	if err != nil {
		return &providerAnswer{err: fmt.Errorf("failed to encode request for provider %q: %w", p.name, err)}
	}
	start := time.Now()
	out, stderr, err := p.run.Run(ctx, command{
		Path: p.path, Args: p.args, Env: programEnv(p.env), Stdin: req, Timeout: p.timeout,
	})
	if err == nil {
		var a *providerAnswer
		if a, err = parseProviderResponse(out, p.apiVersion); err == nil {
			metrics.Exec("provider", p.name, true, time.Since(start))
			a.image = image
			return a
		}
	}
	metrics.Exec("provider", p.name, false, time.Since(start))
	// A provider reports failure on stderr; its stdout is a response or
	// nothing, and is never quoted.
	pe := &programError{status: redact(err.Error()), stderr: stderrReason(stderr)}
	return &providerAnswer{err: fmt.Errorf("failed to run provider %q: %w", p.name, pe)}
}

// parseProviderResponse parses and checks a CredentialProviderResponse as
// the kubelet does: decoded by the kubelet's strict rules (unknown,
// duplicate or wrongly-cased fields and trailing data are errors), its
// apiVersion exactly the one the provider's config names and the request
// carried (any of providerAPIVersions; their responses have the same
// fields), its kind CredentialProviderResponse and its cacheKeyType one of
// the three. Decode errors are not wrapped: they may quote the response,
// which holds credentials.
//
// Stricter than the kubelet: a negative cacheDuration (which the kubelet
// takes as already expired) and an auth key that is not a host pattern
// (which the kubelet keeps but never matches) fail the whole response.
func parseProviderResponse(data []byte, apiVersion string) (*providerAnswer, error) {
	var resp providerapi.CredentialProviderResponse
	if err := decodeStrict(data, &resp); err != nil {
		return nil, errors.New("malformed response")
	}
	if resp.APIVersion != apiVersion || resp.Kind != "CredentialProviderResponse" {
		return nil, fmt.Errorf("response apiVersion %q, kind %q: want %s CredentialProviderResponse", resp.APIVersion, resp.Kind, apiVersion)
	}
	a := &providerAnswer{keyType: resp.CacheKeyType}
	switch resp.CacheKeyType {
	case providerapi.ImagePluginCacheKeyType, providerapi.RegistryPluginCacheKeyType, providerapi.GlobalPluginCacheKeyType:
	default:
		return nil, fmt.Errorf("response cacheKeyType %q: want Image, Registry or Global", resp.CacheKeyType)
	}
	if resp.CacheDuration != nil {
		if resp.CacheDuration.Duration < 0 {
			return nil, fmt.Errorf("response cacheDuration %s is negative", resp.CacheDuration.Duration)
		}
		d := resp.CacheDuration.Duration
		a.duration = &d
	}
	for key, auth := range resp.Auth {
		pattern, err := ParsePattern(key)
		if err != nil {
			return nil, fmt.Errorf("response auth key: %w", err)
		}
		a.auth = append(a.auth, providerAuth{key: pattern, cred: Credential{Username: auth.Username, Password: Secret(auth.Password)}})
	}
	return a, nil
}

// lookup returns the credential of the most specific auth key that matches
// host and path. The kubelet would try each matching credential in turn;
// containerd's resolver takes one per host, so nodecred picks the most
// specific.
func (a *providerAnswer) lookup(host, path string) (Credential, error) {
	if a.err != nil {
		return Credential{}, a.err
	}
	var best *providerAuth
	for i := range a.auth {
		pa := &a.auth[i]
		if !pa.key.Match(host, path) {
			continue
		}
		if best == nil || len(pa.key.String()) > len(best.key.String()) ||
			(len(pa.key.String()) == len(best.key.String()) && pa.key.String() < best.key.String()) {
			best = pa
		}
	}
	if best == nil {
		return Credential{}, nil
	}
	return best.cred, nil
}
