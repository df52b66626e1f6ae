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

// Package sourceconfig turns the `sources` entries of nodecred's config
// into a credentials.Chain: it checks every field as containerd starts, and
// names the field, and its value unless it may be a secret, in each error.
package sourceconfig

import (
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/nodecred/nodecred/credentials"
	"github.com/nodecred/nodecred/credentials/dockerconfig"
	"github.com/nodecred/nodecred/credentials/helper"
	"github.com/nodecred/nodecred/credentials/kubelet"
	"github.com/nodecred/nodecred/credentials/static"
	"github.com/nodecred/nodecred/internal/execprog"
	"github.com/nodecred/nodecred/internal/fielderr"
	"github.com/nodecred/nodecred/internal/filewatch"
	"github.com/nodecred/nodecred/internal/hostmatch"
)

// Source types accepted in Config.Type.
const (
	TypeDockerConfig = "dockerconfig"
	TypeHelper       = "helper"
	TypeKubelet      = "kubelet"
	TypeStatic       = "static"
)

// Config is one entry of the plugin's `sources` list. Which fields
// apply depends on Type; Build refuses a field set for a type that does not
// take it.
type Config struct {
	// Type is dockerconfig, helper, kubelet or static.
	Type string `toml:"type"`
	// Path is the docker config.json or containers auth.json (dockerconfig).
	Path string `toml:"path"`
	// Helper is a docker credential helper: an absolute path, or NAME run as
	// docker-credential-NAME from PATH (helper).
	Helper string `toml:"helper"`
	// Hosts are the host patterns the source answers for (helper, static).
	Hosts []string `toml:"hosts"`
	// Env is set for the helper on top of containerd's own environment,
	// as a kubelet provider's env is (helper). Values are never logged.
	Env map[string]string `toml:"env"`
	// Renew renews a program's answers in the background before they
	// expire while they are in use; default true. False behaves as the
	// kubelet does (helper, kubelet, dockerconfig).
	Renew *bool `toml:"renew"`
	// Timeout bounds one helper or provider run, as a Go duration; default
	// 1m, the kubelet's bound, at most 5m (helper, kubelet, and the helpers
	// a dockerconfig names).
	Timeout string `toml:"timeout"`
	// Config is a kubelet CredentialProviderConfig file (kubelet).
	Config string `toml:"config"`
	// BinDir holds the credential provider executables (kubelet).
	BinDir string `toml:"bin_dir"`
	// Username is the basic-auth user (static).
	Username string `toml:"username"`
	// PasswordFile holds the password; preferred over Password (static).
	PasswordFile string `toml:"password_file"`
	// Password is an inline password; it keeps a secret in config.toml, so
	// prefer PasswordFile (static).
	Password credentials.Secret `toml:"password"`
}

// Build turns the configured sources into a Chain, in order. Errors name the
// field and, unless it may be a secret, its value, e.g.
// `sources[1].type: unknown source type "foo"`.
func Build(cfgs []Config) (credentials.Chain, error) {
	chain := make(credentials.Chain, 0, len(cfgs))
	for i, c := range cfgs {
		field := fmt.Sprintf("sources[%d]", i)
		s, name, err := build(c)
		if err != nil {
			return nil, fielderr.In(field, err)
		}
		chain = append(chain, credentials.Named{Name: name, Type: c.Type, Source: s})
	}
	return chain, nil
}

// renews says whether a source that runs programs renews their answers
// ahead of expiry: unless renew = false.
func (c Config) renews() bool { return c.Renew == nil || *c.Renew }

func build(c Config) (credentials.Source, string, error) {
	if err := checkType(c.Type); err != nil {
		return nil, "", err
	}
	if err := refuseExec(c.Type, execprog.CanKillTree); err != nil {
		return nil, "", err
	}
	if err := CheckKeys(c.Type, c.setKeys()); err != nil {
		return nil, "", err
	}
	timeout, err := parseTimeout(c.Timeout)
	if err != nil {
		return nil, "", err
	}
	renewal := credentials.WithRenewal(c.renews())
	switch c.Type {
	case TypeDockerConfig:
		if err := absPath("path", c.Path); err != nil {
			return nil, "", err
		}
		if err := filewatch.CheckAtStart(c.Path, dockerconfig.MaxFileSize); err != nil {
			return nil, "", fielderr.In("path", err)
		}
		return dockerconfig.New(c.Path, timeout, renewal), "dockerconfig:" + c.Path, nil
	case TypeHelper:
		if c.Helper == "" {
			return nil, "", fielderr.New("helper", "required for type %q", c.Type)
		}
		program, err := helper.Resolve(c.Helper)
		if err != nil {
			return nil, "", fielderr.In("helper", err)
		}
		hosts, err := hostmatch.ParsePatterns(c.Hosts)
		if err != nil {
			return nil, "", fielderr.In("hosts", err)
		}
		env, err := envList(c.Env)
		if err != nil {
			return nil, "", err
		}
		return helper.New(program, env, hosts, timeout, renewal), "helper:" + c.Helper, nil
	case TypeKubelet:
		if err := absPath("config", c.Config); err != nil {
			return nil, "", err
		}
		if err := absPath("bin_dir", c.BinDir); err != nil {
			return nil, "", err
		}
		// Checked now, as the kubelet checks its providers when it starts.
		s, err := kubelet.Open(c.Config, c.BinDir, timeout, renewal)
		if err != nil {
			return nil, "", err
		}
		return s, "kubelet:" + c.Config, nil
	case TypeStatic:
		if len(c.Hosts) == 0 {
			return nil, "", fielderr.New("hosts", "required for type %q", c.Type)
		}
		hosts, err := hostmatch.ParsePatterns(c.Hosts)
		if err != nil {
			return nil, "", fielderr.In("hosts", err)
		}
		if c.Username == "" {
			return nil, "", fielderr.New("username", "required for type %q", c.Type)
		}
		name := "static:" + strings.Join(c.Hosts, ",")
		switch {
		case c.PasswordFile != "" && c.Password != "":
			return nil, "", fielderr.New("password_file", "%q is set together with password; set only one", c.PasswordFile)
		case c.PasswordFile != "":
			if err := absPath("password_file", c.PasswordFile); err != nil {
				return nil, "", err
			}
			if err := filewatch.CheckAtStart(c.PasswordFile, static.MaxPasswordFileSize); err != nil {
				return nil, "", fielderr.In("password_file", err)
			}
			return static.NewFile(hosts, c.Username, c.PasswordFile), name, nil
		case c.Password != "":
			return static.New(hosts, c.Username, c.Password), name, nil
		default:
			return nil, "", fielderr.New("password_file", "required for type %q (or password)", c.Type)
		}
	}
	return nil, "", checkType(c.Type) // not reached: checked first
}

// checkType checks a source's type.
func checkType(typ string) error {
	switch {
	case typ == "":
		return fielderr.New("type", "required (one of %s, %s, %s, %s)", TypeDockerConfig, TypeHelper, TypeKubelet, TypeStatic)
	case sourceKeys[typ] == nil:
		return fielderr.New("type", "unknown source type %q (want %s, %s, %s or %s)", typ, TypeDockerConfig, TypeHelper, TypeKubelet, TypeStatic)
	}
	return nil
}

// sourceKeys lists the keys each source type takes besides type, as
// docs/config.md lists them.
var sourceKeys = map[string][]string{
	TypeDockerConfig: {"path", "renew", "timeout"},
	TypeHelper:       {"helper", "hosts", "env", "renew", "timeout"},
	TypeKubelet:      {"config", "bin_dir", "renew", "timeout"},
	TypeStatic:       {"hosts", "username", "password_file", "password"},
}

// CheckKeys reports the first of keys that a source of type typ does
// not take, naming the key and the type: an operator who sets hosts on a
// dockerconfig source believes it limited to those hosts, and must be told
// it is not. Values are never shown. An unknown type is left to Build.
func CheckKeys(typ string, keys []string) error {
	takes, known := sourceKeys[typ]
	if !known {
		return nil
	}
	for _, key := range keys {
		switch {
		case key == "type" || slices.Contains(takes, key):
		case key == "env":
			return fielderr.New("env", "only type %q takes env (a kubelet provider's env is in its CredentialProviderConfig)", TypeHelper)
		case key == "renew":
			return fielderr.New("renew", "type %q runs no program to renew", typ)
		default:
			return fielderr.New(key, "type %q does not take %s (it takes %s)", typ, key, strings.Join(takes, ", "))
		}
	}
	return nil
}

// setKeys returns the keys of c that are set, by their TOML names, in the
// order of the struct.
func (c Config) setKeys() []string {
	var keys []string
	for _, k := range []struct {
		key string
		set bool
	}{
		{"path", c.Path != ""},
		{"helper", c.Helper != ""},
		{"hosts", c.Hosts != nil},
		{"env", c.Env != nil},
		{"renew", c.Renew != nil},
		{"timeout", c.Timeout != ""},
		{"config", c.Config != ""},
		{"bin_dir", c.BinDir != ""},
		{"username", c.Username != ""},
		{"password_file", c.PasswordFile != ""},
		{"password", c.Password != ""},
	} {
		if k.set {
			keys = append(keys, k.key)
		}
	}
	return keys
}

// envList turns an env table into NAME=value entries, sorted by name so
// that runs are reproducible. Names are checked; values, which may be
// secrets, are never shown.
func envList(env map[string]string) ([]string, error) {
	names := make([]string, 0, len(env))
	for name := range env {
		if name == "" || strings.ContainsAny(name, "=\x00") {
			return nil, fielderr.New("env", "%q is not an environment variable name", name)
		}
		names = append(names, name)
	}
	sort.Strings(names)
	list := make([]string, 0, len(names))
	for _, name := range names {
		if strings.ContainsRune(env[name], 0) {
			return nil, fielderr.New(fmt.Sprintf("env[%q]", name), "value holds a NUL byte (value not shown)")
		}
		list = append(list, name+"="+env[name])
	}
	return list, nil
}

func parseTimeout(s string) (time.Duration, error) {
	if s == "" {
		return execprog.DefaultTimeout, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fielderr.New("timeout", "%q is not a positive duration such as \"10s\"", s)
	}
	if d > maxExecTimeout {
		return 0, fielderr.New("timeout", "%q is more than %s, the longest a helper or provider run may take", s, maxExecTimeout)
	}
	return d, nil
}

// maxExecTimeout bounds timeout: five times the kubelet's own bound on a
// provider run (one minute, not configurable). A lookup waits on a run for
// up to its timeout and a failed run is remembered as long, so a longer
// bound would let one stuck program hold the pulls of its hosts for longer
// than a registry client waits for anything.
const maxExecTimeout = 5 * time.Minute

func absPath(field, p string) error {
	if p == "" {
		return fielderr.New(field, "required")
	}
	if !filepath.IsAbs(p) {
		return fielderr.New(field, "%q is not an absolute path", p)
	}
	return nil
}
