package config

import (
	"context"
	"fmt"

	srvconfig "github.com/containerd/containerd/v2/cmd/containerd/server/config"
)

// criDefaultHostsDir is what CRI uses on Linux when config_path is unset.
const criDefaultHostsDir = "/etc/containerd/certs.d"

// Node is what the CLI needs from containerd's config file.
type Node struct {
	// Credentials is the nodecred section; its zero value when absent.
	Credentials Config
	// HostsDir is CRI's registry config_path.
	HostsDir string
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
	return node, nil
}

// criHostsDir finds CRI's registry config_path in a version 3 config
// ("io.containerd.cri.v1.images") or a version 2 one ("io.containerd.grpc.v1.cri").
func criHostsDir(c srvconfig.Config) string {
	for _, section := range []string{"io.containerd.cri.v1.images", "io.containerd.grpc.v1.cri"} {
		plugin, _ := c.Plugins[section].(map[string]any)
		reg, _ := plugin["registry"].(map[string]any)
		if p, _ := reg["config_path"].(string); p != "" {
			return p
		}
	}
	return criDefaultHostsDir
}
