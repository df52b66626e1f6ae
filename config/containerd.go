package config

import (
	"context"
	"fmt"

	srvconfig "github.com/containerd/containerd/v2/cmd/containerd/server/config"

	"github.com/nodecred/nodecred/credentials"
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
	return node, nil
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
