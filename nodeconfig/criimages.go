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
	"net/url"

	"github.com/nodecred/nodecred/config"
	"github.com/nodecred/nodecred/credentials"
	"github.com/nodecred/nodecred/credentials/sourceconfig"
	"github.com/nodecred/nodecred/cripull"
	"github.com/nodecred/nodecred/internal/fielderr"
)

// CRIImagesSection is CRI's image service section in a version 3 or later
// config; a version 2 config keeps the same keys in criV2Section.
const (
	CRIImagesSection = cripull.Section
	criV2Section     = cripull.V2Section
)

// CRIImages holds the settings of CRI's image service that decide whether
// CRI pulls through the transfer service, and the deprecated registry
// settings that have a hosts.toml equivalent, read as containerd reads them.
type CRIImages struct {
	// V2 is set when the settings came from a version 2 config's
	// [plugins."io.containerd.grpc.v1.cri"] section, where the operator edits them.
	V2 bool
	// Pull are the settings that decide CRI's pull mode, as
	// cripull.FromSection reads them over CRI's defaults: the same reading
	// LoadContainerd decides CRI's pull mode from.
	Pull cripull.Settings
	// Mirrors is registry.mirrors: endpoints by host ("*" for every host).
	Mirrors map[string][]string
	// Configs is registry.configs by host, with registry.auths folded in
	// as containerd folds them.
	Configs map[string]RegistryConfig
	// Auths are the registry.auths keys, by URL, as written.
	Auths []string
	// Nodecred is set when the file (or one it imports) has nodecred's
	// section already.
	Nodecred bool
	// NodecredPaths are the path of each of its sources of type
	// dockerconfig, by index in sources.
	NodecredPaths map[int]string
}

// RegistryConfig is one registry.configs.<host> table.
type RegistryConfig struct {
	// Auth is the auth table; nil when absent.
	Auth *DeprecatedAuth
	// TLS is the tls table, which containerd 2.x no longer reads (1.x did,
	// without config_path); nil when absent.
	TLS *RegistryTLS
}

// RegistryTLS is one registry.configs.<host>.tls table, as containerd 1.7
// read it.
type RegistryTLS struct {
	// CAFile is ca_file: the CA certificate to trust.
	CAFile string
	// CertFile is cert_file: the client certificate.
	CertFile string
	// KeyFile is key_file: the client certificate's key.
	KeyFile string
	// InsecureSkipVerify is insecure_skip_verify.
	InsecureSkipVerify bool
}

// criRegistryConfig decodes what CRIImages holds of the deprecated
// registry tables beyond cripull.Settings, which keeps only their hosts:
// the mirrors' endpoints and each host's auth and tls.
type criRegistryConfig struct {
	Registry struct {
		Mirrors map[string]struct {
			Endpoints []string `toml:"endpoint"`
		} `toml:"mirrors"`
		Configs map[string]struct {
			Auth *criAuth `toml:"auth"`
			TLS  *struct {
				InsecureSkipVerify bool   `toml:"insecure_skip_verify"`
				CAFile             string `toml:"ca_file"`
				CertFile           string `toml:"cert_file"`
				KeyFile            string `toml:"key_file"`
			} `toml:"tls"`
		} `toml:"configs"`
		Auths map[string]criAuth `toml:"auths"`
	} `toml:"registry"`
}

type criAuth struct {
	Username      string `toml:"username"`
	Password      string `toml:"password"`
	Auth          string `toml:"auth"`
	IdentityToken string `toml:"identitytoken"`
}

func (a criAuth) deprecated() *DeprecatedAuth {
	return &DeprecatedAuth{
		Username:      a.Username,
		Password:      credentials.Secret(a.Password),
		Auth:          credentials.Secret(a.Auth),
		IdentityToken: credentials.Secret(a.IdentityToken),
	}
}

// LoadCRIImages reads CRI's image settings from containerd's config file at
// path as containerd does: imports merged, each file migrated to the current
// config version first (a version 2 file's CRI keys move to
// [plugins."io.containerd.cri.v1.images"]), then decoded over containerd's
// defaults. An error about a bad value is errdefs.ErrInvalidArgument (a
// *fielderr.Error); one about reading the file is not.
func LoadCRIImages(ctx context.Context, path string) (CRIImages, error) {
	c, v2, err := loadMigrated(ctx, path)
	if err != nil {
		return CRIImages{}, err
	}
	pull, err := criPull(c, path)
	if err != nil {
		return CRIImages{}, err
	}
	// Quiet: containerd's Decode logs each key criRegistryConfig leaves
	// to cripull.Settings as unknown.
	var dec criRegistryConfig
	if _, err := c.Decode(quietLoader(ctx), CRIImagesSection, &dec); err != nil {
		return CRIImages{}, fmt.Errorf("%s: %w", path, fielderr.New(fmt.Sprintf("[plugins.%q]", CRIImagesSection), "%w", err))
	}
	out := CRIImages{
		V2:            v2,
		Pull:          pull,
		NodecredPaths: map[int]string{},
		Mirrors:       map[string][]string{},
		Configs:       map[string]RegistryConfig{},
	}
	for host, m := range dec.Registry.Mirrors {
		out.Mirrors[host] = m.Endpoints
	}
	if section, ok := c.Plugins[config.Section].(map[string]any); ok {
		out.Nodecred = true
		sources, _ := section["sources"].([]any)
		for i, src := range sources {
			m, _ := src.(map[string]any)
			if typ, _ := m["type"].(string); typ == sourceconfig.TypeDockerConfig {
				if path, ok := m["path"].(string); ok {
					out.NodecredPaths[i] = path
				}
			}
		}
	}
	for host, rc := range dec.Registry.Configs {
		var r RegistryConfig
		if rc.Auth != nil {
			r.Auth = rc.Auth.deprecated()
		}
		if rc.TLS != nil {
			r.TLS = &RegistryTLS{CAFile: rc.TLS.CAFile, CertFile: rc.TLS.CertFile, KeyFile: rc.TLS.KeyFile, InsecureSkipVerify: rc.TLS.InsecureSkipVerify}
		}
		out.Configs[host] = r
	}
	// As containerd's ValidateImageConfig: an auths key is a URL whose
	// host (the key itself when it has no scheme) names the configs entry
	// whose auth it replaces.
	for endpoint, a := range dec.Registry.Auths {
		u, err := url.Parse(endpoint)
		if err != nil {
			return CRIImages{}, fmt.Errorf("%s: %w", path, fielderr.New("registry.auths", "key %q is not a URL: %w", endpoint, err))
		}
		host := endpoint
		if u.Scheme != "" {
			host = u.Host
		}
		r := out.Configs[host]
		r.Auth = a.deprecated()
		out.Configs[host] = r
		out.Auths = append(out.Auths, endpoint)
	}
	return out, nil
}
