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

package nodecred

import (
	"context"
	"testing"

	transferapi "github.com/containerd/containerd/api/services/transfer/v1"
	"github.com/containerd/containerd/v2/cmd/containerd/server"
	srvconfig "github.com/containerd/containerd/v2/cmd/containerd/server/config"
	"github.com/containerd/containerd/v2/core/streaming"
	ctrtransfer "github.com/containerd/containerd/v2/core/transfer"
	"github.com/containerd/containerd/v2/plugins"
	"github.com/containerd/plugin"

	"github.com/nodecred/nodecred/internal/containerdcompat"
	nctransfer "github.com/nodecred/nodecred/transfer"
)

// loadTransferService initialises containerd's transfer gRPC service, as
// registered after nodecred's init, over stand-ins for the plugins it
// requires (a transferrer and the stream manager), with or without the
// nodecred plugin, and returns its instance.
func loadTransferService(t *testing.T, withNodecred bool) (any, error) {
	t.Helper()
	ctx := context.Background()
	regs, err := server.LoadPlugins(ctx, &srvconfig.Config{Version: 3})
	if err != nil {
		t.Fatal(err)
	}
	var service *plugin.Registration
	for i := range regs {
		if containerdcompat.TransferService.Is(&regs[i]) {
			service = &regs[i]
		}
	}
	if service == nil {
		t.Fatal("the transfer gRPC service is not registered")
	}
	if !containsType(service.Requires, CredentialsPlugin) {
		t.Errorf("the transfer gRPC service does not require %s, so nodecred may initialise after it", CredentialsPlugin)
	}
	standIns := []*plugin.Registration{
		{Type: plugins.TransferPlugin, ID: "standin", InitFn: func(*plugin.InitContext) (any, error) { return &standinTransferrer{}, nil }},
		{Type: plugins.StreamingPlugin, ID: "manager", InitFn: func(*plugin.InitContext) (any, error) { return struct{ streaming.StreamManager }{}, nil }},
	}
	if withNodecred {
		standIns = append(standIns, &plugin.Registration{Type: CredentialsPlugin, ID: PluginID, InitFn: func(*plugin.InitContext) (any, error) { return &instance{}, nil }})
	}
	set := plugin.NewPluginSet()
	for _, r := range append(standIns, service) {
		if err := set.Add(r.Init(plugin.NewContext(ctx, set, nil))); err != nil {
			t.Fatal(err)
		}
	}
	return set.Get(containerdcompat.TransferService.Type, containerdcompat.TransferService.ID).Instance()
}

type standinTransferrer struct{}

func (*standinTransferrer) Transfer(context.Context, any, any, ...ctrtransfer.Opt) error { return nil }

func TestTransferServiceIsWrapped(t *testing.T) {
	inst, err := loadTransferService(t, true)
	if err != nil {
		t.Fatal(err)
	}
	s, ok := inst.(*nctransfer.Service)
	if !ok {
		t.Fatalf("transfer gRPC service is %T, want the nodecred wrapper", inst)
	}
	if _, twice := s.Unwrap().(*nctransfer.Service); twice {
		t.Fatal("transfer gRPC service wrapped twice")
	}
}

func TestDisabledNodecredLeavesTransferServiceUnwrapped(t *testing.T) {
	inst, err := loadTransferService(t, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, wrapped := inst.(*nctransfer.Service); wrapped {
		t.Fatal("transfer gRPC service is wrapped although nodecred is disabled")
	}
	if _, ok := inst.(transferapi.TransferServer); !ok {
		t.Fatalf("transfer gRPC service %T is not a TransferServer", inst)
	}
}
