package main

import "testing"

func TestParseRequires(t *testing.T) {
	gomod := []byte(`module github.com/containerd/containerd/v2

go 1.24.2

require github.com/urfave/cli/v2 v2.27.6

require (
	k8s.io/cri-api v0.32.3
	github.com/containerd/plugin v1.0.0 // indirect
)

replace example.com/x => ../x
`)
	deps := parseRequires(gomod)
	for mod, want := range map[string]string{"github.com/urfave/cli/v2": "v2.27.6", "k8s.io/cri-api": "v0.32.3", "github.com/containerd/plugin": "v1.0.0"} {
		if deps[mod] != want {
			t.Errorf("%s = %q, want %q", mod, deps[mod], want)
		}
	}
	if _, ok := deps["example.com/x"]; ok || len(deps) != 3 {
		t.Errorf("deps = %v", deps)
	}
}
