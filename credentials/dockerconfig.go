package credentials

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"
)

// dockerHubAliases are the names under which docker and the containers tools
// store Docker Hub credentials; containerd contacts registry-1.docker.io.
var dockerHubAliases = map[string]bool{
	"docker.io":            true,
	"index.docker.io":      true,
	"registry-1.docker.io": true,
}

// DockerConfig is the parsed "auths" section of a docker config.json or a
// containers auth.json, keyed by normalised host.
type DockerConfig struct {
	hosts map[string][]dockerAuth
	// helpers maps a host to the credHelpers entry for it.
	helpers map[string]string
	// store is credsStore: the helper for hosts without an auths entry.
	store string
}

type dockerAuth struct {
	path string // repository path prefix, "" for the whole host
	cred Credential
}

// dockerConfigFile is the on-disk form; see
// https://github.com/containers/image/blob/main/docs/containers-auth.json.5.md
type dockerConfigFile struct {
	Auths       map[string]dockerAuthEntry `json:"auths"`
	CredHelpers map[string]string          `json:"credHelpers"`
	CredsStore  string                     `json:"credsStore"`
}

type dockerAuthEntry struct {
	Auth          string `json:"auth"`
	Username      string `json:"username"`
	Password      string `json:"password"`
	IdentityToken string `json:"identitytoken"`
}

// ParseDockerConfig parses a docker config file. Its errors name keys and
// positions, never values, because values are secrets.
func ParseDockerConfig(data []byte) (DockerConfig, error) {
	var f dockerConfigFile
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&f); err != nil {
		return DockerConfig{}, fmt.Errorf("invalid docker config: %w", scrubJSONError(err))
	}
	cfg := DockerConfig{hosts: map[string][]dockerAuth{}, helpers: map[string]string{}, store: f.CredsStore}
	for key, name := range f.CredHelpers {
		host, _, err := normaliseAuthKey(key)
		if err != nil {
			return DockerConfig{}, fmt.Errorf("credHelpers: %w", err)
		}
		if err := checkHelperName(name); err != nil {
			return DockerConfig{}, fmt.Errorf("credHelpers[%q]: %w", key, err)
		}
		cfg.helpers[host] = name
	}
	if err := checkHelperName(f.CredsStore); f.CredsStore != "" && err != nil {
		return DockerConfig{}, fmt.Errorf("credsStore: %w", err)
	}
	keys := make([]string, 0, len(f.Auths))
	for k := range f.Auths {
		keys = append(keys, k)
	}
	sort.Strings(keys) // first key wins when aliases collide: deterministic
	for _, key := range keys {
		host, path, err := normaliseAuthKey(key)
		if err != nil {
			return DockerConfig{}, err
		}
		cred, err := f.Auths[key].credential()
		if err != nil {
			return DockerConfig{}, fmt.Errorf("auths[%q]: %w", key, err)
		}
		if cred.IsZero() || cfg.has(host, path) {
			continue
		}
		cfg.hosts[host] = append(cfg.hosts[host], dockerAuth{path: path, cred: cred})
	}
	return cfg, nil
}

func (c DockerConfig) has(host, path string) bool {
	for _, a := range c.hosts[host] {
		if a.path == path {
			return true
		}
	}
	return false
}

// Lookup returns the credential for host and repository path: the entry with
// the longest path prefix of repoPath wins over a whole-host entry.
func (c DockerConfig) Lookup(host, repoPath string) Credential {
	var best *dockerAuth
	auths := c.hosts[canonicalHost(host)]
	for i, a := range auths {
		if a.path != "" && repoPath != a.path && !strings.HasPrefix(repoPath, a.path+"/") {
			continue
		}
		if best == nil || len(a.path) > len(best.path) {
			best = &auths[i]
		}
	}
	if best == nil {
		return Credential{}
	}
	return best.cred
}

// Len returns the number of credential entries.
func (c DockerConfig) Len() int {
	n := 0
	for _, as := range c.hosts {
		n += len(as)
	}
	return n
}

func (e dockerAuthEntry) credential() (Credential, error) {
	c := Credential{Username: e.Username, Password: Secret(e.Password)}
	if e.Auth != "" {
		raw, err := base64.StdEncoding.DecodeString(e.Auth)
		if err != nil {
			return Credential{}, errors.New("auth: not valid base64")
		}
		user, pass, ok := strings.Cut(string(raw), ":")
		if !ok {
			return Credential{}, errors.New("auth: decoded value is not user:password")
		}
		c.Username, c.Password = user, Secret(strings.Trim(pass, "\x00"))
	}
	if e.IdentityToken != "" {
		c.IdentityToken = Secret(e.IdentityToken)
	}
	return c, nil
}

// normaliseAuthKey turns an auths key into a host and repository path.
// URL keys ("https://index.docker.io/v1/") keep only their host, as docker
// does; bare keys may carry a path ("quay.io/team"), as containers-auth.json
// allows.
func normaliseAuthKey(key string) (host, path string, err error) {
	if strings.Contains(key, "://") {
		u, err := url.Parse(key)
		if err != nil || u.Host == "" {
			return "", "", fmt.Errorf("auths: key %q is not a registry host or URL", key)
		}
		return canonicalHost(u.Host), "", nil
	}
	host, path, _ = strings.Cut(strings.TrimSuffix(key, "/"), "/")
	if host == "" {
		return "", "", fmt.Errorf("auths: key %q has no host", key)
	}
	return canonicalHost(host), path, nil
}

func canonicalHost(host string) string {
	if strings.ContainsFunc(host, func(r rune) bool { return 'A' <= r && r <= 'Z' }) {
		host = strings.ToLower(host)
	}
	if dockerHubAliases[host] {
		return "docker.io"
	}
	return host
}

// scrubJSONError drops the parts of a JSON error that can quote input.
func scrubJSONError(err error) error {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Errorf("syntax error at byte %d", syn.Offset)
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		return fmt.Errorf("field %q: wrong type %s at byte %d", typ.Field, typ.Value, typ.Offset)
	}
	// Unknown-field errors name a key, never a value.
	if msg := err.Error(); strings.HasPrefix(msg, "json: unknown field ") {
		return errors.New(strings.TrimPrefix(msg, "json: "))
	}
	return errors.New("malformed JSON")
}

// helperFor returns the credential helper for host: its credHelpers entry,
// or credsStore when the host has no auths entry either.
func (c DockerConfig) helperFor(host, repoPath string) string {
	if name, ok := c.helpers[canonicalHost(host)]; ok {
		return name
	}
	if c.store != "" && c.Lookup(host, repoPath).IsZero() {
		return c.store
	}
	return ""
}

// DockerConfigSource serves a docker config file, re-read when it changes:
// its auths, and its credHelpers and credsStore through the docker
// credential helpers they name.
type DockerConfigSource struct {
	file    *reloadingFile[DockerConfig]
	helpers *helperSet
}

var _ Source = (*DockerConfigSource)(nil)

// NewDockerConfigSource returns a source for the docker config file at path.
// A missing file is not an error: it may appear later. Helpers it names run
// with timeout.
func NewDockerConfigSource(path string, timeout time.Duration) *DockerConfigSource {
	return &DockerConfigSource{
		file:    newReloadingFile(path, true, ParseDockerConfig),
		helpers: newHelperSet(timeout),
	}
}

// Get answers with the credHelpers entry for the contacted host, else its
// auths entry, else credsStore, as docker does.
func (s *DockerConfigSource) Get(ctx context.Context, req Request) (Credential, error) {
	cfg, ok := s.file.Load(ctx)
	if !ok {
		return Credential{}, nil
	}
	path := req.RepoPath()
	if name := cfg.helperFor(req.Host, path); name != "" {
		h := s.helpers.get(ctx, name)
		if h == nil {
			return Credential{}, nil
		}
		return h.get(ctx, req.Host), nil
	}
	return cfg.Lookup(req.Host, path), nil
}
