package credentials

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Source types accepted in SourceConfig.Type.
const (
	TypeDockerConfig = "dockerconfig"
	TypeHelper       = "helper"
	TypeKubelet      = "kubelet"
	TypeStatic       = "static"
)

// SourceConfig is one entry of the plugin's `sources` list. Which fields
// apply depends on Type.
type SourceConfig struct {
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
	// 1m, the kubelet's bound (helper, kubelet, and the helpers a dockerconfig names).
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
	Password Secret `toml:"password"`
}

// Build turns the configured sources into a Chain, in order. Errors name the
// field and its value, e.g. `sources[1].type: unknown source type "foo"`.
func Build(cfgs []SourceConfig) (Chain, error) {
	chain := make(Chain, 0, len(cfgs))
	for i, c := range cfgs {
		field := fmt.Sprintf("sources[%d]", i)
		s, name, err := build(c)
		if err != nil {
			return nil, fmt.Errorf("%s.%w", field, err)
		}
		chain = append(chain, Named{Name: name, Source: s})
	}
	return chain, nil
}

func build(c SourceConfig) (Source, string, error) {
	if err := refuseExec(c.Type, canKillTree); err != nil {
		return nil, "", err
	}
	timeout, err := parseTimeout(c.Timeout)
	if err != nil {
		return nil, "", err
	}
	if len(c.Env) > 0 && c.Type != TypeHelper {
		return nil, "", fmt.Errorf("env: only type %q takes env (a kubelet provider's env is in its CredentialProviderConfig)", TypeHelper)
	}
	if c.Renew != nil && c.Type == TypeStatic {
		return nil, "", fmt.Errorf("renew: type %q runs no program to renew", c.Type)
	}
	renewal := WithRenewal(c.Renew == nil || *c.Renew)
	switch c.Type {
	case TypeDockerConfig:
		if err := absPath("path", c.Path); err != nil {
			return nil, "", err
		}
		return NewDockerConfigSource(c.Path, timeout, renewal), "dockerconfig:" + c.Path, nil
	case TypeHelper:
		if c.Helper == "" {
			return nil, "", fmt.Errorf("helper: required for type %q", c.Type)
		}
		program, err := ResolveHelper(c.Helper)
		if err != nil {
			return nil, "", fmt.Errorf("helper: %w", err)
		}
		hosts, err := ParsePatterns(c.Hosts)
		if err != nil {
			return nil, "", fmt.Errorf("hosts%w", err)
		}
		env, err := envList(c.Env)
		if err != nil {
			return nil, "", err
		}
		return NewHelperSource(program, env, hosts, timeout, renewal), "helper:" + c.Helper, nil
	case TypeKubelet:
		if err := absPath("config", c.Config); err != nil {
			return nil, "", err
		}
		if err := absPath("bin_dir", c.BinDir); err != nil {
			return nil, "", err
		}
		// Checked now, as the kubelet checks its providers when it starts.
		s, err := OpenKubeletSource(c.Config, c.BinDir, timeout, renewal)
		if err != nil {
			return nil, "", err
		}
		return s, "kubelet:" + c.Config, nil
	case TypeStatic:
		if len(c.Hosts) == 0 {
			return nil, "", fmt.Errorf("hosts: required for type %q", c.Type)
		}
		hosts, err := ParsePatterns(c.Hosts)
		if err != nil {
			return nil, "", fmt.Errorf("hosts%w", err)
		}
		if c.Username == "" {
			return nil, "", fmt.Errorf("username: required for type %q", c.Type)
		}
		name := "static:" + strings.Join(c.Hosts, ",")
		switch {
		case c.PasswordFile != "" && c.Password != "":
			return nil, "", fmt.Errorf("password_file: %q is set together with password; set only one", c.PasswordFile)
		case c.PasswordFile != "":
			if err := absPath("password_file", c.PasswordFile); err != nil {
				return nil, "", err
			}
			return NewStaticFileSource(hosts, c.Username, c.PasswordFile), name, nil
		case c.Password != "":
			return NewStaticSource(hosts, c.Username, c.Password), name, nil
		default:
			return nil, "", fmt.Errorf("password_file: required for type %q (or password)", c.Type)
		}
	case "":
		return nil, "", fmt.Errorf("type: required (one of %s, %s, %s, %s)", TypeDockerConfig, TypeHelper, TypeKubelet, TypeStatic)
	default:
		return nil, "", fmt.Errorf("type: unknown source type %q (want %s, %s, %s or %s)", c.Type, TypeDockerConfig, TypeHelper, TypeKubelet, TypeStatic)
	}
}

// envList turns an env table into NAME=value entries, sorted by name so
// that runs are reproducible. Names are checked; values, which may be
// secrets, are never shown.
func envList(env map[string]string) ([]string, error) {
	names := make([]string, 0, len(env))
	for name := range env {
		if name == "" || strings.ContainsAny(name, "=\x00") {
			return nil, fmt.Errorf("env: %q is not an environment variable name", name)
		}
		names = append(names, name)
	}
	sort.Strings(names)
	list := make([]string, 0, len(names))
	for _, name := range names {
		if strings.ContainsRune(env[name], 0) {
			return nil, fmt.Errorf("env[%q]: value holds a NUL byte (value not shown)", name)
		}
		list = append(list, name+"="+env[name])
	}
	return list, nil
}

func parseTimeout(s string) (time.Duration, error) {
	if s == "" {
		return defaultExecTimeout, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("timeout: %q is not a positive duration such as \"10s\"", s)
	}
	return d, nil
}

func absPath(field, p string) error {
	if p == "" {
		return fmt.Errorf("%s: required", field)
	}
	if !filepath.IsAbs(p) {
		return fmt.Errorf("%s: %q is not an absolute path", field, p)
	}
	return nil
}
