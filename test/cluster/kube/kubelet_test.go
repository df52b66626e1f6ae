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

package kube

import (
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"
)

// TestRenderKubeletConfig checks the settings this host needs are there
// and that the document is valid YAML with the kubelet's field names.
func TestRenderKubeletConfig(t *testing.T) {
	out := RenderKubeletConfig(KubeletConfig{Dir: "/tmp/n1", RuntimeSocket: "/tmp/n1/c.sock", SyncFrequency: 5 * time.Second}, "10250", "10248")
	var cfg map[string]any
	if err := yaml.Unmarshal([]byte(out), &cfg); err != nil {
		t.Fatalf("not YAML: %v\n%s", err, out)
	}
	for k, want := range map[string]any{
		"failCgroupV1":             false,
		"failSwapOn":               false,
		"cgroupsPerQOS":            false,
		"cgroupDriver":             "cgroupfs",
		"resolvConf":               "",
		"containerRuntimeEndpoint": "unix:///tmp/n1/c.sock",
		"podLogsDir":               "/tmp/n1/pod-logs",
		"syncFrequency":            "5s",
		"port":                     float64(10250),
	} {
		if cfg[k] != want {
			t.Errorf("%s = %#v, want %#v", k, cfg[k], want)
		}
	}
	if a, ok := cfg["enforceNodeAllocatable"].([]any); !ok || len(a) != 0 {
		t.Errorf("enforceNodeAllocatable = %#v, want []", cfg["enforceNodeAllocatable"])
	}
	if strings.Contains(RenderKubeletConfig(KubeletConfig{}, "1", "2"), "syncFrequency") {
		t.Error("syncFrequency set though none was asked for")
	}
}
