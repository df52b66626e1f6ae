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

// Command renewal measures renewal ahead of expiry through real
// containerd, side by side with renewal off (the kubelet's behaviour): a
// kubelet credential provider that takes 1 s to answer, with a 10 s
// lifetime, and one CRI pull a second for 60 s.
//
//   - steady: count the pulls that waited for a provider run (took over
//     0.9 s), the lookups that did (nodecred_lookup_waits_total: one pull
//     may make several lookups, which share the run) and the provider's runs;
//   - outage: the provider fails from 60% of the first answer's lifetime
//     until past its expiry (6 s to 14 s after it arrived); count the
//     failed pulls. A failed run is kept for the source's timeout (1 min),
//     so without renewal the pulls keep failing for up to a minute after
//     the provider recovers.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/nodecred/nodecred/test/e2e/harness"
)

func main() {
	pulls := flag.Int("pulls", 60, "pulls, one a second")
	flag.BoolVar(&verbose, "v", false, "print each pull")
	flag.Parse()
	if err := run(*pulls); err != nil {
		fmt.Fprintln(os.Stderr, "renewal bench:", err)
		os.Exit(1)
	}
}

var verbose bool

type result struct {
	waited, waits, runs, failed int
}

func run(pulls int) error {
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
	tmp, err := os.MkdirTemp("", "nodecred-renewal-")
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
	img, err := harness.NewImage(1, 1024)
	if err != nil {
		return err
	}
	if err := img.Push(reg.Host, "bench/app", "1", user, password); err != nil {
		return err
	}
	hostsDir := filepath.Join(tmp, "certs.d")
	if err := harness.WriteHostsToml(hostsDir, reg.Host, reg.Host); err != nil {
		return err
	}

	fmt.Printf("provider: 1 s per run, 10 s lifetime; %d CRI pulls, one a second\n\n", pulls)
	fmt.Printf("%-8s %-8s %-18s %-20s %-14s %s\n", "scenario", "renew", "pulls that waited", "lookups that waited", "provider runs", "failed pulls")
	for _, scenario := range []string{"steady", "outage"} {
		for _, renew := range []bool{true, false} {
			dir := filepath.Join(tmp, fmt.Sprintf("%s-%v", scenario, renew))
			r, err := measure(ctx, bins, reg.Host+"/bench/app:1", hostsDir, dir, scenario == "outage", renew, pulls, user, password)
			if err != nil {
				return fmt.Errorf("%s renew=%v: %w", scenario, renew, err)
			}
			fmt.Printf("%-8s %-8v %-18d %-20d %-14d %d\n", scenario, renew, r.waited, r.waits, r.runs, r.failed)
		}
	}
	return nil
}

func measure(ctx context.Context, bins harness.Binaries, ref, hostsDir, dir string, outage, renew bool, pulls int, user, password string) (result, error) {
	binDir := filepath.Join(dir, "bin")
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return result{}, err
	}
	prog, err := os.ReadFile(bins.CredProvider)
	if err != nil {
		return result{}, err
	}
	if err := os.WriteFile(filepath.Join(binDir, "credprovider"), prog, 0o755); err != nil {
		return result{}, err
	}
	count, modeFile := filepath.Join(dir, "count"), filepath.Join(dir, "mode")
	config := filepath.Join(dir, "credential-provider.yaml")
	host, _, _ := strings.Cut(ref, "/")
	if err := os.WriteFile(config, fmt.Appendf(nil, `apiVersion: kubelet.config.k8s.io/v1
kind: CredentialProviderConfig
providers:
  - name: credprovider
    matchImages: [%q]
    defaultCacheDuration: 10s
    apiVersion: credentialprovider.kubelet.k8s.io/v1
    env:
      - {name: PROVIDER_USER, value: %q}
      - {name: PROVIDER_PASSWORD, value: %q}
      - {name: PROVIDER_SLEEP, value: 1s}
      - {name: PROVIDER_CACHE_DURATION, value: 10s}
      - {name: PROVIDER_COUNT_FILE, value: %q}
      - {name: PROVIDER_MODE_FILE, value: %q}
`, host, user, password, count, modeFile), 0o600); err != nil {
		return result{}, err
	}
	metrics, err := harness.FreeAddress()
	if err != nil {
		return result{}, err
	}
	c, err := harness.StartContainerd(ctx, bins.Containerd, filepath.Join(dir, "containerd"), harness.ContainerdConfig{
		HostsDir:       hostsDir,
		LogLevel:       "info",
		MetricsAddress: metrics,
		Nodecred: fmt.Sprintf(`[plugins."io.containerd.credentials.v1.nodecred"]
  [[plugins."io.containerd.credentials.v1.nodecred".sources]]
    type = "kubelet"
    config = %q
    bin_dir = %q
    renew = %v
`, config, binDir, renew),
	})
	if err != nil {
		return result{}, err
	}
	defer c.Stop()

	var r result
	start := time.Now()
	var born time.Time // when the first answer arrived: the first pull waited for it
	down, up := false, false
	for i := range pulls {
		time.Sleep(time.Until(start.Add(time.Duration(i) * time.Second)))
		if outage && !born.IsZero() {
			switch now := time.Now(); {
			case !down && now.After(born.Add(6*time.Second)): // 60% of its lifetime
				down, err = true, os.WriteFile(modeFile, []byte("fail"), 0o600)
			case down && !up && now.After(born.Add(14*time.Second)): // past its expiry
				up, err = true, os.WriteFile(modeFile, nil, 0o600)
			}
			if err != nil {
				return result{}, err
			}
		}
		pullStart := time.Now()
		_, err := c.Images().PullImage(ctx, &runtime.PullImageRequest{Image: &runtime.ImageSpec{Image: ref}})
		if err != nil {
			r.failed++
		}
		if time.Since(pullStart) >= 900*time.Millisecond { // the provider takes 1 s; a pull without it, ~20 ms
			r.waited++
		}
		if verbose {
			fmt.Printf("  pull %2d at %5.2fs down=%-5v up=%-5v err=%v\n", i, time.Since(start).Seconds(), down, up, err)
		}
		if i == 0 {
			born = time.Now()
		}
	}
	if r.waits, err = scrape(metrics, "nodecred_lookup_waits_total"); err != nil {
		return result{}, err
	}
	b, _ := os.ReadFile(count)
	r.runs = strings.Count(string(b), "\n")
	return r, nil
}

// scrape sums the samples of metric on containerd's metrics endpoint.
func scrape(addr, metric string) (int, error) {
	resp, err := http.Get("http://" + addr + "/v1/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	total := 0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, metric+"{") && !strings.HasPrefix(line, metric+" ") {
			continue
		}
		fields := strings.Fields(line)
		v, err := strconv.ParseFloat(fields[len(fields)-1], 64)
		if err != nil {
			return 0, fmt.Errorf("metric line %q: %w", line, err)
		}
		total += int(v)
	}
	return total, sc.Err()
}
