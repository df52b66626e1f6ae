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

package credhelper

import (
	"context"
	"fmt"

	"github.com/containerd/log"
	dhcredentials "github.com/docker/docker-credential-helpers/credentials"

	"github.com/nodecred/nodecred/credentials"
	"github.com/nodecred/nodecred/credentials/sourceconfig"
	"github.com/nodecred/nodecred/internal/logs"
	"github.com/nodecred/nodecred/nodeconfig"
)

// nodeHelper answers the protocol from the node's source chain, as the
// daemon would for the host the server URL names. It has no namespace:
// namespace scoping and the push setting do not apply.
type nodeHelper struct {
	ctx     context.Context
	chain   credentials.Source
	sources []sourceconfig.Config
}

var _ dhcredentials.Helper = (*nodeHelper)(nil)

// newNodeHelper reads containerd's config and builds its nodecred sources,
// as the plugin does at startup.
func newNodeHelper(ctx context.Context, configPath string) (*nodeHelper, error) {
	node, err := nodeconfig.LoadContainerd(ctx, configPath)
	if err != nil {
		return nil, err
	}
	sources := node.Credentials.Sources
	if len(sources) == 0 {
		logs.G(ctx).WithField("config", configPath).Warn("the config has no nodecred sources; no host has credentials")
	}
	chain, err := sourceconfig.Build(sources)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", configPath, err)
	}
	return &nodeHelper{ctx: ctx, chain: chain, sources: sources}, nil
}

// Add refuses: the operator manages the sources.
func (h *nodeHelper) Add(*dhcredentials.Credentials) error { return errReadOnly }

// Delete refuses: the operator manages the sources.
func (h *nodeHelper) Delete(string) error { return errReadOnly }

// Get answers for the host serverURL names: an identity token as user
// "<token>", a miss as the protocol's "credentials not found" error.
func (h *nodeHelper) Get(serverURL string) (string, string, error) {
	host, err := contactedHost(serverURL)
	if err != nil {
		return "", "", err
	}
	c, err := h.lookup(host)
	if err != nil {
		return "", "", err
	}
	if c.IsZero() {
		return "", "", dhcredentials.NewErrCredentialsNotFound()
	}
	if c.IdentityToken != "" {
		return tokenUser, c.IdentityToken.Reveal(), nil
	}
	return c.Username, c.Password.Reveal(), nil
}

// lookup asks the chain about host, as a pull would that contacts it. The
// protocol names no repository, so the reference is the host alone: entries
// scoped to a repository path ("quay.io/team") do not answer.
func (h *nodeHelper) lookup(host string) (credentials.Credential, error) {
	c, err := h.chain.Get(h.ctx, credentials.Request{Host: host, Ref: host + "/"})
	if err != nil {
		return credentials.Credential{}, fmt.Errorf("lookup for %s: %w", host, err)
	}
	fields := log.Fields{"host": host, "kind": c.Kind()}
	if c.Source != "" {
		fields["source"] = c.Source
	}
	logs.With(h.ctx, fields).Debug("credential helper lookup")
	return c, nil
}

// List returns the hosts the helper knows, with the user get would give:
// every host named literally in the sources (a static or helper source's
// hosts, a kubelet provider's matchImages, a docker config's auths and
// credHelpers keys) that the chain answers for now. A pattern with a glob
// or a repository path, a helper with no hosts and a credsStore name no
// host, so the hosts they serve are not listed; get still answers them.
// Listing asks the chain as get does, so it runs the helpers and providers
// that serve the listed hosts.
func (h *nodeHelper) List() (map[string]string, error) {
	out := map[string]string{}
	for _, host := range listCandidates(h.ctx, h.sources) {
		c, err := h.lookup(host)
		if err != nil {
			return nil, err
		}
		if c.IsZero() {
			continue
		}
		user := c.Username
		if c.IdentityToken != "" {
			user = tokenUser
		}
		out[serverKey(host)] = user
	}
	return out, nil
}
