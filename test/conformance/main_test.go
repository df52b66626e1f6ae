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

// Package conformance runs real, unmodified credential programs
// (docker-credential-ecr-login, ecr-credential-provider,
// docker-credential-gcr, docker-credential-acr-env, docker-credential-pass
// over a real pass and GnuPG, and acr-credential-provider where it builds)
// under containerd with nodecred, configured only through containerd's
// environment and the nodecred config section, as a systemd drop-in would.
//
// The programs are built from the Go module proxy into bin/tools/real. Their
// cloud endpoints are stand-ins on loopback that check what the real ones
// check cheaply (SigV4 signatures, JWT signatures). Registries are reached by
// their real cloud names through an HTTPS proxy set in containerd's
// environment; the proxy terminates TLS with a test CA (hosts.toml `ca`) and
// forwards to a distribution registry on loopback whose password is the
// stand-in's token. It needs root.
package conformance

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nodecred/nodecred/test/e2e/harness"
)

var (
	bins       harness.Binaries
	harnessErr error
	repoRoot   string
	built      = map[string]builtProgram{}
	// buildTook is the wall time of building the real programs this run.
	buildTook time.Duration

	updateErrors = flag.Bool("update-errors", false,
		"run every failure scenario of step 5, blackholes included (minutes), and rewrite testdata/real-errors.txt")
)

func TestMain(m *testing.M) {
	flag.Parse()
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "conformance: these tests start containerd and must run as root")
		os.Exit(1)
	}
	wd, _ := os.Getwd()
	var err error
	if repoRoot, err = harness.RepoRoot(wd); err != nil {
		fmt.Fprintln(os.Stderr, "conformance:", err)
		os.Exit(1)
	}
	// The tests that run programs directly need no containerd; those that
	// do fail with this error.
	if bins, harnessErr = harness.Build(context.Background(), repoRoot); harnessErr != nil {
		fmt.Println("conformance: building containerd and the registry failed:", harnessErr)
	}
	dir := filepath.Join(repoRoot, "bin", "tools", "real")
	start := time.Now()
	for _, p := range realPrograms {
		b := buildReal(context.Background(), *p, dir)
		built[p.Name] = b
		switch {
		case b.Err != nil:
			fmt.Printf("conformance: %s (%s): NOT BUILT: %v\n", p.Name, p.ref(), b.Err)
		case b.Cached:
			fmt.Printf("conformance: %s (%s): cached %s\n", p.Name, p.ref(), b.Path)
		default:
			fmt.Printf("conformance: %s (%s): built in %s\n", p.Name, p.ref(), b.Took.Round(100*time.Millisecond))
		}
	}
	buildTook = time.Since(start)
	fmt.Printf("conformance: real programs ready in %s\n", buildTook.Round(100*time.Millisecond))
	os.Exit(m.Run())
}

// needHarness fails t when containerd or the registry could not be built.
func needHarness(t *testing.T) {
	t.Helper()
	if harnessErr != nil {
		t.Fatalf("containerd and the registry could not be built: %v", harnessErr)
	}
}

// program returns the path of p's binary, failing t when p could not be
// built: the suite never stands in for a real program.
func program(t *testing.T, p realProgram) string {
	t.Helper()
	b := built[p.Name]
	if b.Err != nil {
		t.Fatalf("%s (%s) could not be built from the module proxy: %v", p.Name, p.ref(), b.Err)
	}
	t.Logf("real program: %s = %s (%s)", p.Name, p.ref(), b.Path)
	return b.Path
}
