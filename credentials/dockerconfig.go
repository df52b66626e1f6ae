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

	"github.com/nodecred/nodecred/internal/filewatch"
	"github.com/nodecred/nodecred/internal/hostmatch"
	"github.com/nodecred/nodecred/internal/jsonerr"
	"github.com/nodecred/nodecred/internal/redact"
)

// DockerConfig is a parsed docker config.json or containers auth.json: its
// "auths" keyed by normalised host, and its credHelpers and credsStore.
type DockerConfig struct {
	hosts map[string][]dockerAuth
	// helpers maps a host to its credHelpers entry; an empty entry means
	// the file's auths, as it does to docker.
	helpers map[string]string
	// store is credsStore: the helper for every host without a
	// credHelpers entry, ahead of auths, as in docker.
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

// ParseDockerConfig parses a docker config file. Its errors name fields,
// host keys and byte positions, never values, because values are secrets:
// a key that is not a host, or reads as a secret, is not shown either.
//
// Keys are matched more loosely than docker matches them, on purpose: all
// of Docker Hub's names are Docker Hub (docker itself only reads
// "https://index.docker.io/v1/", podman writes "docker.io"); URL keys and
// upper-case keys name their host; and an auths key with a path
// ("quay.io/team") serves only repositories under that path, as in
// containers-auth.json, where docker would hand it to every repository of
// the host. A credHelpers key with a path matches nothing, as in docker.
// When several keys name the same host and path, the one docker looks up
// wins ("https://index.docker.io/v1/" for Docker Hub, the bare host
// otherwise), then the first in sorted order.
func ParseDockerConfig(data []byte) (DockerConfig, error) {
	var f dockerConfigFile
	if len(bytes.TrimSpace(data)) == 0 {
		// Docker reads an empty file as no credentials; here it is what an
		// in-place write shows before it is done, so it keeps the last
		// good contents.
		return DockerConfig{}, errors.New("the file is empty")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&f); err != nil {
		err = jsonerr.Scrub(err)
		if typ, ok := err.(*jsonerr.TypeError); ok {
			err = dockerConfigFieldError(typ)
		}
		return DockerConfig{}, fmt.Errorf("invalid docker config: %w", err)
	}
	cfg := DockerConfig{hosts: map[string][]dockerAuth{}, helpers: map[string]string{}, store: f.CredsStore}
	helperKeys, err := sortAuthKeys(f.CredHelpers)
	if err != nil {
		return DockerConfig{}, fmt.Errorf("credHelpers: %w", err)
	}
	for _, k := range helperKeys {
		name := f.CredHelpers[k.key]
		if name != "" && checkHelperName(name) != nil { // "": this host uses auths, even with credsStore set
			return DockerConfig{}, fmt.Errorf("credHelpers[%q]: %s", showKey(k.key), notAHelperName)
		}
		if _, dup := cfg.helpers[k.host]; dup || k.path != "" {
			continue
		}
		cfg.helpers[k.host] = name
	}
	if f.CredsStore != "" && checkHelperName(f.CredsStore) != nil {
		return DockerConfig{}, fmt.Errorf("credsStore: %s", notAHelperName)
	}
	keys, err := sortAuthKeys(f.Auths)
	if err != nil {
		return DockerConfig{}, fmt.Errorf("auths: %w", err)
	}
	for _, k := range keys {
		key, host, path := k.key, k.host, k.path
		cred, err := f.Auths[key].credential()
		if err != nil {
			return DockerConfig{}, fmt.Errorf("auths[%q].%w", showKey(key), err)
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
	auths := c.hosts[hostmatch.CanonicalHost(host)]
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

func (e dockerAuthEntry) credential() (Credential, error) {
	c := Credential{Username: e.Username, Password: Secret(e.Password)}
	if e.Auth != "" {
		raw, err := base64.StdEncoding.DecodeString(e.Auth)
		if err != nil {
			return Credential{}, errors.New("auth: not valid base64 (value not shown)")
		}
		user, pass, ok := strings.Cut(string(raw), ":")
		if !ok {
			return Credential{}, errors.New("auth: decoded value is not user:password (value not shown)")
		}
		c.Username, c.Password = user, Secret(strings.Trim(pass, "\x00"))
	}
	if e.IdentityToken != "" {
		c.IdentityToken = Secret(e.IdentityToken)
	}
	return c, nil
}

// normaliseAuthKey turns an auths or credHelpers key into a host and
// repository path. URL keys ("https://index.docker.io/v1/") keep only their
// host, as docker does; bare keys may carry a path ("quay.io/team"), as
// containers-auth.json allows.
func normaliseAuthKey(key string) (host, path string, err error) {
	if strings.Contains(key, "://") {
		u, err := url.Parse(key)
		if err != nil || u.Host == "" {
			return "", "", errors.New("a key is not a registry host or URL (key not shown)")
		}
		return hostmatch.CanonicalHost(u.Host), "", nil
	}
	host, path, _ = strings.Cut(strings.TrimSuffix(key, "/"), "/")
	if host == "" {
		return "", "", errors.New("a key has no host (key not shown)")
	}
	return hostmatch.CanonicalHost(host), path, nil
}

// notAHelperName says what is wrong with a credHelpers or credsStore value,
// which is not shown.
const notAHelperName = "not a credential helper name: want NAME of docker-credential-NAME, without / \\ or spaces (value not shown)"

// authKey is a config key with its normalised host and path.
type authKey struct{ key, host, path string }

// sortAuthKeys normalises the keys of m and orders them so that, among keys
// for the same host and path, the key docker itself looks up comes first,
// then the rest in sorted order.
func sortAuthKeys[V any](m map[string]V) ([]authKey, error) {
	keys := make([]authKey, 0, len(m))
	for key := range m {
		host, path, err := normaliseAuthKey(key)
		if err != nil {
			return nil, err
		}
		keys = append(keys, authKey{key: key, host: host, path: path})
	}
	sort.Slice(keys, func(i, j int) bool {
		if a, b := keys[i].isDockers(), keys[j].isDockers(); a != b {
			return a
		}
		return keys[i].key < keys[j].key
	})
	return keys, nil
}

// isDockers reports whether k is the key docker's own lookup reads for its
// host (configfile.GetAuthConfig): "https://index.docker.io/v1/" for Docker
// Hub, the host itself for any other.
func (k authKey) isDockers() bool {
	if k.host == "docker.io" {
		return k.key == dockerHubServerURL
	}
	return k.key == k.host
}

// dockerConfigFieldError names the field of a docker config that holds a
// value of the wrong type. encoding/json's path names struct fields only,
// so the host key an entry is under is left out: the byte offset locates
// it. "auths[…].password: wrong type number at byte 40".
func dockerConfigFieldError(e *jsonerr.TypeError) error {
	field := e.Field
	if top, rest, nested := strings.Cut(field, "."); nested {
		field = top + "[…]." + rest
	}
	return fmt.Errorf("%s: wrong type %s at byte %d", field, e.Value, e.Offset)
}

// showKey returns an auths or credHelpers key fit for an error: keys are
// registry hosts, shown as written, unless one reads as a secret (a token
// pasted as a key), which redact replaces.
func showKey(key string) string {
	return redact.String(key)
}

// helperFor returns the credential helper docker would ask for host, or ""
// for the file's auths: the host's credHelpers entry, else credsStore. As
// in docker (configfile.GetCredentialsStore), credsStore serves every host
// without a credHelpers entry, ahead of auths: docker's native store reads
// an auths entry only for fields other than the credential, so with
// credsStore set an auths entry is never sent, and a helper that has no
// credential for the host means no credential.
func (c DockerConfig) helperFor(host string) string {
	if name, ok := c.helpers[hostmatch.CanonicalHost(host)]; ok {
		return name
	}
	return c.store
}

// maxDockerConfigSize bounds a docker config (path): a larger file is not
// read, and keeps the last good contents, as a malformed one does. A
// docker config with 10 000 hosts is 0.6 MB. See TestFileHeapBound and
// docs/config.md.
const maxDockerConfigSize = 1 << 20

// DockerConfigSource serves a docker config file, re-read when it changes:
// its auths, and its credHelpers and credsStore through the docker
// credential helpers they name.
type DockerConfigSource struct {
	file    *filewatch.File[DockerConfig]
	helpers *helperSet
}

var _ Source = (*DockerConfigSource)(nil)

// NewDockerConfigSource returns a source for the docker config file at path.
// A missing file is not an error: it may appear later. Helpers it names run
// with timeout.
func NewDockerConfigSource(path string, timeout time.Duration, opts ...Option) *DockerConfigSource {
	s := &DockerConfigSource{
		file:    filewatch.New(path, maxDockerConfigSize, true, ParseDockerConfig),
		helpers: newHelperSet(timeout, Renewal(opts...)),
	}
	// A helper the new contents no longer name runs no more.
	s.file.Replaced = func(_, cfg DockerConfig) { s.helpers.keepOnly(cfg.helperNames(), false) }
	return s
}

// Get answers with the helper docker would ask for the contacted host (its
// credHelpers entry, else credsStore), else with its auths entry.
func (s *DockerConfigSource) Get(ctx context.Context, req Request) (Credential, error) {
	cfg, ok := s.file.Load(ctx)
	if !ok {
		return Credential{}, nil
	}
	path := req.RepoPath()
	if name := cfg.helperFor(req.Host); name != "" {
		h, err := s.helpers.get(name)
		if err != nil {
			return Credential{}, err
		}
		return h.get(ctx, req.Host)
	}
	return cfg.Lookup(req.Host, path), nil
}
