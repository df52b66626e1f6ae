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

// Command bench measures what nodecred costs a node, side by side with
// stock containerd of the same version, on loopback: the CRI pull of a
// 16-layer image of about 32 MiB (stock with kubelet-style credentials in
// the request, nodecred serving node credentials), and containerd's start
// until CRI answers (nodecred with three sources configured). Runs
// alternate between the two binaries so that drift on a noisy machine
// falls on both; each run starts from an empty root, so every pull is cold.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/nodecred/nodecred/test/e2e/harness"
)

func main() {
	runs := flag.Int("runs", 21, "runs per binary (at least 5); the spread of one run is about ±15% here, so medians need many")
	layers := flag.Int("layers", 16, "image layers")
	layerSize := flag.Int("layer-size", 2<<20, "bytes of random data per layer")
	flag.Parse()
	if err := run(*runs, *layers, *layerSize); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type sample struct{ start, pull []time.Duration }

func run(runs, layers, layerSize int) error {
	if runs < 5 {
		return fmt.Errorf("-runs %d: want at least 5", runs)
	}
	ctx := context.Background()
	wd, _ := os.Getwd()
	root, err := harness.RepoRoot(wd)
	if err != nil {
		return err
	}
	bins, err := harness.Build(ctx, root)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "nodecred-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	user, password := "bench", "bench-password-not-a-secret"
	reg, err := harness.StartRegistry(ctx, bins.Registry, filepath.Join(tmp, "registry"), map[string]string{user: password})
	if err != nil {
		return err
	}
	defer reg.Stop()
	img, err := harness.NewImage(layers, layerSize)
	if err != nil {
		return err
	}
	if err := img.Push(reg.Host, "bench/app", "1", user, password); err != nil {
		return err
	}
	ref := reg.Host + "/bench/app:1"
	hostsDir := filepath.Join(tmp, "certs.d")
	if err := harness.WriteHostsToml(hostsDir, reg.Host, reg.Host); err != nil {
		return err
	}
	auth, _ := json.Marshal(map[string]any{"auths": map[string]any{reg.Host: map[string]string{"username": user, "password": password}}})
	authFile := filepath.Join(tmp, "auth.json")
	pwFile := filepath.Join(tmp, "password")
	providerCfg := filepath.Join(tmp, "credential-provider.yaml")
	for path, data := range map[string][]byte{
		authFile: auth,
		pwFile:   []byte(password),
		providerCfg: []byte(`apiVersion: kubelet.config.k8s.io/v1
kind: CredentialProviderConfig
providers:
  - name: credprovider
    matchImages: ["*.dkr.ecr.*.amazonaws.com"]
    defaultCacheDuration: 1h
    apiVersion: credentialprovider.kubelet.k8s.io/v1
`),
	} {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return err
		}
	}
	nodecred := fmt.Sprintf(`[plugins."io.containerd.credentials.v1.nodecred"]
  [[plugins."io.containerd.credentials.v1.nodecred".sources]]
    type = "dockerconfig"
    path = %q
  [[plugins."io.containerd.credentials.v1.nodecred".sources]]
    type = "static"
    hosts = ["registry.example.com"]
    username = "robot"
    password_file = %q
  [[plugins."io.containerd.credentials.v1.nodecred".sources]]
    type = "kubelet"
    config = %q
    bin_dir = %q
`, authFile, pwFile, providerCfg, filepath.Dir(bins.CredProvider))

	kinds := []struct {
		name, bin, config string
		auth              *runtime.AuthConfig
	}{
		{"stock", bins.StockContainerd, "", &runtime.AuthConfig{Username: user, Password: password}},
		{"nodecred", bins.Containerd, nodecred, nil},
	}
	results := map[string]*sample{"stock": {}, "nodecred": {}}
	fmt.Printf("%d runs each, alternating; image %s: %d layers x %d bytes\n", runs, ref, layers, layerSize)
	for i := range runs {
		order := []int{0, 1}
		if i%2 == 1 {
			order = []int{1, 0}
		}
		for _, k := range order {
			kind := kinds[k]
			dir := filepath.Join(tmp, fmt.Sprintf("%s-%d", kind.name, i))
			start := time.Now()
			c, err := harness.StartContainerd(ctx, kind.bin, dir, harness.ContainerdConfig{HostsDir: hostsDir, Nodecred: kind.config, LogLevel: "info"})
			if err != nil {
				return err
			}
			started := time.Since(start)
			start = time.Now()
			_, err = c.Images().PullImage(ctx, &runtime.PullImageRequest{Image: &runtime.ImageSpec{Image: ref}, Auth: kind.auth})
			pulled := time.Since(start)
			c.Stop()
			os.RemoveAll(dir)
			if err != nil {
				return fmt.Errorf("%s pull: %w", kind.name, err)
			}
			results[kind.name].start = append(results[kind.name].start, started)
			results[kind.name].pull = append(results[kind.name].pull, pulled)
			fmt.Printf("run %d %-8s start %-12s pull %s\n", i+1, kind.name, started.Round(time.Microsecond), pulled.Round(time.Microsecond))
		}
	}
	fmt.Println()
	fmt.Printf("%-34s %-32s %-32s %s\n", "measurement", "stock median (min-max)", "nodecred median (min-max)", "ratio")
	for _, m := range []struct {
		name   string
		pick   func(*sample) []time.Duration
		target float64
	}{
		{fmt.Sprintf("CRI pull, %d layers", layers), func(s *sample) []time.Duration { return s.pull }, 1.02},
		{"start until CRI answers", func(s *sample) []time.Duration { return s.start }, 1.05},
	} {
		st, nc := stats(m.pick(results["stock"])), stats(m.pick(results["nodecred"]))
		ratio := float64(nc.median) / float64(st.median)
		verdict := "within"
		if ratio > m.target {
			verdict = "OVER"
		}
		fmt.Printf("%-34s %-32s %-32s %.3f (target <= %.2f: %s)\n", m.name, st, nc, ratio, m.target, verdict)
	}
	return nil
}

type summary struct{ median, min, max time.Duration }

func stats(ds []time.Duration) summary {
	s := slices.Clone(ds)
	slices.Sort(s)
	return summary{median: s[len(s)/2], min: s[0], max: s[len(s)-1]}
}

func (s summary) String() string {
	r := func(d time.Duration) time.Duration { return d.Round(100 * time.Microsecond) }
	return fmt.Sprintf("%s (%s-%s)", r(s.median), r(s.min), r(s.max))
}
