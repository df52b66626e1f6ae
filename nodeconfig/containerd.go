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

package nodeconfig

import (
	"context"
	"fmt"

	srvconfig "github.com/containerd/containerd/v2/cmd/containerd/server/config"

	"github.com/nodecred/nodecred/config"
	"github.com/nodecred/nodecred/credentials"
	"github.com/nodecred/nodecred/cripull"
)

// criDefaultHostsDir is what CRI uses on Linux when config_path is unset.
const criDefaultHostsDir = "/etc/containerd/certs.d"

// Node is what the CLI needs from containerd's config file.
type Node struct {
	// Credentials is the nodecred section; its zero value when absent.
	Credentials config.Config
	// HostsDir is CRI's registry config_path.
	HostsDir string
	// CRI is CRI's pull mode as containerd decides it from this config.
	CRI cripull.Verdict
}

// DeprecatedAuth is one CRI registry.configs.<host>.auth entry.
type DeprecatedAuth struct {
	// Username is username.
	Username string
	// Password is password.
	Password credentials.Secret
	// Auth is auth: base64 of user:password.
	Auth credentials.Secret
	// IdentityToken is identitytoken: a registry refresh token.
	IdentityToken credentials.Secret
}

// LoadContainerd reads containerd's config file at path as containerd
// does (imports, migrations: loadMigrated) and returns nodecred's section,
// CRI's hosts directory and CRI's pull mode. An error about a bad value in
// either section is errdefs.ErrInvalidArgument (a *fielderr.Error); one
// about reading the file is not.
func LoadContainerd(ctx context.Context, path string) (Node, error) {
	c, _, err := loadMigrated(context.WithoutCancel(ctx), path)
	if err != nil {
		return Node{}, err
	}
	var node Node
	if raw, ok := c.Plugins[config.Section].(map[string]any); ok {
		cfg, err := config.Parse(raw)
		if err != nil {
			return Node{}, fmt.Errorf("%s: [plugins.%q]: %w", path, config.Section, err)
		}
		node.Credentials = cfg
	}
	settings, err := criPull(c, path)
	if err != nil {
		return Node{}, err
	}
	node.HostsDir = settings.Registry.ConfigPath
	if node.HostsDir == "" {
		node.HostsDir = criDefaultHostsDir
	}
	node.CRI = cripull.Decide(settings)
	return node, nil
}

// criPull reads the settings that decide CRI's pull mode from c, the
// migrated config read from path, over CRI's defaults: LoadContainerd and
// LoadCRIImages read them alike.
func criPull(c srvconfig.Config, path string) (cripull.Settings, error) {
	section, _ := c.Plugins[cripull.Section].(map[string]any)
	s, err := cripull.FromSection(section)
	if err != nil {
		return cripull.Settings{}, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}
