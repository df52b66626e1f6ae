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

package e2e

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/nodecred/nodecred/test/e2e/harness"
)

func TestMetricsOnContainerdEndpointAndDecisionLog(t *testing.T) {
	reg := startRegistry(t, "node", "app/web:1")
	hostsDir := hostsDirFor(t, reg)
	auth := authFileFor(t, reg)
	addr, err := harness.FreeAddress()
	if err != nil {
		t.Fatal(err)
	}
	c := startContainerd(t, bins.Containerd, harness.ContainerdConfig{
		HostsDir:       hostsDir,
		MetricsAddress: addr,
		Nodecred:       nodecredSection("", dockerconfigSource(auth)),
	})
	ref := reg.Host + "/app/web:1"
	if err := criPull(c, ref, nil); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + addr + "/v1/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	metrics := string(body)
	for _, want := range []string{
		fmt.Sprintf(`nodecred_lookups_total{result="hit",source="dockerconfig:%s"}`, auth),
		fmt.Sprintf(`nodecred_reloads_total{path=%q} 1`, auth),
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics endpoint lacks %s", want)
		}
	}
	leaks := secrets.Leaks(metrics)
	if len(leaks) > 0 {
		t.Errorf("metrics carry %d secret form(s)", len(leaks))
	}
	var decision string
	for _, line := range strings.Split(c.Log(), "\n") {
		if strings.Contains(line, `msg="credential decision"`) {
			decision = line
			break
		}
	}
	for _, want := range []string{"host=\"" + reg.Host + "\"", "ref=\"" + ref + "\"", "namespace=k8s.io", "source=\"dockerconfig:" + auth + "\"", "kind=basic", "level=debug", "plugin=nodecred"} {
		if !strings.Contains(decision, want) {
			t.Errorf("decision log line %q lacks %s", decision, want)
		}
	}
}

func TestLoadConcurrentCRIPulls(t *testing.T) {
	const n = 100
	refs := make([]string, n)
	for i := range refs {
		refs[i] = fmt.Sprintf("load/app:%d", i)
	}
	reg := startRegistry(t, "node", refs...)
	hostsDir := hostsDirFor(t, reg)
	auth := authFileFor(t, reg)
	c := startContainerd(t, bins.Containerd, harness.ContainerdConfig{
		HostsDir: hostsDir,
		Nodecred: nodecredSection("", dockerconfigSource(auth)),
	})
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		failures []string
	)
	for _, ref := range refs {
		wg.Go(func() {
			if err := criPull(c, reg.Host+"/"+ref, nil); err != nil {
				mu.Lock()
				failures = append(failures, fmt.Sprintf("%s: %v", ref, err))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(failures) > 0 {
		t.Fatalf("%d of %d concurrent pulls failed; first: %s", len(failures), n, failures[0])
	}
	for _, ref := range refs {
		if !imagePresent(t, c, reg.Host+"/"+ref) {
			t.Fatalf("%s missing after the load", ref)
		}
	}
}
