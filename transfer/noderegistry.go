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

package transfer

import (
	"context"
	"net/http"

	"github.com/containerd/containerd/v2/core/transfer/plugins"
	"github.com/containerd/containerd/v2/core/transfer/registry"
	"github.com/containerd/typeurl/v2"
)

// NodeRegistry is an image source that asks containerd to pull Reference
// with the node's credentials. A client sends it through the transfer API in
// place of an OCIRegistry and sends no secret: the daemon's nodecred
// transferrer turns it into a registry whose credentials come from the node
// source alone. A daemon without nodecred rejects it as an unknown type.
type NodeRegistry struct {
	// Reference is the image to pull, e.g. "registry.example.com/app:1".
	Reference string `json:"reference"`
	// HostDir is the registry hosts directory (containerd's config_path,
	// e.g. /etc/containerd/certs.d); empty means none.
	HostDir string `json:"host_dir,omitempty"`
	// DefaultScheme is used for hosts without a hosts.toml entry.
	DefaultScheme string `json:"default_scheme,omitempty"`
	// Headers are sent with every registry request.
	Headers map[string]string `json:"headers,omitempty"`
}

// NodeRegistryTypeURL is the type URL NodeRegistry travels under.
const NodeRegistryTypeURL = "github.com/nodecred/nodecred/transfer/NodeRegistry"

func init() {
	typeurl.Register(&NodeRegistry{}, NodeRegistryTypeURL)
	plugins.Register(&NodeRegistry{}, &NodeRegistry{})
}

// String names the source in logs and errors.
func (n *NodeRegistry) String() string { return "nodecred node registry (" + n.Reference + ")" }

// registry builds the OCIRegistry that pulls n with h's credentials.
func (n *NodeRegistry) registry(ctx context.Context, h *credentialHelper) (*registry.OCIRegistry, error) {
	opts := []registry.Opt{registry.WithCredentials(h)}
	if n.HostDir != "" {
		opts = append(opts, registry.WithHostDir(n.HostDir))
	}
	if n.DefaultScheme != "" {
		opts = append(opts, registry.WithDefaultScheme(n.DefaultScheme))
	}
	if len(n.Headers) > 0 {
		headers := http.Header{}
		for k, v := range n.Headers {
			headers.Set(k, v)
		}
		opts = append(opts, registry.WithHeaders(headers))
	}
	return registry.NewOCIRegistry(ctx, n.Reference, opts...)
}
