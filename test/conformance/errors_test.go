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

package conformance

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nodecred/nodecred/test/e2e/harness"
)

// blackholeCap bounds a run against an endpoint that never answers.
const blackholeCap = 150 * time.Second

// directRun is one run of a real program outside containerd.
type directRun struct {
	Args          []string
	Stdin         string
	Exit          int // -1: killed at the cap
	Took          time.Duration
	Stdout        string
	Stderr        string
	ProgramLog    string // lines the program wrote to its own log file
	ProgramLogFor string
}

// runDirect runs bin with exactly env (nothing inherited), stdin, and a
// cap; logFile, if set, is the program's own log, whose new lines are kept.
func runDirect(t *testing.T, bin string, args []string, stdin string, env []string, limit time.Duration, logFile string) directRun {
	t.Helper()
	var before int64
	if fi, err := os.Stat(logFile); err == nil {
		before = fi.Size()
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	start := time.Now()
	err := cmd.Run()
	r := directRun{Args: args, Stdin: stdin, Took: time.Since(start), Stdout: stdout.String(), Stderr: stderr.String()}
	var exitErr *exec.ExitError
	switch {
	case ctx.Err() != nil:
		r.Exit = -1
	case errors.As(err, &exitErr):
		r.Exit = exitErr.ExitCode()
	case err != nil:
		t.Fatalf("run %s: %v", bin, err)
	}
	if logFile != "" {
		if b, err := os.ReadFile(logFile); err == nil && int64(len(b)) >= before {
			r.ProgramLog = string(b[before:])
			r.ProgramLogFor = "the program's own log, $AWS_ECR_CACHE_DIR/log/" + filepath.Base(logFile) + " (new lines)"
		}
	}
	return r
}

// refusedURL returns an http URL on loopback where nothing listens.
func refusedURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

// blackholeURL returns an http URL on loopback whose listener accepts
// connections and never answers.
func blackholeURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var held []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range held {
			c.Close()
		}
		mu.Unlock()
	})
	return "http://" + l.Addr().String()
}

// errorScenario is one program against one failing endpoint.
type errorScenario struct {
	prog  realProgram
	name  string
	slow  bool // needs -update-errors (a blackhole runs for minutes)
	run   func(t *testing.T, bin string) directRun
	check func(t *testing.T, r directRun)
}

const providerRequest = `{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"` + ecrHost + `/team/app:1"}`

// awsDirectEnv is the environment a program gets for endpoint url with the
// given keys: what containerd would pass it, minus the proxy.
func awsDirectEnv(t *testing.T, url, keyID, secret string) (env []string, ecrLog string) {
	home := t.TempDir()
	return []string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME=" + home,
		"AWS_REGION=" + ecrRegion,
		"AWS_ACCESS_KEY_ID=" + keyID,
		"AWS_SECRET_ACCESS_KEY=" + secret,
		"AWS_ENDPOINT_URL_ECR=" + url,
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_ECR_CACHE_DIR=" + home + "/.ecr",
	}, filepath.Join(home, ".ecr", "log", "ecr-login.log")
}

func ecrScenarios() []errorScenario {
	// endpoint returns the URL, access key id and secret of a scenario.
	type endpoint func(t *testing.T) (url, keyID, secret string)
	fake := func(t *testing.T) (string, string) {
		secret := "fake-secret-" + randomHex(16)
		remember("", secret)
		return "AKIA" + strings.ToUpper(randomHex(8)), secret
	}
	endpoints := []struct {
		name string
		slow bool
		ep   endpoint
	}{
		{"connection refused", false, func(t *testing.T) (string, string, string) {
			k, s := fake(t)
			return refusedURL(t), k, s
		}},
		{"blackhole (accepts, never answers)", true, func(t *testing.T) (string, string, string) {
			k, s := fake(t)
			return blackholeURL(t), k, s
		}},
		{"HTTP 400 AccessDeniedException", false, func(t *testing.T) (string, string, string) {
			e := startECREndpoint(t)
			e.failure.Store(int32(ecrAccessDenied))
			return e.URL, e.AccessKeyID, e.SecretKey
		}},
		{"HTTP 403 AccessDeniedException", false, func(t *testing.T) (string, string, string) {
			e := startECREndpoint(t)
			e.failure.Store(int32(ecrAccessDenied403))
			return e.URL, e.AccessKeyID, e.SecretKey
		}},
		{"HTTP 400 UnrecognizedClientException (unknown access key id)", false, func(t *testing.T) (string, string, string) {
			e := startECREndpoint(t)
			return e.URL, "AKIAUNKNOWNUNKNOWN00", e.SecretKey
		}},
	}
	var out []errorScenario
	for _, ep := range endpoints {
		out = append(out, errorScenario{
			prog: ecrLogin, name: ep.name, slow: ep.slow,
			run: func(t *testing.T, bin string) directRun {
				url, k, s := ep.ep(t)
				env, logFile := awsDirectEnv(t, url, k, s)
				return runDirect(t, bin, []string{"get"}, ecrHost, env, blackholeCap, logFile)
			},
			check: func(t *testing.T, r directRun) {
				if ep.slow {
					noCredential(t, r)
					return
				}
				// docker's helper protocol: the reason goes to the helper's
				// own log; stdout says only "not found", exit status 1.
				if r.Exit != 1 || strings.TrimSpace(r.Stdout) != "credentials not found in native keychain" {
					t.Errorf("exit %d, stdout %q; want 1 and the helper protocol's not-found message", r.Exit, r.Stdout)
				}
				if !strings.Contains(r.ProgramLog, "Error retrieving credentials") {
					t.Errorf("ecr-login's log has no failure reason: %q", r.ProgramLog)
				}
			},
		}, errorScenario{
			prog: ecrProvider, name: ep.name, slow: ep.slow,
			run: func(t *testing.T, bin string) directRun {
				url, k, s := ep.ep(t)
				env, _ := awsDirectEnv(t, url, k, s)
				return runDirect(t, bin, nil, providerRequest, env, blackholeCap, "")
			},
			check: func(t *testing.T, r directRun) {
				if ep.slow {
					noCredential(t, r)
					return
				}
				if r.Exit != 1 || r.Stdout != "" || !strings.Contains(r.Stderr, "Error running credential provider plugin") {
					t.Errorf("exit %d, stdout %q; want 1, nothing on stdout and the reason on stderr", r.Exit, r.Stdout)
				}
			},
		})
	}
	return out
}

func gcrScenarios() []errorScenario {
	get := func(t *testing.T, bin, credentialsFile string) directRun {
		env := []string{
			"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			"HOME=" + t.TempDir(),
			"GOOGLE_APPLICATION_CREDENTIALS=" + credentialsFile,
		}
		return runDirect(t, bin, []string{"get"}, gcrRegistryHost, env, blackholeCap, "")
	}
	failed := func(want string) func(*testing.T, directRun) {
		return func(t *testing.T, r directRun) {
			if r.Exit != 1 || !strings.Contains(r.Stdout, want) {
				t.Errorf("exit %d, stdout %q; want 1 and %q", r.Exit, r.Stdout, want)
			}
		}
	}
	wif := func(mutate func(t *testing.T, g *googleEndpoint) string) func(*testing.T, string) directRun {
		return func(t *testing.T, bin string) directRun {
			g := startGoogleEndpoint(t)
			file := g.externalAccountFile(t)
			if mutate != nil {
				if url := mutate(t, g); url != "" {
					b, _ := os.ReadFile(file)
					os.WriteFile(file, bytes.ReplaceAll(b, []byte(g.URL), []byte(url)), 0o600)
				}
			}
			return get(t, bin, file)
		}
	}
	return []errorScenario{
		{prog: gcrHelper, name: "external_account, STS answers HTTP 400 invalid_grant", run: wif(func(_ *testing.T, g *googleEndpoint) string {
			g.invalidGrant.Store(true)
			return ""
		}), check: failed("invalid_grant")},
		{prog: gcrHelper, name: "external_account, STS connection refused", run: wif(func(t *testing.T, _ *googleEndpoint) string {
			return refusedURL(t)
		}), check: failed("connection refused")},
		{prog: gcrHelper, name: "external_account, STS blackhole (accepts, never answers)", slow: true, run: wif(func(t *testing.T, _ *googleEndpoint) string {
			return blackholeURL(t)
		}), check: noCredential},
		{prog: gcrHelper, name: "service_account key, token_uri answers HTTP 400 invalid_grant", run: func(t *testing.T, bin string) directRun {
			g := startGoogleEndpoint(t)
			g.invalidGrant.Store(true)
			r := get(t, bin, g.serviceAccountFile(t))
			if r.Exit == 0 {
				// The self-signed JWT is a credential (by a throwaway test
				// key): keep it out of the file.
				r.Stdout = redactJSONField(r.Stdout, "Secret")
			}
			r.ProgramLog = fmt.Sprintf("token_uri calls: %d", g.oauthCalls.Load())
			r.ProgramLogFor = "the token_uri stand-in"
			return r
		}, check: func(t *testing.T, r directRun) {
			// v2.2.1 signs its own JWT (UseSelfSignedJWT) and never calls
			// token_uri, so a failing token endpoint does not fail it.
			if r.Exit != 0 || r.ProgramLog != "token_uri calls: 0" {
				t.Errorf("exit %d, %s: the helper was read to sign its own JWT and not call token_uri", r.Exit, r.ProgramLog)
			}
		}},
	}
}

// noCredential checks a run against an endpoint that never answers gave no
// credential: it failed or was still waiting at the cap.
func noCredential(t *testing.T, r directRun) {
	if r.Exit == 0 || strings.Contains(r.Stdout, "Secret") || strings.Contains(r.Stdout, "auth") {
		t.Errorf("exit %d, stdout %q: a credential from an endpoint that never answered", r.Exit, r.Stdout)
	}
}

// redactJSONField replaces the value of "field":"..." in s.
func redactJSONField(s, field string) string {
	key := `"` + field + `":"`
	i := strings.Index(s, key)
	if i < 0 {
		return s
	}
	j := strings.Index(s[i+len(key):], `"`)
	if j < 0 {
		return s
	}
	v := s[i+len(key) : i+len(key)+j]
	return s[:i+len(key)] + fmt.Sprintf("<%d-byte self-signed JWT removed>", len(v)) + s[i+len(key)+j:]
}

// TestRealProgramErrors runs the real programs directly against failing
// endpoints and checks how each reports the failure. With -update-errors
// it also runs the blackhole scenarios (minutes) and writes every output
// verbatim to testdata/real-errors.txt.
func TestRealProgramErrors(t *testing.T) {
	var report strings.Builder
	fmt.Fprintf(&report, "# Real output of unmodified cloud credential programs whose endpoint fails.\n")
	fmt.Fprintf(&report, "# Written by: go test ./test/conformance/ -run TestRealProgramErrors -update-errors -v\n")
	fmt.Fprintf(&report, "# Each program runs directly (not under containerd) with exactly the environment shown\n")
	fmt.Fprintf(&report, "# in the code (errors_test.go); endpoints are stand-ins on 127.0.0.1. Keys, secrets and\n")
	fmt.Fprintf(&report, "# tokens are fake, made up per run. Ports and timestamps are the run's.\n")
	for _, s := range append(ecrScenarios(), gcrScenarios()...) {
		t.Run(s.prog.Name+"/"+s.name, func(t *testing.T) {
			if s.slow && !*updateErrors {
				t.Skip("blackhole scenarios run for minutes; run with -update-errors")
			}
			bin := program(t, s.prog)
			r := s.run(t, bin)
			exit := fmt.Sprint(r.Exit)
			if r.Exit == -1 {
				exit = fmt.Sprintf("none: still running after %s, killed", blackholeCap)
			}
			t.Logf("%s %s: exit %s after %s\nstdout: %s\nstderr: %s\n%s: %s", s.prog.Name, s.name, exit,
				r.Took.Round(10*time.Millisecond), r.Stdout, r.Stderr, r.ProgramLogFor, r.ProgramLog)
			s.check(t, r)
			secrets.Lock()
			leaks := len(harness.Leaks(r.Stdout+r.Stderr+r.ProgramLog, secrets.forms))
			secrets.Unlock()
			if leaks > 0 {
				t.Errorf("the program's output carries %d secret form(s)", leaks)
			}
			fmt.Fprintf(&report, "\n=== %s (%s) / %s\n", s.prog.Name, s.prog.ref(), s.name)
			fmt.Fprintf(&report, "command: %s  (stdin: %s)\n", strings.Join(append([]string{s.prog.Name}, r.Args...), " "), r.Stdin)
			fmt.Fprintf(&report, "exit status: %s\ntook: %s\n", exit, r.Took.Round(10*time.Millisecond))
			fmt.Fprintf(&report, "--- stdout\n%s", ensureNewline(r.Stdout))
			fmt.Fprintf(&report, "--- stderr\n%s", ensureNewline(r.Stderr))
			if r.ProgramLogFor != "" {
				fmt.Fprintf(&report, "--- %s\n%s", r.ProgramLogFor, ensureNewline(r.ProgramLog))
			}
		})
	}
	if *updateErrors && !t.Failed() {
		if err := os.WriteFile(filepath.Join("testdata", "real-errors.txt"), []byte(report.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func ensureNewline(s string) string {
	if s == "" || strings.HasSuffix(s, "\n") {
		return s
	}
	return s + "\n"
}
