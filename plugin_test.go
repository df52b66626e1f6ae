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
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/containerd/containerd/v2/cmd/containerd/server"
	srvconfig "github.com/containerd/containerd/v2/cmd/containerd/server/config"
	ctrtransfer "github.com/containerd/containerd/v2/core/transfer"
	"github.com/containerd/containerd/v2/plugins"
	"github.com/containerd/plugin"

	_ "github.com/containerd/containerd/v2/cmd/containerd/builtins"

	"github.com/nodecred/nodecred/credentials"
	nctransfer "github.com/nodecred/nodecred/transfer"
	"github.com/nodecred/nodecred/version"
)

// loadTransfer initialises, as containerd's server does, the transfer plugin
// and everything it depends on, then looks the transfer service up the way
// CRI does, with GetSingle. It returns the instance and the plugin set.
func loadTransfer(t *testing.T, pluginConfig map[string]any, disabled []string) (any, *plugin.Set, error) {
	t.Helper()
	ctx := context.Background()
	root := t.TempDir()
	cfg := &srvconfig.Config{
		Version:         3,
		Root:            filepath.Join(root, "root"),
		State:           filepath.Join(root, "state"),
		DisabledPlugins: disabled,
		Plugins:         pluginConfig,
	}
	regs, err := server.LoadPlugins(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	needed := closure(regs, plugins.TransferPlugin)
	set := plugin.NewPluginSet()
	for _, r := range regs {
		if !needed[r.Type] {
			continue
		}
		id := r.URI()
		ic := plugin.NewContext(ctx, set, map[string]string{
			plugins.PropertyRootDir:  filepath.Join(cfg.Root, id),
			plugins.PropertyStateDir: filepath.Join(cfg.State, id),
		})
		ic.RegisterReadiness = func() func() { return func() {} }
		if r.Config != nil {
			config := r.Config
			if _, ok := config.(*rawConfig); ok {
				// The registration is shared by every test, and containerd
				// decodes into its config in place: a fresh one each time,
				// as each containerd start has (go-toml v2.2, which
				// containerd 2.1 to 2.3 pull in, panics decoding an array
				// table over one decoded before).
				config = defaultConfig()
			}
			pc, err := cfg.Decode(ctx, id, config)
			if err != nil {
				return nil, set, err
			}
			ic.Config = pc
		}
		if err := set.Add(r.Init(ic)); err != nil {
			t.Fatal(err)
		}
	}
	consumer := plugin.NewContext(ctx, set, nil)
	inst, err := consumer.GetSingle(plugins.TransferPlugin)
	return inst, set, err
}

// closure returns the plugin types t depends on, and t.
func closure(regs []plugin.Registration, t plugin.Type) map[plugin.Type]bool {
	need := map[plugin.Type]bool{t: true}
	for changed := true; changed; {
		changed = false
		for _, r := range regs {
			if !need[r.Type] {
				continue
			}
			for _, req := range r.Requires {
				if req == "*" {
					continue
				}
				if !need[req] {
					need[req], changed = true, true
				}
			}
		}
	}
	return need
}

var nodecredConfig = map[string]any{
	"io.containerd.credentials.v1.nodecred": map[string]any{
		"namespaces": []any{"k8s.io"},
		"sources": []any{
			map[string]any{"type": "dockerconfig", "path": "/etc/containerd/auth.json"},
			map[string]any{"type": "static", "hosts": []any{"r.example.com"}, "username": "robot", "password": "inline-secret"},
		},
	},
}

func TestOneTransferPluginAndItIsWrapped(t *testing.T) {
	regs, err := server.LoadPlugins(context.Background(), &srvconfig.Config{Version: 3})
	if err != nil {
		t.Fatal(err)
	}
	var transfers []plugin.Registration
	for _, r := range regs {
		if r.Type == plugins.TransferPlugin {
			transfers = append(transfers, r)
		}
	}
	if len(transfers) != 1 || transfers[0].ID != "local" {
		t.Fatalf("transfer plugin registrations = %d, want exactly the local one", len(transfers))
	}
	if !containsType(transfers[0].Requires, CredentialsPlugin) {
		t.Errorf("the local transfer plugin does not require %s, so nodecred may initialise after it", CredentialsPlugin)
	}

	inst, set, err := loadTransfer(t, nodecredConfig, nil)
	if err != nil {
		t.Fatalf("GetSingle(%s): %v", plugins.TransferPlugin, err)
	}
	w, ok := inst.(*nctransfer.Transferrer)
	if !ok {
		t.Fatalf("transfer instance is %T, want the nodecred wrapper", inst)
	}
	if _, wrappedTwice := w.Unwrap().(*nctransfer.Transferrer); wrappedTwice {
		t.Fatalf("transfer service wrapped twice")
	}
	p := set.Get(CredentialsPlugin, PluginID)
	if p == nil {
		t.Fatal("nodecred plugin not in the plugin set")
	}
	if inst, err := p.Instance(); err != nil {
		t.Fatal(err)
	} else if _, ok := inst.(io.Closer); !ok {
		t.Errorf("the nodecred instance %T is not an io.Closer: containerd would not close it on shutdown", inst)
	}
	if got := p.Meta.Exports["sources"]; got != "dockerconfig,static" {
		t.Errorf("exports sources = %q, want dockerconfig,static", got)
	}
	if got := p.Meta.Exports["version"]; got != version.Get() || got == "" {
		t.Errorf("exports version = %q, want %q", got, version.Get())
	}
	for k, v := range p.Meta.Exports {
		if strings.Contains(v, "inline-secret") {
			t.Errorf("export %s carries the password", k)
		}
	}
}

func TestDisabledNodecredLeavesTransferUnwrapped(t *testing.T) {
	inst, _, err := loadTransfer(t, nodecredConfig, []string{CredentialsPlugin.String() + "." + PluginID})
	if err != nil {
		t.Fatalf("GetSingle(%s): %v", plugins.TransferPlugin, err)
	}
	if _, wrapped := inst.(*nctransfer.Transferrer); wrapped {
		t.Fatal("transfer service is wrapped although nodecred is disabled")
	}
	if _, ok := inst.(ctrtransfer.Transferrer); !ok {
		t.Fatalf("transfer instance %T is not a Transferrer", inst)
	}
}

func TestLocalTransferConfigSectionStillApplies(t *testing.T) {
	// The wrapped registration keeps its config type and InitFn: a bad
	// value in its own section fails it exactly as it would unwrapped.
	cfg := map[string]any{"io.containerd.transfer.v1.local": map[string]any{
		"unpack_config": []any{map[string]any{"platform": "not/a/valid/platform/x", "snapshotter": "native"}},
	}}
	_, _, err := loadTransfer(t, cfg, nil)
	if err == nil || !strings.Contains(err.Error(), "platform configuration") {
		t.Fatalf("err = %v, want the local transfer plugin's own platform error", err)
	}
}

func TestBadConfigFailsThePluginNamingFieldAndValue(t *testing.T) {
	cfg := map[string]any{"io.containerd.credentials.v1.nodecred": map[string]any{
		"sources": []any{map[string]any{"type": "vault"}},
	}}
	_, set, _ := loadTransfer(t, cfg, nil)
	p := set.Get(CredentialsPlugin, PluginID)
	if p == nil {
		t.Fatal("nodecred plugin not in the plugin set")
	}
	_, err := p.Instance()
	if err == nil || !strings.Contains(err.Error(), `sources[0].type: unknown source type "vault"`) {
		t.Fatalf("err = %v, want it to name sources[0].type and \"vault\"", err)
	}
}

func containsType(ts []plugin.Type, t plugin.Type) bool {
	for _, x := range ts {
		if x == t {
			return true
		}
	}
	return false
}

// TestPluginInstanceClosesItsSources: containerd's server.Stop closes each
// plugin instance that is an io.Closer; nodecred's is (checked on the
// initialised plugin by TestOneTransferPluginAndItIsWrapped), and closes
// its chain's sources.
func TestPluginInstanceClosesItsSources(t *testing.T) {
	var _ io.Closer = (*instance)(nil) // what server.Stop looks for
	closed := 0
	i := &instance{source: credentials.Chain{
		{Name: "a", Source: closeCounter{&closed}},
		{Name: "b", Source: sourceFunc(func(context.Context, credentials.Request) (credentials.Credential, error) {
			return credentials.Credential{}, nil
		})},
		{Name: "c", Source: closeCounter{&closed}},
	}}
	if err := i.Close(); err != nil || closed != 2 {
		t.Fatalf("Close: %v, closed %d sources, want the 2 that have a lifecycle", err, closed)
	}
}

type closeCounter struct{ n *int }

func (closeCounter) Get(context.Context, credentials.Request) (credentials.Credential, error) {
	return credentials.Credential{}, nil
}

func (c closeCounter) Close() error { *c.n++; return nil }

// sourceFunc adapts a function to a credentials.Source.
type sourceFunc func(ctx context.Context, req credentials.Request) (credentials.Credential, error)

func (f sourceFunc) Get(ctx context.Context, req credentials.Request) (credentials.Credential, error) {
	return f(ctx, req)
}
