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
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/nodecred/nodecred/test/e2e/harness"
)

// secrets holds every secret form the run has made (tokens, passwords,
// secret keys); each containerd log is scanned for all of them.
var secrets struct {
	sync.Mutex
	forms []string
}

// remember adds password's forms (with user, for basic-auth forms) to the
// scan list.
func remember(user, password string) {
	secrets.Lock()
	defer secrets.Unlock()
	secrets.forms = append(secrets.forms, harness.SecretForms(user, password)...)
}

// requestID returns an AWS-style request id (a UUID).
func requestID() string {
	h := randomHex(16)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// startContainerd starts bin with cfg and, when the test ends, scans its log
// for every secret form of the run.
func startContainerd(t *testing.T, bin string, cfg harness.ContainerdConfig) *harness.Containerd {
	t.Helper()
	needHarness(t)
	dir, err := os.MkdirTemp("", "ncc")
	if err != nil {
		t.Fatal(err)
	}
	c, err := harness.StartContainerd(context.Background(), bin, dir, cfg)
	if err != nil {
		os.RemoveAll(dir)
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Stop()
		secrets.Lock()
		leaks := harness.Leaks(c.Log(), secrets.forms)
		secrets.Unlock()
		if len(leaks) > 0 {
			t.Errorf("containerd log %s carries %d secret form(s)", c.LogPath, len(leaks))
		} else {
			t.Logf("containerd log scanned for %d secret forms: none found", len(secrets.forms))
		}
		if !t.Failed() {
			os.RemoveAll(dir)
		} else {
			t.Logf("containerd log kept at %s", c.LogPath)
		}
	})
	return c
}

// privateRegistry starts a distribution registry with one user and pushes
// a small generated image to each repo:tag.
func privateRegistry(t *testing.T, user, password string, refs ...string) *harness.Registry {
	t.Helper()
	needHarness(t)
	r, err := harness.StartPrivateRegistry(context.Background(), bins.Registry, t.TempDir(), user, password, refs...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Stop)
	return r
}

// nodecredSection renders the nodecred section with the given sources.
func nodecredSection(sources ...string) string {
	var b strings.Builder
	b.WriteString("[plugins.\"io.containerd.credentials.v1.nodecred\"]\n")
	for _, s := range sources {
		b.WriteString("\n[[plugins.\"io.containerd.credentials.v1.nodecred\".sources]]\n")
		b.WriteString(s)
		b.WriteString("\n")
	}
	return b.String()
}

func helperSource(program string, hosts ...string) string {
	return fmt.Sprintf("type = \"helper\"\nhelper = %q\nhosts = [%s]\ntimeout = \"30s\"", program, quoteList(hosts))
}

func kubeletSource(config, binDir string) string {
	return fmt.Sprintf("type = \"kubelet\"\nconfig = %q\nbin_dir = %q\ntimeout = \"30s\"", config, binDir)
}

func quoteList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

// writeFile writes a 0600 file under dir and returns its path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// runSandbox calls RunPodSandbox, which pulls the pinned sandbox image
// first. Containers cannot start on this machine, so even a good pull ends
// in an error after it; callers check the image store.
func runSandbox(c *harness.Containerd, name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	_, err := c.Runtime().RunPodSandbox(ctx, &runtime.RunPodSandboxRequest{Config: harness.HostNetworkSandbox(name)})
	return err
}

// criPull pulls ref through CRI with no credentials from the caller.
func criPull(c *harness.Containerd, ref string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	_, err := c.Images().PullImage(ctx, &runtime.PullImageRequest{Image: &runtime.ImageSpec{Image: ref}})
	return err
}

// imagePresent reports whether CRI has ref in its image store.
func imagePresent(t *testing.T, c *harness.Containerd, ref string) bool {
	t.Helper()
	resp, err := c.Images().ImageStatus(context.Background(), &runtime.ImageStatusRequest{Image: &runtime.ImageSpec{Image: ref}})
	if err != nil {
		t.Fatalf("ImageStatus %s: %v", ref, err)
	}
	return resp.GetImage() != nil
}

// decisions returns containerd's nodecred credential decision lines for
// host.
func decisions(c *harness.Containerd, host string) []string {
	var out []string
	for _, line := range strings.Split(c.Log(), "\n") {
		// logfmt quotes a value only when it has to (a port's colon).
		if strings.Contains(line, `msg="credential decision"`) && strings.Contains(line, "plugin=nodecred") &&
			(strings.Contains(line, " host="+host+" ") || strings.Contains(line, " host=\""+host+"\"")) {
			out = append(out, line)
		}
	}
	return out
}

// execRuns returns the number of runs of kind ("helper" or "provider")
// containerd's metrics endpoint at addr counts (nodecred_exec_seconds), and
// fails t if the endpoint carries a secret.
func execRuns(t *testing.T, addr, kind string) int {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/v1/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	secrets.Lock()
	leaks := harness.Leaks(string(body), secrets.forms)
	secrets.Unlock()
	if len(leaks) > 0 {
		t.Errorf("containerd's metrics carry %d secret form(s)", len(leaks))
	}
	runs := 0
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, "nodecred_exec_seconds_count{") && strings.Contains(line, `kind="`+kind+`"`) {
			f := strings.Fields(line)
			n, err := strconv.Atoi(f[len(f)-1])
			if err != nil {
				t.Fatalf("metrics line %q: %v", line, err)
			}
			runs += n
		}
	}
	return runs
}

// nodecredWarnings returns containerd's warning lines that mention nodecred.
func nodecredWarnings(c *harness.Containerd) []string {
	var out []string
	for _, line := range strings.Split(c.Log(), "\n") {
		if strings.Contains(line, "level=warning") && strings.Contains(line, "nodecred") {
			out = append(out, line)
		}
	}
	return out
}

// checkPulls runs the two pulls every program must serve: the pinned
// sandbox image through RunPodSandbox and another image through CRI
// PullImage, neither with credentials from the caller.
func checkPulls(t *testing.T, c *harness.Containerd, sandboxImage, image string) {
	t.Helper()
	err := runSandbox(c, "conformance-"+randomHex(3))
	t.Logf("RunPodSandbox (pulls %s): %v", sandboxImage, err)
	if !imagePresent(t, c, sandboxImage) {
		t.Errorf("sandbox image %s was not pulled; RunPodSandbox: %v", sandboxImage, err)
		for _, w := range nodecredWarnings(c) {
			t.Logf("containerd: %s", w)
		}
	}
	if err := criPull(c, image); err != nil {
		t.Errorf("CRI PullImage %s: %v", image, err)
		for _, w := range nodecredWarnings(c) {
			t.Logf("containerd: %s", w)
		}
	} else if !imagePresent(t, c, image) {
		t.Errorf("%s not in the image store after PullImage", image)
	}
}
