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

package containerdcompat_test

import (
	"context"
	"slices"
	"testing"

	transferapi "github.com/containerd/containerd/api/services/transfer/v1"
	"github.com/containerd/containerd/v2/core/streaming"
	ctrtransfer "github.com/containerd/containerd/v2/core/transfer"
	"github.com/containerd/containerd/v2/plugins"
	"github.com/containerd/plugin"
	"github.com/containerd/plugin/registry"
	"google.golang.org/grpc"

	"github.com/nodecred/nodecred/internal/containerdcompat"
)

// graph returns containerd's registrations as they stand.
func graph() []plugin.Registration {
	return registry.Graph(func(*plugin.Registration) bool { return false })
}

// TestContractPluginRegistrations guards the re-registration of
// containerd's plugin registry (registry.go, Reregister): the plugins
// nodecred decorates are registered under the identities it looks for,
// with what the decoration relies on, and there is one transfer plugin.
func TestContractPluginRegistrations(t *testing.T) {
	regs := graph()
	var transfers []string
	for _, r := range regs {
		if r.Type == plugins.TransferPlugin {
			transfers = append(transfers, r.ID)
		}
	}
	if !slices.Equal(transfers, []string{containerdcompat.LocalTransfer.ID}) {
		t.Errorf("transfer plugins %v, want only %s: CRI's GetSingle lookup would change", transfers, containerdcompat.LocalTransfer)
	}
	for _, c := range []struct {
		id       containerdcompat.PluginID
		requires []plugin.Type
		config   bool
	}{
		// Its own config section must keep working under its own InitFn.
		{containerdcompat.LocalTransfer, []plugin.Type{plugins.MetadataPlugin, plugins.LeasePlugin}, true},
		{containerdcompat.TransferService, []plugin.Type{plugins.TransferPlugin, plugins.StreamingPlugin}, false},
		// CRI's image service must initialise after the transfer plugin,
		// and so after nodecred, which the transfer plugin comes to require.
		{containerdcompat.CRIImages, []plugin.Type{plugins.TransferPlugin}, true},
	} {
		r := containerdcompat.Find(regs, c.id)
		if r == nil {
			t.Errorf("%s is not registered", c.id)
			continue
		}
		if r.InitFn == nil {
			t.Errorf("%s has no InitFn to wrap", c.id)
		}
		for _, req := range c.requires {
			if !slices.Contains(r.Requires, req) {
				t.Errorf("%s does not require %s (requires %v)", c.id, req, r.Requires)
			}
		}
		if slices.Contains(r.Requires, r.Type) {
			t.Errorf("%s requires its own type", c.id)
		}
		if c.config && r.Config == nil {
			t.Errorf("%s has no config", c.id)
		}
	}
}

// TestContractReregister: containerd's registry can be emptied and filled
// again with the same registrations, in the same order, with an edited
// InitFn; and a missing plugin leaves it untouched.
func TestContractReregister(t *testing.T) {
	before := graph()
	if err := containerdcompat.Reregister(func(*plugin.Registration) {}, containerdcompat.PluginID{Type: "io.containerd.nothing.v1", ID: "none"}); err == nil {
		t.Fatal("Reregister accepted a plugin that is not registered")
	}
	if len(graph()) != len(before) {
		t.Fatal("a failed Reregister changed the registry")
	}
	edited := 0
	err := containerdcompat.Reregister(func(r *plugin.Registration) {
		if containerdcompat.TransferService.Is(r) {
			inner := r.InitFn
			r.InitFn = func(ic *plugin.InitContext) (any, error) { edited++; return inner(ic) }
		}
	}, containerdcompat.LocalTransfer, containerdcompat.TransferService, containerdcompat.CRIImages)
	if err != nil {
		t.Fatal(err)
	}
	after := graph()
	if len(after) != len(before) {
		t.Fatalf("%d registrations after, %d before", len(after), len(before))
	}
	for i := range after {
		if after[i].URI() != before[i].URI() {
			t.Fatalf("registration %d is %s, was %s", i, after[i].URI(), before[i].URI())
		}
	}
	if _, err := initTransferService(t); err != nil {
		t.Fatal(err)
	}
	if edited != 1 {
		t.Errorf("the edited InitFn ran %d times, want 1", edited)
	}
}

// initTransferService initialises containerd's transfer gRPC service, as
// registered, over a stand-in transferrer and stream manager.
func initTransferService(t *testing.T) (any, error) {
	t.Helper()
	return initTransferServiceWith(t, &standinTransferrer{}, nil)
}

type standinTransferrer struct {
	src, dst any
}

func (s *standinTransferrer) Transfer(_ context.Context, src, dst any, _ ...ctrtransfer.Opt) error {
	s.src, s.dst = src, dst
	return nil
}

func initTransferServiceWith(t *testing.T, tr ctrtransfer.Transferrer, sm streaming.StreamManager) (any, error) {
	t.Helper()
	ctx := context.Background()
	service := containerdcompat.Registration(containerdcompat.TransferService)
	if service == nil {
		t.Fatalf("%s is not registered", containerdcompat.TransferService)
	}
	if sm == nil {
		sm = struct{ streaming.StreamManager }{}
	}
	set := plugin.NewPluginSet()
	for _, r := range []*plugin.Registration{
		{Type: plugins.TransferPlugin, ID: "standin", InitFn: func(*plugin.InitContext) (any, error) { return tr, nil }},
		{Type: plugins.StreamingPlugin, ID: "manager", InitFn: func(*plugin.InitContext) (any, error) { return sm, nil }},
		service,
	} {
		if err := set.Add(r.Init(plugin.NewContext(ctx, set, nil))); err != nil {
			t.Fatal(err)
		}
	}
	return set.Get(containerdcompat.TransferService.Type, containerdcompat.TransferService.ID).Instance()
}

// TestContractTransferServiceInstance guards the wrapping of the transfer
// gRPC service (registry.go, transfer.WrapService): its instance is a
// TransferServer that registers itself on containerd's gRPC server.
func TestContractTransferServiceInstance(t *testing.T) {
	inst, err := initTransferService(t)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := inst.(transferapi.TransferServer); !ok {
		t.Errorf("the transfer gRPC service is a %T, not a TransferServer", inst)
	}
	if _, ok := inst.(interface{ Register(*grpc.Server) error }); !ok {
		t.Errorf("the transfer gRPC service %T has no Register(*grpc.Server) error", inst)
	}
}
