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

// Package dockerconfig serves the credentials of a docker config.json or
// a containers auth.json, re-read when it changes: its auths, and its
// credHelpers and credsStore through the docker credential helpers they
// name, as docker picks among them.
package dockerconfig

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/nodecred/nodecred/credentials"
	"github.com/nodecred/nodecred/credentials/helper"
	"github.com/nodecred/nodecred/internal/filewatch"
	"github.com/nodecred/nodecred/internal/hostmatch"
	"github.com/nodecred/nodecred/internal/jsonerr"
	"github.com/nodecred/nodecred/internal/redact"
)

// Config is a parsed docker config.json or containers auth.json: its
// "auths" keyed by normalised host, and its credHelpers and credsStore.
type Config struct {
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
	cred login
}

// login is what an auths entry holds. A dockerAuth keeps it rather than a
// whole credentials.Credential, whose other fields it never sets, because a
// config holds one per host and its heap is bounded (MaxFileSize).
type login struct {
	username                string
	password, identityToken credentials.Secret
}

// IsZero reports whether l holds no credential.
func (l login) IsZero() bool {
	return l.username == "" && l.password == "" && l.identityToken == ""
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

// Parse parses a docker config file. Its errors name fields,
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
func Parse(data []byte) (Config, error) {
	var f dockerConfigFile
	if len(bytes.TrimSpace(data)) == 0 {
		// Docker reads an empty file as no credentials; here it is what an
		// in-place write shows before it is done, so it keeps the last
		// good contents.
		return Config{}, errors.New("the file is empty")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&f); err != nil {
		err = jsonerr.Scrub(err)
		if typ, ok := err.(*jsonerr.TypeError); ok {
			err = dockerConfigFieldError(typ)
		}
		return Config{}, fmt.Errorf("invalid docker config: %w", err)
	}
	cfg := Config{hosts: map[string][]dockerAuth{}, helpers: map[string]string{}, store: f.CredsStore}
	helperKeys, err := sortAuthKeys(f.CredHelpers)
	if err != nil {
		return Config{}, fmt.Errorf("credHelpers: %w", err)
	}
	for _, k := range helperKeys {
		name := f.CredHelpers[k.key]
		if name != "" && helper.CheckName(name) != nil { // "": this host uses auths, even with credsStore set
			return Config{}, fmt.Errorf("credHelpers[%q]: %s", showKey(k.key), notAHelperName)
		}
		if _, dup := cfg.helpers[k.host]; dup || k.path != "" {
			continue
		}
		cfg.helpers[k.host] = name
	}
	if f.CredsStore != "" && helper.CheckName(f.CredsStore) != nil {
		return Config{}, fmt.Errorf("credsStore: %s", notAHelperName)
	}
	keys, err := sortAuthKeys(f.Auths)
	if err != nil {
		return Config{}, fmt.Errorf("auths: %w", err)
	}
	for _, k := range keys {
		key, host, path := k.key, k.host, k.path
		cred, err := f.Auths[key].credential()
		if err != nil {
			return Config{}, fmt.Errorf("auths[%q].%w", showKey(key), err)
		}
		if cred.IsZero() || cfg.has(host, path) {
			continue
		}
		cfg.hosts[host] = append(cfg.hosts[host], dockerAuth{path: path, cred: cred})
	}
	return cfg, nil
}

func (c Config) has(host, path string) bool {
	for _, a := range c.hosts[host] {
		if a.path == path {
			return true
		}
	}
	return false
}

// Lookup returns the credential for host and repository path: the entry with
// the longest path prefix of repoPath wins over a whole-host entry.
func (c Config) Lookup(host, repoPath string) credentials.Credential {
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
		return credentials.Credential{}
	}
	return credentials.Credential{Username: best.cred.username, Password: best.cred.password, IdentityToken: best.cred.identityToken}
}

func (e dockerAuthEntry) credential() (login, error) {
	l := login{username: e.Username, password: credentials.Secret(e.Password)}
	if e.Auth != "" {
		raw, err := base64.StdEncoding.DecodeString(e.Auth)
		if err != nil {
			return login{}, errors.New("auth: not valid base64 (value not shown)")
		}
		user, pass, ok := strings.Cut(string(raw), ":")
		if !ok {
			return login{}, errors.New("auth: decoded value is not user:password (value not shown)")
		}
		l.username, l.password = user, credentials.Secret(strings.Trim(pass, "\x00"))
	}
	if e.IdentityToken != "" {
		l.identityToken = credentials.Secret(e.IdentityToken)
	}
	return l, nil
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
		return k.key == helper.DockerHubServerURL
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
func (c Config) helperFor(host string) string {
	if name, ok := c.helpers[hostmatch.CanonicalHost(host)]; ok {
		return name
	}
	return c.store
}

// MaxFileSize bounds a docker config (path): a larger file is not read,
// and keeps the last good contents, as a malformed one does. A docker
// config with 10 000 hosts is 0.6 MB. See TestFileHeapBound and
// docs/config.md.
const MaxFileSize = 1 << 20

// Source serves a docker config file, re-read when it changes:
// its auths, and its credHelpers and credsStore through the docker
// credential helpers they name.
type Source struct {
	file    *filewatch.File[Config]
	helpers *helperSet
}

var (
	_ credentials.Source = (*Source)(nil)
	_ io.Closer          = (*Source)(nil)
)

// New returns a source for the docker config file at path.
// A missing file is not an error: it may appear later. Helpers it names run
// with timeout.
func New(path string, timeout time.Duration, opts ...credentials.Option) *Source {
	s := &Source{
		file:    filewatch.New(path, MaxFileSize, true, Parse),
		helpers: newHelperSet(timeout, credentials.Renewal(opts...)),
	}
	// A helper the new contents no longer name runs no more.
	s.file.Replaced = func(_, cfg Config) { s.helpers.keepOnly(cfg.helperNames(), false) }
	return s
}

// Get answers with the helper docker would ask for the contacted host (its
// credHelpers entry, else credsStore), else with its auths entry.
func (s *Source) Get(ctx context.Context, req credentials.Request) (credentials.Credential, error) {
	cfg, ok := s.file.Load(ctx)
	if !ok {
		return credentials.Credential{}, nil
	}
	path := req.RepoPath()
	if name := cfg.helperFor(req.Host); name != "" {
		h, err := s.helpers.get(name)
		if err != nil {
			return credentials.Credential{}, err
		}
		return h.Get(ctx, req.Host)
	}
	return cfg.Lookup(req.Host, path), nil
}

// Close stops the renewals of every helper the docker config named; none
// is run again.
func (s *Source) Close() error {
	s.helpers.keepOnly(nil, true)
	return nil
}

// helperNames are the helpers a docker config names.
func (c Config) helperNames() map[string]bool {
	names := map[string]bool{}
	for _, name := range c.helpers {
		if name != "" {
			names[name] = true
		}
	}
	if c.store != "" {
		names[c.store] = true
	}
	return names
}
