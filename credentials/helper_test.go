package credentials

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// helperCopy copies the test helper into its own directory with a sidecar
// config, and returns its path and its count file.
func helperCopy(t *testing.T, cfg map[string]any) (program, countFile string) {
	t.Helper()
	src, _ := buildPrograms(t)
	dir := t.TempDir()
	program = filepath.Join(dir, "docker-credential-nodecredtest")
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(program, b, 0o755); err != nil {
		t.Fatal(err)
	}
	countFile = filepath.Join(dir, "count")
	cfg["count_file"] = countFile
	j, _ := json.Marshal(cfg)
	if err := os.WriteFile(program+".json", j, 0o600); err != nil {
		t.Fatal(err)
	}
	return program, countFile
}

func TestHelperProtocol(t *testing.T) {
	program, _ := helperCopy(t, map[string]any{"creds": map[string]string{
		"registry.example.com":        "robot:helper-pw",
		"https://index.docker.io/v1/": "hub:hub-pw",
		"token.example.com":           "<token>:refresh-tok",
	}})
	src := NewHelperSource(program, Patterns{}, 10*time.Second)
	tests := []struct {
		host, user, pass, token string
	}{
		{"registry.example.com", "robot", "helper-pw", ""},
		{"registry-1.docker.io", "hub", "hub-pw", ""},
		{"token.example.com", "", "", "refresh-tok"},
		{"unknown.example.com", "", "", ""},
	}
	for _, tt := range tests {
		c, err := src.Get(context.Background(), Request{Host: tt.host, Ref: tt.host + "/app:1"})
		if err != nil {
			t.Fatalf("%s: %v", tt.host, err)
		}
		if c.Username != tt.user || c.Password.Reveal() != tt.pass || c.IdentityToken.Reveal() != tt.token {
			t.Errorf("%s: got %q, want %q", tt.host, c.Username, tt.user)
		}
	}
}

func TestHelperHostPatterns(t *testing.T) {
	program, count := helperCopy(t, map[string]any{"creds": map[string]string{"other.example.com": "u:p"}})
	hosts, _ := ParsePatterns([]string{"*.ecr.example.com"})
	c, err := NewHelperSource(program, hosts, 0).Get(context.Background(), Request{Host: "other.example.com"})
	if err != nil || !c.IsZero() {
		t.Fatalf("got %q, %v for a host outside the patterns", c.Username, err)
	}
	if n := countLines(t, count); n != 0 {
		t.Fatalf("helper ran %d times for a host outside its patterns", n)
	}
}

func TestHelperFaultsAreMissesWithOneRedactedWarning(t *testing.T) {
	for _, mode := range []string{"fail", "big", "garbage"} {
		t.Run(mode, func(t *testing.T) {
			program, count := helperCopy(t, map[string]any{"mode": mode})
			ctx, logs := capturedLog(t)
			src := NewHelperSource(program, Patterns{}, 10*time.Second)
			for range 3 {
				c, err := src.Get(ctx, Request{Host: "r.example.com"})
				if err != nil || !c.IsZero() {
					t.Fatalf("got %q, %v; want a miss", c.Username, err)
				}
			}
			if n := countLines(t, count); n != 1 {
				t.Errorf("helper ran %d times; a failure is cached briefly, want 1", n)
			}
			if n := strings.Count(logs.String(), "credential helper failed"); n != 1 {
				t.Errorf("%d warnings, want 1; log:\n%s", n, logs)
			}
			if strings.Contains(logs.String(), "c2VjcmV0LXRva2Vu") {
				t.Errorf("log carries the token-like stderr:\n%s", logs)
			}
		})
	}
}

func TestHungHelperCostsItsTimeoutAndNextSourceServes(t *testing.T) {
	program, _ := helperCopy(t, map[string]any{"mode": "hang"})
	hosts, _ := ParsePatterns([]string{"r.example.com"})
	chain := Chain{
		{"helper", NewHelperSource(program, Patterns{}, 200*time.Millisecond)},
		{"static", NewStaticSource(hosts, "robot", "pw")},
	}
	done := make(chan Credential, 1)
	go func() {
		c, _ := chain.Get(context.Background(), Request{Host: "r.example.com"})
		done <- c
	}()
	select {
	case c := <-done:
		if c.Source != "static" {
			t.Fatalf("served by %q, want static", c.Source)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("a hung helper wedged the lookup")
	}
}

func TestTimeoutKillsHelperChildren(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	program, _ := helperCopy(t, map[string]any{"mode": "hang-child", "child_pid_file": pidFile})
	if c, _ := NewHelperSource(program, Patterns{}, 500*time.Millisecond).Get(context.Background(), Request{Host: "r.io"}); !c.IsZero() {
		t.Fatal("hung helper answered")
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatalf("the helper never started its child: %v", err)
	}
	pid, _ := strconv.Atoi(string(b))
	for range 100 {
		if !alive(pid) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("the helper's child %d outlived the timeout", pid)
}

// alive reports whether pid runs and is not a zombie.
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	status, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	return err == nil && !strings.Contains(string(status), ") Z ")
}

func TestHelperCacheAndExpiry(t *testing.T) {
	program, count := helperCopy(t, map[string]any{"creds": map[string]string{"r.io": "u:p"}})
	clock := newFakeClock()
	h := newHelperClient(program, 10*time.Second, nil, clock.Now)
	ctx := context.Background()
	for range 3 {
		if c := h.get(ctx, "r.io"); c.Username != "u" {
			t.Fatalf("got %q", c.Username)
		}
	}
	if n := countLines(t, count); n != 1 {
		t.Fatalf("helper ran %d times for 3 lookups inside the cache time, want 1", n)
	}
	clock.Advance(helperAnswerTTL + time.Second)
	h.get(ctx, "r.io")
	if n := countLines(t, count); n != 2 {
		t.Fatalf("helper ran %d times after expiry, want 2", n)
	}
}

func TestConcurrentHelperLookupsRunOnce(t *testing.T) {
	program, count := helperCopy(t, map[string]any{"creds": map[string]string{"r.io": "u:p"}})
	h := newHelperClient(program, 10*time.Second, nil, nil)
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if c := h.get(context.Background(), "r.io"); c.Username != "u" {
				t.Errorf("got %q", c.Username)
			}
		})
	}
	wg.Wait()
	if n := countLines(t, count); n != 1 {
		t.Fatalf("50 concurrent lookups ran the helper %d times, want 1", n)
	}
}

func TestResolveHelper(t *testing.T) {
	program, _ := helperCopy(t, map[string]any{})
	t.Setenv("PATH", filepath.Dir(program))
	if got, err := ResolveHelper("nodecredtest"); err != nil || got != program {
		t.Fatalf("ResolveHelper(nodecredtest) = %q, %v", got, err)
	}
	if got, err := ResolveHelper(program); err != nil || got != program {
		t.Fatalf("ResolveHelper(abs) = %q, %v", got, err)
	}
	for _, bad := range []string{"missing", "../x", "/nonexistent/helper", filepath.Dir(program)} {
		if _, err := ResolveHelper(bad); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("ResolveHelper(%q) err = %v, want one naming it", bad, err)
		}
	}
}

func TestDockerConfigCredHelpersAndCredsStore(t *testing.T) {
	program, _ := helperCopy(t, map[string]any{"creds": map[string]string{
		"helped.example.com": "from-helper:p1",
		"stored.example.com": "from-store:p2",
		"auths.example.com":  "from-store:p3",
	}})
	t.Setenv("PATH", filepath.Dir(program))
	path := filepath.Join(t.TempDir(), "config.json")
	cfg := `{
	  "auths": {"auths.example.com": {"auth": "` + b64("from-auths:p4") + `"}, "helped.example.com": {"auth": "` + b64("shadowed:p5") + `"}},
	  "credHelpers": {"helped.example.com": "nodecredtest"},
	  "credsStore": "nodecredtest"
	}`
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	src := NewDockerConfigSource(path, 10*time.Second)
	for host, want := range map[string]string{
		"helped.example.com":  "from-helper", // credHelpers wins over auths, as in docker
		"auths.example.com":   "from-auths",  // auths before credsStore
		"stored.example.com":  "from-store",  // credsStore for hosts without auths
		"missing.example.com": "",
	} {
		c, err := src.Get(context.Background(), Request{Host: host})
		if err != nil || c.Username != want {
			t.Errorf("%s: got %q, %v; want %q", host, c.Username, err, want)
		}
	}
}

func TestRedactOutput(t *testing.T) {
	in := []byte("error: token eyJhbGciOiJSUzI1NiJ9.payload.sig rejected\nsecond line " + strings.Repeat("y", 400))
	out := redactOutput(in)
	if strings.Contains(out, "eyJhbGci") || strings.Contains(out, "\n") || len(out) > 260 {
		t.Fatalf("redactOutput = %q", out)
	}
}
