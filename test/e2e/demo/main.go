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

// Command demo shows nodecred's main job on loopback: a private registry
// with htpasswd auth holds the pod sandbox image, and containerd with
// nodecred pulls it for RunPodSandbox with credentials from an auth file,
// where stock containerd with the same hosts directory cannot. It removes
// every process and directory it created, also on failure or Ctrl-C.
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/nodecred/nodecred/test/e2e/harness"
)

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	var (
		mu       sync.Mutex
		cleanups []func()
	)
	cleanup := func() {
		mu.Lock()
		defer mu.Unlock()
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
		cleanups = nil
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		fmt.Println("\ninterrupted: cleaning up")
		cancel()
		cleanup()
		os.Exit(130)
	}()
	err := run(ctx, func(f func()) {
		mu.Lock()
		defer mu.Unlock()
		cleanups = append(cleanups, f)
	})
	cleanup()
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo failed:", err)
		os.Exit(1)
	}
}

func step(format string, args ...any) { fmt.Printf("==> "+format+"\n", args...) }

func run(ctx context.Context, onExit func(func())) error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("run as root: the demo starts containerd")
	}
	wd, _ := os.Getwd()
	root, err := harness.RepoRoot(wd)
	if err != nil {
		return err
	}
	step("building bin/containerd (with nodecred), bin/containerd-stock and the distribution registry")
	bins, err := harness.Build(ctx, root)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "nodecred-demo-")
	if err != nil {
		return err
	}
	onExit(func() { os.RemoveAll(tmp) })

	b := make([]byte, 12)
	_, _ = rand.Read(b)
	user, password := "demo", hex.EncodeToString(b)
	reg, err := harness.StartRegistry(ctx, bins.Registry, filepath.Join(tmp, "registry"), map[string]string{user: password})
	if err != nil {
		return err
	}
	onExit(reg.Stop)
	step("registry with htpasswd auth on http://%s (user %q)", reg.Host, user)

	img, err := harness.NewImage(1, 4096)
	if err != nil {
		return err
	}
	if err := img.Push(reg.Host, "private/pause", "3.10", user, password); err != nil {
		return err
	}
	sandboxImage := reg.Host + "/private/pause:3.10"
	step("pushed the sandbox image %s", sandboxImage)

	hostsDir := filepath.Join(tmp, "certs.d")
	if err := harness.WriteHostsToml(hostsDir, reg.Host, reg.Host); err != nil {
		return err
	}
	authFile := filepath.Join(tmp, "auth.json")
	auth, _ := json.Marshal(map[string]any{"auths": map[string]any{reg.Host: map[string]string{"username": user, "password": password}}})
	if err := os.WriteFile(authFile, auth, 0o600); err != nil {
		return err
	}
	step("wrote the node's auth file %s (0600) and the hosts directory %s", authFile, hostsDir)

	nodecred := fmt.Sprintf(`[plugins."io.containerd.credentials.v1.nodecred"]
  [[plugins."io.containerd.credentials.v1.nodecred".sources]]
    type = "dockerconfig"
    path = %q
`, authFile)
	fmt.Printf("\n%s\n", indent(nodecred))

	for _, c := range []struct {
		title, bin, config string
	}{
		{"stock containerd, same hosts directory and sandbox image", bins.StockContainerd, ""},
		{"containerd with nodecred", bins.Containerd, nodecred},
	} {
		step("%s: RunPodSandbox", c.title)
		if err := runSandbox(ctx, onExit, c.bin, filepath.Join(tmp, filepath.Base(c.bin)), harness.ContainerdConfig{
			HostsDir: hostsDir, SandboxImage: sandboxImage, Nodecred: c.config,
		}, sandboxImage); err != nil {
			return err
		}
	}
	return nil
}

func runSandbox(ctx context.Context, onExit func(func()), bin, dir string, cfg harness.ContainerdConfig, image string) error {
	c, err := harness.StartContainerd(ctx, bin, dir, cfg)
	if err != nil {
		return err
	}
	onExit(c.Stop)
	rctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	_, runErr := c.Runtime().RunPodSandbox(rctx, &runtime.RunPodSandboxRequest{Config: harness.HostNetworkSandbox("demo")})
	st, err := c.Images().ImageStatus(rctx, &runtime.ImageStatusRequest{Image: &runtime.ImageSpec{Image: image}})
	if err != nil {
		return err
	}
	if st.GetImage() == nil {
		fmt.Printf("    sandbox image NOT pulled\n    RunPodSandbox: %v\n\n", runErr)
		return nil
	}
	fmt.Printf("    sandbox image pulled: %s\n", st.GetImage().GetId())
	for _, line := range decisions(c.LogPath) {
		fmt.Printf("    nodecred: %s\n", line)
	}
	if runErr != nil {
		fmt.Printf("    (the sandbox then cannot start on this machine, which has no container runtime:\n     %s)\n", short(runErr))
	}
	fmt.Println()
	c.Stop()
	return nil
}

// decisions returns the host, source and kind of each credential decision
// in containerd's log; the log line never carries the secret.
func decisions(logPath string) []string {
	f, err := os.Open(logPath)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if !strings.Contains(line, `msg="credential decision"`) || !strings.Contains(line, "plugin=nodecred") {
			continue
		}
		var fields []string
		for _, k := range []string{"host", "source", "kind"} {
			if v := field(line, k); v != "" {
				fields = append(fields, k+"="+v)
			}
		}
		out = append(out, "credential decision "+strings.Join(fields, " "))
	}
	return out
}

func field(line, key string) string {
	i := strings.Index(line, " "+key+"=")
	if i < 0 {
		return ""
	}
	v := line[i+len(key)+2:]
	if strings.HasPrefix(v, `"`) {
		if j := strings.Index(v[1:], `"`); j >= 0 {
			return v[1 : j+1]
		}
	}
	v, _, _ = strings.Cut(v, " ")
	return v
}

func short(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, "failed to start shim"); i >= 0 {
		return s[i:]
	}
	return s
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    ")
}
