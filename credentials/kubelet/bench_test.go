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
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nodecred/nodecred/credentials"
	"github.com/nodecred/nodecred/credentials/dockerconfig"
	"github.com/nodecred/nodecred/internal/filewatch"
	"github.com/nodecred/nodecred/internal/testprog"
)

func BenchmarkProviderCacheHit(b *testing.B) {
	ps := benchProviders(b, map[string]string{"PROVIDER_USER": "u", "PROVIDER_PASSWORD": "p"})
	ctx := context.Background()
	req := credentials.Request{Host: "r.io", Ref: "r.io/app:1"}
	testprog.Measure(b, func() { askProviders(ctx, ps, req) })
}

// BenchmarkConcurrentLookupsOneKey sends 1000 concurrent lookups for one
// registry to a fresh provider each iteration and reports how many times
// the provider ran: the target is exactly one.
func BenchmarkConcurrentLookupsOneKey(b *testing.B) {
	count := filepath.Join(b.TempDir(), "count")
	env := map[string]string{"PROVIDER_USER": "u", "PROVIDER_PASSWORD": "p", "PROVIDER_COUNT_FILE": count, "PROVIDER_SLEEP": "50ms"}
	cfgText := providerConfig(`"r.io"`, "10m", env)
	cfg, err := ParseConfig([]byte(cfgText))
	if err != nil {
		b.Fatal(err)
	}
	_, prog := testprog.Build(b)
	binDir := b.TempDir()
	data, _ := os.ReadFile(prog)
	if err := os.WriteFile(filepath.Join(binDir, "provider0"), data, 0o755); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ResetTimer()
	for i := range b.N {
		ps := newProviders(cfg, binDir, 10*time.Second, nil)
		var wg sync.WaitGroup
		for j := range 1000 {
			wg.Go(func() {
				if c, _ := askProviders(ctx, ps, credentials.Request{Host: "r.io", Ref: fmt.Sprintf("r.io/app:%d-%d", i, j)}); c.IsZero() {
					b.Error("no credential")
				}
			})
		}
		wg.Wait()
	}
	b.StopTimer()
	b.ReportMetric(float64(testprog.CountLines(b, count))/float64(b.N), "execs/op")
}

func benchProviders(b *testing.B, env map[string]string) []*provider {
	b.Helper()
	_, prog := testprog.Build(b)
	cfg, err := ParseConfig([]byte(providerConfig(`"r.io"`, "10m", env)))
	if err != nil {
		b.Fatal(err)
	}
	binDir := b.TempDir()
	data, _ := os.ReadFile(prog)
	if err := os.WriteFile(filepath.Join(binDir, "provider0"), data, 0o755); err != nil {
		b.Fatal(err)
	}
	return newProviders(cfg, binDir, 10*time.Second, nil)
}

// BenchmarkReloadCheck compares the two ways to notice a changed file: a
// stat on every lookup (what nodecred does) against what a file watcher's
// lookup would cost, an atomic load of the last parse. The difference is
// the price of the stat.
func BenchmarkReloadCheck(b *testing.B) {
	path := filepath.Join(b.TempDir(), "auth.json")
	if err := os.WriteFile(path, []byte(`{"auths": {"r.io": {"auth": "dTpw"}}}`), 0o600); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.Run("stat-per-lookup", func(b *testing.B) {
		f := filewatch.New(path, dockerconfig.MaxFileSize, false, dockerconfig.Parse)
		testprog.Measure(b, func() { f.Load(ctx) })
	})
	// A kubelet config directory of three files, as a node with a drop-in
	// or two has: a stat of the directory, its listing and a stat per file.
	dir := b.TempDir()
	for _, name := range []string{"10-eks.yaml", "20-own.yaml", "30-more.yml"} {
		text := "apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n- name: " + strings.TrimSuffix(name, filepath.Ext(name)) +
			"\n  matchImages: [\"r.io\"]\n  defaultCacheDuration: 1m\n  apiVersion: credentialprovider.kubelet.k8s.io/v1\n"
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("kubelet-dir-of-3-per-lookup", func(b *testing.B) {
		s := newSource(dir, b.TempDir(), time.Second)
		if _, ok := s.file.Load(ctx); !ok {
			b.Fatal("the directory did not load")
		}
		testprog.Measure(b, func() { s.file.Load(ctx) })
	})
	b.Run("watcher-atomic-load", func(b *testing.B) {
		var p atomic.Pointer[dockerconfig.Config]
		cfg, _ := dockerconfig.Parse([]byte(`{"auths": {"r.io": {"auth": "dTpw"}}}`))
		p.Store(&cfg)
		testprog.Measure(b, func() { _ = p.Load() })
	})
}
