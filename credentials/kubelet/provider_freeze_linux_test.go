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

package kubelet

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nodecred/nodecred/credentials"
	"github.com/nodecred/nodecred/credentials/static"
	"github.com/nodecred/nodecred/internal/hostmatch"
	"github.com/nodecred/nodecred/internal/testprog"
)

// TestFrozenProviderNeverHoldsPull: a provider that cannot be killed (its
// cgroup frozen, as a program stuck on a hung mount) fails as a timeout
// once killed and not reaped within reapWait; the next source serves; the
// failure is held as any failure is, so the next lookup does not run it
// again; it is reaped once it can exit.
func TestFrozenProviderNeverHoldsPull(t *testing.T) {
	cg := testprog.FreezerCgroup(t)
	providers := providerSetup(t, providerConfig(`"r.io"`, "10m", map[string]string{
		"PROVIDER_MODE": "freeze", "PROVIDER_FREEZE_CGROUP": cg,
		"PROVIDER_USER": "u", "PROVIDER_PASSWORD": "p",
	}), nil, 300*time.Millisecond)
	hosts, _ := hostmatch.ParsePatterns([]string{"r.io"})
	chain := credentials.Chain{
		{Name: "kubelet", Source: sourceFunc(func(ctx context.Context, req credentials.Request) (credentials.Credential, error) {
			return askProviders(ctx, providers, req)
		})},
		{Name: "static", Source: static.New(hosts, "robot", "pw")},
	}
	for i := range 2 {
		c, err := chain.Get(context.Background(), credentials.Request{Host: "r.io", Ref: "r.io/a:1"})
		if err != nil || c.Source != "static" {
			t.Fatalf("lookup %d: served by %q, %v; want static", i, c.Source, err)
		}
	}
	_, err := askProviders(context.Background(), providers, credentials.Request{Host: "r.io", Ref: "r.io/a:1"})
	if err == nil || !strings.Contains(err.Error(), `provider "provider0"`) || !strings.Contains(err.Error(), "could not be reaped") {
		t.Fatalf("provider error = %v; want one naming the provider and that it could not be reaped", err)
	}
	// Each run moves itself into the cgroup, and stays there frozen.
	procs, err := os.ReadFile(filepath.Join(cg, "cgroup.procs"))
	if err != nil {
		t.Fatal(err)
	}
	pids := strings.Fields(string(procs))
	if len(pids) != 1 {
		t.Fatalf("%d stuck runs, want 1 (the failure is held, so later lookups do not run it again)", len(pids))
	}
	testprog.ThawCgroup(t, cg)
	// Thawed, the killed run exits; it stays in /proc, a zombie, until
	// it is reaped.
	for i := 0; ; i++ {
		if _, err := os.Stat(filepath.Join("/proc", pids[0])); errors.Is(err, fs.ErrNotExist) {
			break
		}
		if i == 1000 {
			t.Fatal("the thawed provider was never reaped")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
