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

package helper

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker-credential-helpers/client"

	"github.com/nodecred/nodecred/credentials"
	"github.com/nodecred/nodecred/credentials/static"
	"github.com/nodecred/nodecred/internal/answercache"
	"github.com/nodecred/nodecred/internal/fakeclock"
	"github.com/nodecred/nodecred/internal/hostmatch"
	"github.com/nodecred/nodecred/internal/testprog"
)

// testHelper is the test helper program with the environment that
// configures it, as a real helper is configured.
type testHelper struct {
	program string
	count   string   // one line per run
	env     []string // CREDHELPER_* settings, for a source's env
}

// newTestHelper is the test helper (testprog.NewHelper) with settings:
// creds (server URL to "user:secret") and further CREDHELPER_* variables.
func newTestHelper(t *testing.T, creds map[string]string, settings ...string) testHelper {
	t.Helper()
	h := testprog.NewHelper(t, creds, settings...)
	return testHelper{program: h.Program, count: h.Count, env: h.Env}
}

// source returns a helper source for every host.
func (h testHelper) source(timeout time.Duration) *Source {
	return New(h.program, h.env, hostmatch.Patterns{}, timeout)
}

func TestHelperProtocol(t *testing.T) {
	src := newTestHelper(t, map[string]string{
		"registry.example.com":        "robot:helper-pw",
		"https://index.docker.io/v1/": "hub:hub-pw",
		"token.example.com":           "<token>:refresh-tok",
	}).source(10 * time.Second)
	tests := []struct {
		host, user, pass, token string
	}{
		{"registry.example.com", "robot", "helper-pw", ""},
		{"registry-1.docker.io", "hub", "hub-pw", ""},
		{"token.example.com", "", "", "refresh-tok"},
		{"unknown.example.com", "", "", ""},
	}
	for _, tt := range tests {
		c, err := src.Get(context.Background(), credentials.Request{Host: tt.host, Ref: tt.host + "/app:1"})
		if err != nil {
			t.Fatalf("%s: %v", tt.host, err)
		}
		if c.Username != tt.user || c.Password.Reveal() != tt.pass || c.IdentityToken.Reveal() != tt.token {
			t.Errorf("%s: got %q, want %q", tt.host, c.Username, tt.user)
		}
	}
}

func TestHelperHostPatterns(t *testing.T) {
	h := newTestHelper(t, map[string]string{"other.example.com": "u:p"})
	hosts, _ := hostmatch.ParsePatterns([]string{"*.ecr.example.com"})
	c, err := New(h.program, h.env, hosts, 0).Get(context.Background(), credentials.Request{Host: "other.example.com"})
	if err != nil || !c.IsZero() {
		t.Fatalf("got %q, %v for a host outside the patterns", c.Username, err)
	}
	if n := countLines(t, h.count); n != 0 {
		t.Fatalf("helper ran %d times for a host outside its patterns", n)
	}
}

// envOf reads an environment the test programs wrote, one NAME=value a line.
func envOf(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

// TestHelperEnvironmentAsDockerRunsIt runs the same helper through
// docker-credential-helpers' own client (client.NewShellProgramFunc, which
// the docker CLI uses) and through nodecred, and compares what it saw:
// the daemon's whole environment, with the source's env on top.
func TestHelperEnvironmentAsDockerRunsIt(t *testing.T) {
	t.Setenv("AWS_REGION", "eu-west-3")
	t.Setenv("HTTPS_PROXY", "http://proxy.internal:3128")
	t.Setenv("AWS_PROFILE", "from-daemon")
	dir := t.TempDir()
	h := newTestHelper(t, map[string]string{"r.io": "u:p"})

	dockerEnv := filepath.Join(dir, "docker.env")
	for _, kv := range append(h.env, "CREDHELPER_ENV_FILE="+dockerEnv) {
		name, value, _ := strings.Cut(kv, "=")
		t.Setenv(name, value)
	}
	if _, err := client.Get(client.NewShellProgramFunc(h.program), "r.io"); err != nil {
		t.Fatalf("docker's client: %v", err)
	}

	nodecredEnv := filepath.Join(dir, "nodecred.env")
	src := New(h.program, []string{"CREDHELPER_ENV_FILE=" + nodecredEnv}, hostmatch.Patterns{}, 10*time.Second)
	if c, err := src.Get(context.Background(), credentials.Request{Host: "r.io"}); err != nil || c.Username != "u" {
		t.Fatalf("nodecred: got %q, %v", c.Username, err)
	}
	want, got := envOf(t, dockerEnv), envOf(t, nodecredEnv)
	slices.Sort(want)
	slices.Sort(got)
	want = slices.DeleteFunc(want, func(kv string) bool { return strings.HasPrefix(kv, "CREDHELPER_ENV_FILE=") })
	got = slices.DeleteFunc(got, func(kv string) bool { return strings.HasPrefix(kv, "CREDHELPER_ENV_FILE=") })
	if !slices.Equal(want, got) {
		t.Fatalf("environment differs from docker's:\ndocker:   %q\nnodecred: %q", want, got)
	}

	// A source's env wins over the daemon's, as a kubelet provider's does.
	overlaid := filepath.Join(dir, "overlaid.env")
	src = New(h.program, []string{"AWS_PROFILE=ecr", "CREDHELPER_ENV_FILE=" + overlaid}, hostmatch.Patterns{}, 10*time.Second)
	if _, err := src.Get(context.Background(), credentials.Request{Host: "r.io"}); err != nil {
		t.Fatal(err)
	}
	env := envOf(t, overlaid)
	if !slices.Contains(env, "AWS_PROFILE=ecr") || slices.Contains(env, "AWS_PROFILE=from-daemon") || !slices.Contains(env, "AWS_REGION=eu-west-3") {
		t.Fatalf("overlaid environment: %q", env)
	}
}

// TestHelperFailureGivesItsReason: helpers report why they failed on
// stdout (the protocol's rule, followed by gcr and secretservice); the
// source's error carries that reason, redacted, and the chain logs it once
// and counts it as an error.
func TestHelperFailureGivesItsReason(t *testing.T) {
	const reason = "error getting credentials: oauth2: cannot fetch token: 400 Bad Request"
	h := newTestHelper(t, nil, "CREDHELPER_MODE=fail", "CREDHELPER_REASON="+reason+" access_token=ya29.a0AfH6SMBx3secretsecretsecret")
	ctx, logs := capturedLog(t)
	chain := credentials.Chain{{Name: "helper:gcr", Source: h.source(10 * time.Second)}}
	for range 3 {
		_, err := h.source(10*time.Second).Get(ctx, credentials.Request{Host: "gcr.io"})
		if err == nil || !strings.Contains(err.Error(), reason) || !strings.Contains(err.Error(), h.program) {
			t.Fatalf("source error = %v; want the helper named with its reason", err)
		}
		if c, err := chain.Get(ctx, credentials.Request{Host: "gcr.io"}); err != nil || !c.IsZero() {
			t.Fatalf("chain: %q, %v", c.Username, err)
		}
	}
	if n := strings.Count(logs.String(), "credential source failed"); n != 1 {
		t.Errorf("%d warnings for one failed run, want 1; log:\n%s", n, logs)
	}
	if !strings.Contains(logs.String(), "400 Bad Request") || strings.Contains(logs.String(), "ya29.") {
		t.Errorf("log lacks the reason or carries the token:\n%s", logs)
	}
}

func TestHelperFaultsAreErrorsLoggedOnce(t *testing.T) {
	for _, mode := range []string{"crash", "big", "garbage"} {
		t.Run(mode, func(t *testing.T) {
			h := newTestHelper(t, nil, "CREDHELPER_MODE="+mode)
			ctx, logs := capturedLog(t)
			chain := credentials.Chain{{Name: "helper", Source: h.source(10 * time.Second)}}
			for range 3 {
				c, err := chain.Get(ctx, credentials.Request{Host: "r.example.com"})
				if err != nil || !c.IsZero() {
					t.Fatalf("got %q, %v; want a miss from the chain", c.Username, err)
				}
			}
			if n := countLines(t, h.count); n != 1 {
				t.Errorf("helper ran %d times; a failure is cached, want 1", n)
			}
			if n := strings.Count(logs.String(), "credential source failed"); n != 1 {
				t.Errorf("%d warnings, want 1; log:\n%s", n, logs)
			}
			if strings.Contains(logs.String(), "c2VjcmV0LXRva2Vu") || strings.Contains(logs.String(), "xxxxxxxx") {
				t.Errorf("log carries the token-like output:\n%s", logs)
			}
		})
	}
}

// TestHelperMissReasonLoggedOncePerChange: ecr-login and pass answer "not
// found" for every failure, with the reason elsewhere; it stays a miss,
// logged with the program's words once per change of reason, and is kept
// no longer than a failure.
func TestHelperMissReasonLoggedOncePerChange(t *testing.T) {
	h := newTestHelper(t, nil, "CREDHELPER_MODE=miss", "CREDHELPER_REASON=no EC2 IMDS role found")
	clock := fakeclock.New()
	ctx, logs := capturedLog(t)
	hc := newClient(h.program, h.env, 10*time.Second, clock.Now)
	for _, host := range []string{"a.io", "b.io", "a.io"} {
		if c, err := hc.Get(ctx, host); err != nil || !c.IsZero() {
			t.Fatalf("%s: got %q, %v; want a miss", host, c.Username, err)
		}
	}
	if n := strings.Count(logs.String(), "no EC2 IMDS role found"); n != 1 {
		t.Errorf("the reason was logged %d times, want once; log:\n%s", n, logs)
	}
	if !strings.Contains(logs.String(), "credentials not found in native keychain") {
		t.Errorf("the program's own answer is not in the log:\n%s", logs)
	}
	if n := countLines(t, h.count); n != 2 {
		t.Fatalf("helper ran %d times for two hosts, want 2", n)
	}
	clock.Advance(answercache.FailureTTL(10*time.Second) + time.Second)
	hc.Get(ctx, "a.io")
	if n := countLines(t, h.count); n != 3 {
		t.Fatalf("a miss was kept longer than a failure: %d runs, want 3", n)
	}
}

func TestFailedRunNotRetriedSoonerThanTimeout(t *testing.T) {
	h := newTestHelper(t, nil, "CREDHELPER_MODE=crash")
	clock := fakeclock.New()
	const timeout = 30 * time.Second
	hc := newClient(h.program, h.env, timeout, clock.Now)
	hc.Get(context.Background(), "r.io")
	clock.Advance(timeout - time.Second)
	if _, err := hc.Get(context.Background(), "r.io"); err == nil {
		t.Fatal("the cached failure was not returned")
	}
	if n := countLines(t, h.count); n != 1 {
		t.Fatalf("a failed run was retried within its timeout: %d runs", n)
	}
	clock.Advance(2 * time.Second)
	hc.Get(context.Background(), "r.io")
	if n := countLines(t, h.count); n != 2 {
		t.Fatalf("%d runs after the failure expired, want 2", n)
	}
}

func TestHungHelperCostsItsTimeoutAndNextSourceServes(t *testing.T) {
	h := newTestHelper(t, nil, "CREDHELPER_MODE=hang")
	hosts, _ := hostmatch.ParsePatterns([]string{"r.example.com"})
	chain := credentials.Chain{
		{Name: "helper", Source: h.source(200 * time.Millisecond)},
		{Name: "static", Source: static.New(hosts, "robot", "pw")},
	}
	done := make(chan credentials.Credential, 1)
	go func() {
		c, _ := chain.Get(context.Background(), credentials.Request{Host: "r.example.com"})
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

// TestTimeoutKillsHelperChildren: at timeout the helper's children die,
// those in its process group and those that started a session of their own.
func TestTimeoutKillsHelperChildren(t *testing.T) {
	for _, mode := range []string{"hang-child", "setsid-child"} {
		t.Run(mode, func(t *testing.T) {
			pidFile := filepath.Join(t.TempDir(), "child.pid")
			h := newTestHelper(t, nil, "CREDHELPER_MODE="+mode, "CREDHELPER_PID_FILE="+pidFile)
			_, err := h.source(500*time.Millisecond).Get(context.Background(), credentials.Request{Host: "r.io"})
			if err == nil || !strings.Contains(err.Error(), "timed out after 500ms") {
				t.Fatalf("err = %v, want a timeout", err)
			}
			testprog.WaitDead(t, childPID(t, pidFile))
		})
	}
}

// TestHelperAnswerWinsOverChildHoldingStdout: a helper that answers and
// exits 0 while a child it started keeps stdout open is answered from, and
// the child is killed.
func TestHelperAnswerWinsOverChildHoldingStdout(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	h := newTestHelper(t, map[string]string{"r.io": "u:p"}, "CREDHELPER_MODE=exit-child", "CREDHELPER_PID_FILE="+pidFile)
	c, err := h.source(time.Minute).Get(context.Background(), credentials.Request{Host: "r.io"})
	if err != nil || c.Username != "u" {
		t.Fatalf("got %q, %v; want the helper's answer", c.Username, err)
	}
	testprog.WaitDead(t, childPID(t, pidFile))
}

// TestCancelledLookupStopsWaiting: a lookup waiting on another caller's run
// of the helper returns when its own pull is cancelled.
func TestCancelledLookupStopsWaiting(t *testing.T) {
	h := newTestHelper(t, nil, "CREDHELPER_MODE=hang")
	src := h.source(3 * time.Second)
	first := make(chan error, 1)
	go func() {
		_, err := src.Get(context.Background(), credentials.Request{Host: "r.io"})
		first <- err
	}()
	for countLines(t, h.count) == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	ctx, cancel := context.WithCancel(context.Background())
	second := make(chan error, 1)
	go func() {
		_, err := src.Get(ctx, credentials.Request{Host: "r.io"})
		second <- err
	}()
	cancel()
	if err := <-second; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled lookup: err = %v, want context.Canceled", err)
	}
	select {
	case <-first:
		t.Fatal("the shared run ended with the cancelled caller")
	default:
	}
	if err := <-first; err == nil || !strings.Contains(err.Error(), "timed out") {
		t.Fatalf("first lookup: err = %v, want the run's timeout", err)
	}
	if n := countLines(t, h.count); n != 1 {
		t.Fatalf("helper ran %d times, want 1", n)
	}
}

func childPID(t *testing.T, pidFile string) int {
	t.Helper()
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatalf("the helper never started its child: %v", err)
	}
	pid, _ := strconv.Atoi(string(b))
	return pid
}

func TestHelperCacheAndExpiry(t *testing.T) {
	h := newTestHelper(t, map[string]string{"r.io": "u:p"})
	clock := fakeclock.New()
	hc := newClient(h.program, h.env, 10*time.Second, clock.Now)
	ctx := context.Background()
	for range 3 {
		if c, _ := hc.Get(ctx, "r.io"); c.Username != "u" {
			t.Fatalf("got %q", c.Username)
		}
	}
	if n := countLines(t, h.count); n != 1 {
		t.Fatalf("helper ran %d times for 3 lookups inside the cache time, want 1", n)
	}
	clock.Advance(helperAnswerTTL + time.Second)
	hc.Get(ctx, "r.io")
	if n := countLines(t, h.count); n != 2 {
		t.Fatalf("helper ran %d times after expiry, want 2", n)
	}
}

func TestConcurrentHelperLookupsRunOnce(t *testing.T) {
	h := newTestHelper(t, map[string]string{"r.io": "u:p"})
	hc := newClient(h.program, h.env, 10*time.Second, nil)
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if c, _ := hc.Get(context.Background(), "r.io"); c.Username != "u" {
				t.Errorf("got %q", c.Username)
			}
		})
	}
	wg.Wait()
	if n := countLines(t, h.count); n != 1 {
		t.Fatalf("50 concurrent lookups ran the helper %d times, want 1", n)
	}
}

func TestResolveHelper(t *testing.T) {
	program := newTestHelper(t, nil).program
	t.Setenv("PATH", filepath.Dir(program))
	if got, err := Resolve("nodecredtest"); err != nil || got != program {
		t.Fatalf("Resolve(nodecredtest) = %q, %v", got, err)
	}
	if got, err := Resolve(program); err != nil || got != program {
		t.Fatalf("Resolve(abs) = %q, %v", got, err)
	}
	for _, bad := range []string{"missing", "../x", "/nonexistent/helper", filepath.Dir(program)} {
		if _, err := Resolve(bad); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("Resolve(%q) err = %v, want one naming it", bad, err)
		}
	}
}

// TestRejectDropsTheHelpersAnswer: a credential that the registry refused
// drops the helper's cached answer once, so the next lookup runs it again.
func TestRejectDropsTheHelpersAnswer(t *testing.T) {
	h := newTestHelper(t, map[string]string{"r.io": "u:p"})
	src := h.source(10 * time.Second)
	c, err := src.Get(context.Background(), credentials.Request{Host: "r.io"})
	if err != nil || c.Username != "u" {
		t.Fatalf("got %q, %v", c.Username, err)
	}
	if !c.Reject() {
		t.Fatal("Reject dropped nothing")
	}
	c, _ = src.Get(context.Background(), credentials.Request{Host: "r.io"})
	if n := countLines(t, h.count); n != 2 {
		t.Fatalf("helper ran %d times, want 2: the rejected answer was not dropped", n)
	}
	if c.Reject() {
		t.Fatal("a second Reject within the failure lifetime dropped the answer again")
	}
	if (credentials.Credential{Username: "u", Password: "p"}).Reject() {
		t.Fatal("a credential from no cache reported a drop")
	}
}

// TestOutsideHolderOfStdoutSurvives: a helper that hands its stdout to a
// process it did not start (SCM_RIGHTS) and then answers is answered from,
// and that process, which the helper does not own, is not signalled.
func TestOutsideHolderOfStdoutSurvives(t *testing.T) {
	h := newTestHelper(t, map[string]string{"r.io": "u:p"})
	socket := filepath.Join(t.TempDir(), "fds")
	holder := exec.Command(h.program)
	holder.Env = append(os.Environ(), "CREDHELPER_HOLD_FDS="+socket)
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = holder.Wait(); close(exited) }()
	t.Cleanup(func() { _ = holder.Process.Kill(); <-exited })
	for i := 0; !fileExistsTest(socket); i++ {
		if i == 500 {
			t.Fatal("the outside process never listened")
		}
		time.Sleep(10 * time.Millisecond)
	}
	h.env = append(h.env, "CREDHELPER_MODE=pass-stdout", "CREDHELPER_FD_SOCKET="+socket)
	c, err := h.source(time.Minute).Get(context.Background(), credentials.Request{Host: "r.io"})
	if err != nil || c.Username != "u" {
		t.Fatalf("got %q, %v; want the helper's answer", c.Username, err)
	}
	if !fileExistsTest(socket + ".held") {
		t.Fatal("the outside process did not receive the helper's stdout")
	}
	select {
	case <-exited:
		t.Fatalf("the outside process holding the helper's stdout was killed: %v", holder.ProcessState)
	default:
	}
	if !testprog.Alive(holder.Process.Pid) {
		t.Fatal("the outside process holding the helper's stdout was stopped or killed")
	}
}

func fileExistsTest(p string) bool { _, err := os.Stat(p); return err == nil }
