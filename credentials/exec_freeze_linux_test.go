package credentials

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
	chain := Chain{
		{"kubelet", SourceFunc(func(ctx context.Context, req Request) (Credential, error) {
			return askProviders(ctx, providers, req)
		})},
		{"static", NewStaticSource(hosts, "robot", "pw")},
	}
	path := providers[0].path
	for i := range 2 {
		c, err := chain.Get(context.Background(), Request{Host: "r.io", Ref: "r.io/a:1"})
		if err != nil || c.Source != "static" {
			t.Fatalf("lookup %d: served by %q, %v; want static", i, c.Source, err)
		}
	}
	_, err := askProviders(context.Background(), providers, Request{Host: "r.io", Ref: "r.io/a:1"})
	if err == nil || !strings.Contains(err.Error(), `provider "provider0"`) || !strings.Contains(err.Error(), "could not be reaped") {
		t.Fatalf("provider error = %v; want one naming the provider and that it could not be reaped", err)
	}
	if n := stuck.count(path); n != 1 {
		t.Fatalf("%d stuck runs, want 1 (the failure is held, so later lookups do not run it again)", n)
	}
	testprog.ThawCgroup(t, cg)
	for i := 0; stuck.count(path) != 0; i++ {
		if i == 1000 {
			t.Fatal("the thawed provider was never reaped")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestTooManyStuckRunsFailFast: once a program has maxStuckRuns runs that
// were killed but never exited, the runner starts no more of it.
func TestTooManyStuckRunsFailFast(t *testing.T) {
	cg := testprog.FreezerCgroup(t)
	_, prog := testprog.Build(t)
	// A copy of its own, so that the count is this test's alone.
	path := filepath.Join(t.TempDir(), "frozen-provider")
	b, err := os.ReadFile(prog)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o755); err != nil {
		t.Fatal(err)
	}
	c := command{
		Path:    path,
		Env:     programEnv([]string{"PROVIDER_MODE=freeze", "PROVIDER_FREEZE_CGROUP=" + cg}),
		Stdin:   []byte(`{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"r.io/a"}`),
		Timeout: 200 * time.Millisecond,
	}
	for i := range maxStuckRuns {
		_, _, err := execRunner{}.Run(context.Background(), c)
		var se *stuckError
		if !errors.As(err, &se) {
			t.Fatalf("run %d: err = %v, want a stuck run", i, err)
		}
		testprog.WaitFrozen(t, cg)
	}
	_, _, err = execRunner{}.Run(context.Background(), c)
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("not run: %d earlier runs", maxStuckRuns)) {
		t.Fatalf("err = %v, want the run refused", err)
	}
	procs, _ := os.ReadFile(filepath.Join(cg, "cgroup.procs"))
	if n := len(strings.Fields(string(procs))); n != maxStuckRuns {
		t.Fatalf("cgroup holds %d processes, want %d: the refused run must not start", n, maxStuckRuns)
	}
	testprog.ThawCgroup(t, cg)
	for i := 0; stuck.count(path) != 0; i++ {
		if i == 1000 {
			t.Fatal("the thawed runs were never reaped")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, _, err := (execRunner{}).Run(context.Background(), command{Path: path, Env: programEnv(nil), Stdin: c.Stdin, Timeout: 10 * time.Second}); err != nil {
		t.Fatalf("once reaped, the program runs again: %v", err)
	}
}
