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

package containerdcompat

import (
	"fmt"

	"github.com/containerd/containerd/v2/plugins"
	"github.com/containerd/plugin"
	"github.com/containerd/plugin/registry"

	// Imported so that their inits, which register the local transfer
	// plugin, the transfer gRPC service and CRI's image service, run
	// before any package that imports this one re-registers them.
	_ "github.com/containerd/containerd/v2/plugins/cri/images"
	_ "github.com/containerd/containerd/v2/plugins/services/transfer"
	_ "github.com/containerd/containerd/v2/plugins/transfer"
)

// PluginID names one of containerd's plugin registrations.
type PluginID struct {
	Type plugin.Type
	ID   string
}

// String returns the plugin's URI, as in containerd's config and logs.
func (p PluginID) String() string { return p.Type.String() + "." + p.ID }

// Is reports whether r is the registration p names.
func (p PluginID) Is(r *plugin.Registration) bool { return r.Type == p.Type && r.ID == p.ID }

// The plugins nodecred decorates.
var (
	// LocalTransfer is containerd's one transfer plugin, which CRI looks
	// up with GetSingle.
	LocalTransfer = PluginID{plugins.TransferPlugin, "local"}
	// TransferService is containerd's transfer gRPC service, which turns
	// the messages gRPC clients send into transfer objects.
	TransferService = PluginID{plugins.GRPCPlugin, "transfer"}
	// CRIImages is CRI's image service, whose config (*ImageConfig of
	// containerd's internal/cri/config) decides whether CRI pulls through
	// the transfer service.
	CRIImages = PluginID{plugins.CRIServicePlugin, "images"}
)

// Reregister takes every registration from containerd's global plugin
// registry, resets the registry and registers each again, after edit has
// had the chance to change it, in the order containerd's registry gave
// them. When a plugin in must is not registered it fails and leaves the
// registry as it was. Call it from an init function of a package that imports
// this one, so that the plugins of the packages this one imports are
// registered already.
//
// containerd's registry has no way to decorate a registration: CRI looks
// the transfer plugin up with GetSingle, so there must stay exactly one,
// and a plugin may not require its own type. Re-registering every plugin,
// with the InitFns nodecred decorates wrapped, is the narrow way in.
func Reregister(edit func(*plugin.Registration), must ...PluginID) error {
	regs := registry.Graph(func(*plugin.Registration) bool { return false })
	for _, m := range must {
		if Find(regs, m) == nil {
			return fmt.Errorf("containerd's %s plugin is not registered", m)
		}
	}
	registry.Reset()
	for i := range regs {
		edit(&regs[i])
		registry.Register(&regs[i])
	}
	return nil
}

// Find returns the registration of p in regs, or nil.
func Find(regs []plugin.Registration, p PluginID) *plugin.Registration {
	for i := range regs {
		if p.Is(&regs[i]) {
			return &regs[i]
		}
	}
	return nil
}

// Registration returns the registration of p in containerd's global plugin
// registry as it stands, or nil.
func Registration(p PluginID) *plugin.Registration {
	return Find(registry.Graph(func(*plugin.Registration) bool { return false }), p)
}
