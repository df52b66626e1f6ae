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

package kubelet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	providerapi "k8s.io/kubelet/pkg/apis/credentialprovider/v1"

	"github.com/nodecred/nodecred/credentials"
	"github.com/nodecred/nodecred/internal/answercache"
	"github.com/nodecred/nodecred/internal/execprog"
	"github.com/nodecred/nodecred/internal/hostmatch"
	"github.com/nodecred/nodecred/internal/redact"
	"github.com/nodecred/nodecred/metrics"
)

const providerAPIVersion = "credentialprovider.kubelet.k8s.io/v1"

// provider is one kubelet credential provider plugin with its cache.
type provider struct {
	name         string
	file         string // the config file it came from
	spec         string // its definition: a provider with the same one is the same provider
	skip         string // why it never runs; "": it runs
	path         string
	match        hostmatch.Patterns
	matchImages  []string // as configured
	defaultCache time.Duration
	apiVersion   string
	args         []string
	env          []string
	timeout      time.Duration
	cache        *answercache.Cache[*providerAnswer]
	// refresh, when set, re-reads the config if it changed, closing this
	// provider if it is no longer in it; run before a renewal, which no
	// lookup prompted.
	refresh func(ctx context.Context)
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
	key  hostmatch.Pattern
	cred credentials.Credential
}

// get returns the credential for image on host, from the cache (looked up
// Image, then Registry, then Global, as the kubelet does) or from one run of
// the provider shared by every concurrent lookup for the same host.
func (p *provider) get(ctx context.Context, image, host, path string) (credentials.Credential, error) {
	for _, key := range []string{"image:" + image, "registry:" + host, "global"} {
		if a, ok := p.cache.Lookup(key); ok {
			metrics.Cache("provider", p.name, true)
			return p.rejectable(a, key, host, path)
		}
	}
	metrics.Cache("provider", p.name, false)
	a, err := p.flight(ctx, "registry:"+host, image, host)
	if err == nil && a.keyType == providerapi.ImagePluginCacheKeyType && a.image != image {
		// That answer was for another image of this registry.
		a, err = p.flight(ctx, "image:"+image, image, host)
	}
	if err != nil {
		return credentials.Credential{}, err
	}
	return p.rejectable(a, cacheKey(a, image, host), host, path)
}

// rejectable returns the answer's credential for host and path, which the
// one who uses it can reject, dropping the answer from the cache, at most
// once per failure lifetime.
func (p *provider) rejectable(a *providerAnswer, key, host, path string) (credentials.Credential, error) {
	cred, err := a.lookup(host, path)
	if !cred.IsZero() {
		cred = cred.WithReject(p.cache, key)
	}
	return cred, err
}

func (p *provider) flight(ctx context.Context, key, image, host string) (*providerAnswer, error) {
	detached := context.WithoutCancel(ctx)
	return p.cache.Flight(ctx, key, func() *providerAnswer {
		if p.cache.Closed() {
			return &providerAnswer{} // removed from the config since the lookup began: no answer
		}
		a := p.exec(detached, image)
		p.store(detached, a, image, host, true)
		return a
	})
}

// close stops the provider: nothing is run, kept or renewed for it.
func (p *provider) close() { p.cache.Close() }

// cacheKey is where an answer is kept: by its cacheKeyType, as the kubelet
// keeps it; a failure under the registry.
func cacheKey(a *providerAnswer, image, host string) string {
	switch {
	case a.err == nil && a.keyType == providerapi.ImagePluginCacheKeyType:
		return "image:" + image
	case a.err == nil && a.keyType == providerapi.GlobalPluginCacheKeyType:
		return "global"
	}
	return "registry:" + host
}

// store caches an answer under its cacheKey, for its cacheDuration or the
// provider's default; a failure briefly. An answer is renewed ahead of
// expiry while it is in use, with the same image as the request that
// brought it, and replaced only by another answer.
func (p *provider) store(ctx context.Context, a *providerAnswer, image, host string, used bool) {
	key := cacheKey(a, image, host)
	if a.err != nil {
		p.cache.Store(key, a, answercache.FailureTTL(p.timeout), nil, used)
		return
	}
	ttl := p.defaultCache
	if a.duration != nil {
		ttl = *a.duration
	}
	renew := func() bool {
		if p.refresh != nil {
			p.refresh(ctx)
		}
		if p.cache.Closed() {
			return false // removed from the config
		}
		b := p.exec(ctx, image)
		if b.err != nil {
			return false
		}
		p.store(ctx, b, image, host, false)
		return true
	}
	p.cache.Store(key, a, ttl, renew, used)
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
	out, stderr, err := execprog.Run(ctx, execprog.Command{
		Path: p.path, Args: p.args, Env: execprog.Env(p.env), Stdin: req, Timeout: p.timeout,
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
	pe := &credentials.ProgramError{Kind: "provider", Program: p.name, Status: redact.String(err.Error()), Stderr: execprog.StderrReason(stderr)}
	return &providerAnswer{err: fmt.Errorf("failed to run provider %q: %w", p.name, pe)}
}

// parseProviderResponse parses and checks a CredentialProviderResponse as
// the kubelet does: decoded by the kubelet's strict rules (unknown,
// duplicate or wrongly-cased fields and trailing data are errors), its
// apiVersion exactly the one the provider's config names and the request
// carried (any of providerAPIVersions; their responses have the same
// fields), its kind CredentialProviderResponse and its cacheKeyType one of
// the three.
//
// Its errors name the field and what is wrong with it, and never quote the
// response: any of its values, keys included, may be a credential.
//
// Stricter than the kubelet: a negative cacheDuration (which the kubelet
// takes as already expired) and an auth key that is not a host pattern
// (which the kubelet keeps but never matches) fail the whole response.
func parseProviderResponse(data []byte, apiVersion string) (*providerAnswer, error) {
	var resp providerapi.CredentialProviderResponse
	if err := decodeStrict(data, &resp); err != nil {
		return nil, fmt.Errorf("malformed response: %s", responseDecodeError(err))
	}
	if resp.APIVersion != apiVersion {
		return nil, fmt.Errorf("response apiVersion: not %s, the version the provider was asked in (value not shown)", apiVersion)
	}
	if resp.Kind != "CredentialProviderResponse" {
		return nil, errors.New("response kind: not CredentialProviderResponse (value not shown)")
	}
	a := &providerAnswer{keyType: resp.CacheKeyType}
	switch resp.CacheKeyType {
	case providerapi.ImagePluginCacheKeyType, providerapi.RegistryPluginCacheKeyType, providerapi.GlobalPluginCacheKeyType:
	case "":
		return nil, errors.New("response cacheKeyType: required (Image, Registry or Global)")
	default:
		return nil, errors.New("response cacheKeyType: not Image, Registry or Global (value not shown)")
	}
	if resp.CacheDuration != nil {
		if resp.CacheDuration.Duration < 0 {
			return nil, errors.New("response cacheDuration: negative")
		}
		d := resp.CacheDuration.Duration
		a.duration = &d
	}
	for key, auth := range resp.Auth {
		pattern, err := hostmatch.ParsePattern(key)
		if err != nil {
			reason := "is not a host pattern"
			var pe *hostmatch.PatternError
			if errors.As(err, &pe) {
				reason = pe.Reason
			}
			return nil, fmt.Errorf("response auth: a key %s (key not shown)", reason)
		}
		a.auth = append(a.auth, providerAuth{key: pattern, cred: credentials.Credential{Username: auth.Username, Password: credentials.Secret(auth.Password)}})
	}
	return a, nil
}

// lookup returns the credential of the most specific auth key that matches
// host and path. The kubelet would try each matching credential in turn;
// containerd's resolver takes one per host, so nodecred picks the most
// specific.
func (a *providerAnswer) lookup(host, path string) (credentials.Credential, error) {
	if a.err != nil {
		return credentials.Credential{}, a.err
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
		return credentials.Credential{}, nil
	}
	return best.cred, nil
}
