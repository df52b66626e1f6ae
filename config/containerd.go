package config

import (
	"context"
	"fmt"

	srvconfig "github.com/containerd/containerd/v2/cmd/containerd/server/config"
	"github.com/containerd/containerd/v2/version"
	"github.com/containerd/plugin"
	"github.com/containerd/plugin/registry"
	"github.com/pelletier/go-toml/v2"

	"github.com/nodecred/nodecred/credentials"
	"github.com/nodecred/nodecred/cripull"
)

// criDefaultHostsDir is what CRI uses on Linux when config_path is unset.
const criDefaultHostsDir = "/etc/containerd/certs.d"

// Node is what the CLI needs from containerd's config file.
type Node struct {
	// Credentials is the nodecred section; its zero value when absent.
	Credentials Config
	// HostsDir is CRI's registry config_path.
	HostsDir string
	// DeprecatedAuths are CRI's deprecated registry.configs.<host>.auth
	// entries, by host.
	DeprecatedAuths map[string]DeprecatedAuth
	// DeprecatedSection names the CRI section they were found in.
	DeprecatedSection string
	// CRI is CRI's pull mode as containerd decides it from this config.
	CRI cripull.Verdict
}

// DeprecatedAuth is one CRI registry.configs.<host>.auth entry.
type DeprecatedAuth struct {
	Username      string
	Password      credentials.Secret
	Auth          credentials.Secret // base64 of user:password
	IdentityToken credentials.Secret
}

// LoadContainerd reads containerd's config file at path (following its
// imports) and returns nodecred's section and CRI's hosts directory.
func LoadContainerd(ctx context.Context, path string) (Node, error) {
	var c srvconfig.Config
	if err := srvconfig.LoadConfig(ctx, path, &c); err != nil {
		return Node{}, fmt.Errorf("failed to load containerd config %s: %w", path, err)
	}
	var node Node
	if raw, ok := c.Plugins[Section].(map[string]any); ok {
		cfg, err := Parse(raw)
		if err != nil {
			return Node{}, fmt.Errorf("%s: [plugins.%q]: %w", path, Section, err)
		}
		node.Credentials = cfg
	}
	node.HostsDir = criHostsDir(c)
	node.DeprecatedSection, node.DeprecatedAuths = deprecatedAuths(c)
	plugins, err := migratedPlugins(context.WithoutCancel(ctx), c)
	if err != nil {
		return Node{}, fmt.Errorf("failed to migrate containerd config %s to version %d: %w", path, version.ConfigVersion, err)
	}
	section, _ := plugins[cripull.Section].(map[string]any)
	settings, err := cripull.FromSection(section)
	if err != nil {
		return Node{}, fmt.Errorf("%s: %w", path, err)
	}
	node.CRI = cripull.Decide(settings)
	return node, nil
}

// migratedPlugins returns a copy of c's plugin sections migrated from c's
// version to the one this containerd reads, as containerd does at start:
// its own migrations, then each registered plugin's (CRI's moves a version
// 2 [plugins."io.containerd.grpc.v1.cri"] into its version 3 sections).
// containerd 2.3 and later migrate each imported file from its own version
// before merging; this migrates the merged config from its version, which
// is the same unless imported files carry versions of their own.
func migratedPlugins(ctx context.Context, c srvconfig.Config) (map[string]any, error) {
	// A deep copy: the migrations edit the sections in place.
	b, err := toml.Marshal(c.Plugins)
	if err != nil {
		return nil, err
	}
	m := srvconfig.Config{Version: c.Version}
	if err := toml.Unmarshal(b, &m.Plugins); err != nil {
		return nil, err
	}
	if m.Plugins == nil {
		m.Plugins = map[string]any{}
	}
	from := m.Version
	if err := m.MigrateConfigTo(ctx, version.ConfigVersion); err != nil {
		return nil, err
	}
	regs := registry.Graph(func(*plugin.Registration) bool { return false })
	for v := from; v < version.ConfigVersion; v++ {
		for _, r := range regs {
			if r.ConfigMigration != nil {
				if err := r.ConfigMigration(ctx, v, m.Plugins); err != nil {
					return nil, err
				}
			}
		}
	}
	return m.Plugins, nil
}

// deprecatedAuths reads registry.configs.<host>.auth from CRI's section of
// a version 3 or version 2 config.
func deprecatedAuths(c srvconfig.Config) (string, map[string]DeprecatedAuth) {
	for _, section := range criSections {
		configs, _ := criRegistry(c, section)["configs"].(map[string]any)
		auths := map[string]DeprecatedAuth{}
		for host, v := range configs {
			hc, _ := v.(map[string]any)
			a, ok := hc["auth"].(map[string]any)
			if !ok {
				continue
			}
			str := func(k string) string { s, _ := a[k].(string); return s }
			auths[host] = DeprecatedAuth{
				Username:      str("username"),
				Password:      credentials.Secret(str("password")),
				Auth:          credentials.Secret(str("auth")),
				IdentityToken: credentials.Secret(str("identitytoken")),
			}
		}
		if len(auths) > 0 {
			return section, auths
		}
	}
	return "", nil
}

// criSections are CRI's image config sections in version 3 and version 2
// configs.
var criSections = []string{"io.containerd.cri.v1.images", "io.containerd.grpc.v1.cri"}

// criRegistry returns the registry table of CRI's section, or nil.
func criRegistry(c srvconfig.Config, section string) map[string]any {
	plugin, _ := c.Plugins[section].(map[string]any)
	reg, _ := plugin["registry"].(map[string]any)
	return reg
}

// criHostsDir finds CRI's registry config_path in a version 3 config
// ("io.containerd.cri.v1.images") or a version 2 one ("io.containerd.grpc.v1.cri").
func criHostsDir(c srvconfig.Config) string {
	for _, section := range criSections {
		if p, _ := criRegistry(c, section)["config_path"].(string); p != "" {
			return p
		}
	}
	return criDefaultHostsDir
}
