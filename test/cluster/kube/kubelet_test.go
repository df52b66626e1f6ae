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
