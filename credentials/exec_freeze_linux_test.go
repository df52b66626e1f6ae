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
)

// freezerCgroup makes a cgroup whose processes can be frozen: under the
// cgroup v1 freezer when it is mounted, else under cgroup v2. It skips the
// test, saying why, when neither can be made. Cleanup thaws the cgroup,
// waits for its processes to end and removes it.
func freezerCgroup(t *testing.T) string {
	t.Helper()
	var dir, thaw, thawFile string
	switch {
	case fileExists("/sys/fs/cgroup/freezer/freezer.state") || fileExists("/sys/fs/cgroup/freezer/cgroup.procs"):
		dir, thawFile, thaw = "/sys/fs/cgroup/freezer", "freezer.state", "THAWED"
	case fileExists("/sys/fs/cgroup/cgroup.controllers"):
		dir, thawFile, thaw = "/sys/fs/cgroup", "cgroup.freeze", "0"
	default:
		t.Skip("no cgroup v1 freezer at /sys/fs/cgroup/freezer and no cgroup v2 at /sys/fs/cgroup")
	}
	cg := filepath.Join(dir, fmt.Sprintf("nodecred-test-%d", os.Getpid()))
	if err := os.Mkdir(cg, 0o755); err != nil {
		t.Skipf("cannot make a freezer cgroup: %v", err)
	}
	t.Cleanup(func() {
		_ = os.WriteFile(filepath.Join(cg, thawFile), []byte(thaw), 0)
		for range 500 {
			if err := os.Remove(cg); err == nil {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Errorf("cgroup %s still holds processes after the thaw", cg)
	})
	return cg
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

func thawCgroup(t *testing.T, cg string) {
	t.Helper()
	var err error
	if fileExists(filepath.Join(cg, "freezer.state")) {
		err = os.WriteFile(filepath.Join(cg, "freezer.state"), []byte("THAWED"), 0)
	} else {
		err = os.WriteFile(filepath.Join(cg, "cgroup.freeze"), []byte("0"), 0)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// waitFrozen waits until the cgroup holds a process and reports it frozen.
func waitFrozen(t *testing.T, cg string) {
	t.Helper()
	for range 1000 {
		procs, _ := os.ReadFile(filepath.Join(cg, "cgroup.procs"))
		state, err := os.ReadFile(filepath.Join(cg, "freezer.state"))
		if err != nil {
			state, _ = os.ReadFile(filepath.Join(cg, "cgroup.events"))
		}
		if len(strings.TrimSpace(string(procs))) > 0 && (strings.Contains(string(state), "FROZEN") || strings.Contains(string(state), "frozen 1")) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("cgroup %s never froze", cg)
}

// TestFrozenProviderNeverHoldsPull: a provider that cannot be killed (its
// cgroup frozen, as a program stuck on a hung mount) fails as a timeout
// once killed and not reaped within reapWait; the next source serves; the
// failure is held as any failure is, so the next lookup does not run it
// again; it is reaped once it can exit.
func TestFrozenProviderNeverHoldsPull(t *testing.T) {
	cg := freezerCgroup(t)
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
	thawCgroup(t, cg)
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
	cg := freezerCgroup(t)
	_, prog := buildPrograms(t)
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
		waitFrozen(t, cg)
	}
	_, _, err = execRunner{}.Run(context.Background(), c)
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("not run: %d earlier runs", maxStuckRuns)) {
		t.Fatalf("err = %v, want the run refused", err)
	}
	procs, _ := os.ReadFile(filepath.Join(cg, "cgroup.procs"))
	if n := len(strings.Fields(string(procs))); n != maxStuckRuns {
		t.Fatalf("cgroup holds %d processes, want %d: the refused run must not start", n, maxStuckRuns)
	}
	thawCgroup(t, cg)
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
