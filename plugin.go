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

// Package nodecred registers nodecred's credentials plugin with containerd
// and decorates containerd's local transfer service with it. Import it for
// its side effects in a containerd build:
//
//	import _ "github.com/nodecred/nodecred"
package nodecred

import (
	"io"
	"strconv"
	"strings"

	"github.com/containerd/log"
	"github.com/containerd/plugin"
	"github.com/containerd/plugin/registry"

	"github.com/nodecred/nodecred/config"
	"github.com/nodecred/nodecred/credentials"
	"github.com/nodecred/nodecred/credentials/sourceconfig"
	"github.com/nodecred/nodecred/internal/logs"
	"github.com/nodecred/nodecred/transfer"
	"github.com/nodecred/nodecred/version"
)

const (
	// CredentialsPlugin is the plugin type nodecred registers.
	CredentialsPlugin plugin.Type = "io.containerd.credentials.v1"
	// PluginID is the id of the nodecred plugin; its config section is
	// [plugins."io.containerd.credentials.v1.nodecred"].
	PluginID = "nodecred"
)

// rawConfig receives the section with every key, for config.Parse to
// check strictly.
type rawConfig map[string]any

func defaultConfig() *rawConfig {
	c := rawConfig(config.Default())
	return &c
}

// instance is the plugin's instance: the node's one credential source and
// who may use it.
type instance struct {
	source  credentials.Source
	options transfer.Options
	// requireCRITransfer fails containerd's start when CRI pulls locally.
	requireCRITransfer bool
	// exports are the plugin's exports, which CRI's image service
	// completes with its pull mode once it has started (cri.go).
	exports map[string]string
}

// Close closes the node's sources when containerd stops: their renewals
// end and no program is started any more.
func (i *instance) Close() error {
	if c, ok := i.source.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

func init() {
	registry.Register(&plugin.Registration{
		Type:   CredentialsPlugin,
		ID:     PluginID,
		Config: defaultConfig(),
		InitFn: func(ic *plugin.InitContext) (any, error) {
			// Readiness is nodecred's fail-closed switch, registered for
			// its side effect: containerd stops at startup when a plugin
			// fails after registering readiness, so a config mistake
			// stops the node rather than leave it pulling without
			// credentials. Readiness gates nothing else: ready() runs
			// before InitFn returns, so containerd's "ready" notification
			// is not delayed. containerd's required_plugins would fail
			// closed only on nodes whose config.toml lists this plugin,
			// and not for CRI's pull mode, which fails in CRI's plugin
			// (cri.go). docs/containerd-internals.md gives the reasons.
			ready := func() {}
			if ic.RegisterReadiness != nil {
				ready = ic.RegisterReadiness()
			}
			cfg, err := config.Parse(*ic.Config.(*rawConfig))
			if err != nil {
				return nil, err
			}
			chain, err := sourceconfig.Build(cfg.Sources)
			if err != nil {
				return nil, err // containerd names the plugin
			}
			types := make([]string, len(cfg.Sources))
			for i, s := range cfg.Sources {
				types[i] = s.Type
			}
			ic.Meta.Exports = map[string]string{
				"sources":    strings.Join(types, ","),
				"namespaces": strings.Join(cfg.Namespaces, ","),
				"push":       strconv.FormatBool(cfg.Push),
				// `ctr plugins ls -d` shows which nodecred a node runs.
				"version": version.Get(),
				// Until CRI's image service starts and says (cri.go).
				"cri_pull_mode":    "cri-not-loaded",
				"cri_pull_setting": "",
			}
			logs.With(ic.Context, log.Fields{"sources": ic.Meta.Exports["sources"], "version": ic.Meta.Exports["version"]}).Info("credential sources configured")
			ready()
			return &instance{
				source:             chain,
				options:            transfer.Options{Namespaces: cfg.Namespaces, Push: cfg.Push},
				requireCRITransfer: cfg.RequireCRITransferPull,
				exports:            ic.Meta.Exports,
			}, nil
		},
	})
}
