package credentials

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nodecred/nodecred/internal/filewatch"
	"github.com/nodecred/nodecred/internal/hostmatch"
	"github.com/nodecred/nodecred/internal/testprog"
)

// measure runs lookup b.N times, timing each call, and reports the median
// and 99th percentile next to Go's ns/op and allocations.
func measure(b *testing.B, lookup func()) {
	b.Helper()
	lookup() // warm caches and file state
	durations := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		lookup()
		durations = append(durations, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(durations)
	b.ReportMetric(float64(durations[len(durations)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(durations[len(durations)*99/100].Nanoseconds()), "p99-ns")
}

func BenchmarkStaticFileLookup(b *testing.B) {
	hosts, _ := hostmatch.ParsePatterns([]string{"registry.example.com"})
	pw := filepath.Join(b.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte("secret"), 0o600); err != nil {
		b.Fatal(err)
	}
	src := NewStaticFileSource(hosts, "robot", pw)
	req := Request{Host: "registry.example.com", Ref: "registry.example.com/team/app:1"}
	ctx := context.Background()
	measure(b, func() { _, _ = src.Get(ctx, req) })
}

// dockerConfig10k is a docker config with 10 000 hosts, registryN.example.com
// with userN:passwordN.
func dockerConfig10k() []byte {
	var sb strings.Builder
	sb.WriteString(`{"auths": {`)
	for i := range 10_000 {
		if i > 0 {
			sb.WriteString(",")
		}
		fmt.Fprintf(&sb, `"registry%d.example.com": {"auth": "%s"}`, i, b64(fmt.Sprintf("user%d:password%d", i, i)))
	}
	sb.WriteString("}}")
	return []byte(sb.String())
}

func BenchmarkDockerConfigLookup10kHosts(b *testing.B) {
	path := filepath.Join(b.TempDir(), "config.json")
	if err := os.WriteFile(path, dockerConfig10k(), 0o600); err != nil {
		b.Fatal(err)
	}
	src := NewDockerConfigSource(path, 0)
	req := Request{Host: "registry7777.example.com", Ref: "registry7777.example.com/team/app:1"}
	ctx := context.Background()
	measure(b, func() {
		if c, _ := src.Get(ctx, req); c.Username != "user7777" {
			b.Fatal("wrong credential")
		}
	})
}

func BenchmarkStaticLookup1000Patterns(b *testing.B) {
	ps := make([]string, 1000)
	for i := range ps {
		ps[i] = fmt.Sprintf("*.team%d.example.com", i)
	}
	hosts, err := hostmatch.ParsePatterns(ps)
	if err != nil {
		b.Fatal(err)
	}
	src := NewStaticSource(hosts, "robot", "pw")
	// The last pattern matches: the worst case.
	req := Request{Host: "registry.team999.example.com", Ref: "registry.team999.example.com/app:1"}
	ctx := context.Background()
	measure(b, func() {
		if c, _ := src.Get(ctx, req); c.IsZero() {
			b.Fatal("no match")
		}
	})
}

func BenchmarkHelperCacheHit(b *testing.B) {
	helper, _ := testprog.Build(b)
	dir := b.TempDir()
	program := filepath.Join(dir, "docker-credential-bench")
	data, _ := os.ReadFile(helper)
	if err := os.WriteFile(program, data, 0o755); err != nil {
		b.Fatal(err)
	}
	src := NewHelperSource(program, []string{`CREDHELPER_CREDS={"r.io": "u:p"}`}, hostmatch.Patterns{}, 10*time.Second)
	req := Request{Host: "r.io", Ref: "r.io/app:1"}
	ctx := context.Background()
	measure(b, func() { _, _ = src.Get(ctx, req) })
}

func BenchmarkProviderCacheHit(b *testing.B) {
	ps := benchProviders(b, map[string]string{"PROVIDER_USER": "u", "PROVIDER_PASSWORD": "p"})
	ctx := context.Background()
	req := Request{Host: "r.io", Ref: "r.io/app:1"}
	measure(b, func() { askProviders(ctx, ps, req) })
}

// BenchmarkConcurrentLookupsOneKey sends 1000 concurrent lookups for one
// registry to a fresh provider each iteration and reports how many times
// the provider ran: the target is exactly one.
func BenchmarkConcurrentLookupsOneKey(b *testing.B) {
	count := filepath.Join(b.TempDir(), "count")
	env := map[string]string{"PROVIDER_USER": "u", "PROVIDER_PASSWORD": "p", "PROVIDER_COUNT_FILE": count, "PROVIDER_SLEEP": "50ms"}
	cfgText := providerConfig(`"r.io"`, "10m", env)
	cfg, err := ParseKubeletConfig([]byte(cfgText))
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
				if c, _ := askProviders(ctx, ps, Request{Host: "r.io", Ref: fmt.Sprintf("r.io/app:%d-%d", i, j)}); c.IsZero() {
					b.Error("no credential")
				}
			})
		}
		wg.Wait()
	}
	b.StopTimer()
	b.ReportMetric(float64(countLines(b, count))/float64(b.N), "execs/op")
}

// BenchmarkDockerConfigHeap10kHosts reports the heap a parsed docker config
// with 10 000 host entries holds.
func BenchmarkDockerConfigHeap10kHosts(b *testing.B) {
	data := dockerConfig10k()
	var held []DockerConfig
	for range b.N {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		cfg, err := ParseDockerConfig(data)
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		held = append(held[:0], cfg)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "heap-MiB")
	}
	runtime.KeepAlive(held)
}

func benchProviders(b *testing.B, env map[string]string) []*provider {
	b.Helper()
	_, prog := testprog.Build(b)
	cfg, err := ParseKubeletConfig([]byte(providerConfig(`"r.io"`, "10m", env)))
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
		f := filewatch.New(path, maxDockerConfigSize, false, ParseDockerConfig)
		measure(b, func() { f.Load(ctx) })
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
		s := newKubeletSource(dir, b.TempDir(), time.Second)
		if _, ok := s.file.Load(ctx); !ok {
			b.Fatal("the directory did not load")
		}
		measure(b, func() { s.file.Load(ctx) })
	})
	b.Run("watcher-atomic-load", func(b *testing.B) {
		var p atomic.Pointer[DockerConfig]
		cfg, _ := ParseDockerConfig([]byte(`{"auths": {"r.io": {"auth": "dTpw"}}}`))
		p.Store(&cfg)
		measure(b, func() { _ = p.Load() })
	})
}
