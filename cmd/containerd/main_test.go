package main

import (
	"testing"

	"github.com/containerd/plugin"
	"github.com/containerd/plugin/registry"

	"github.com/nodecred/nodecred"
)

// The binary registers nodecred next to containerd's builtins.
func TestNodecredIsBuiltIn(t *testing.T) {
	var nc, cri bool
	for _, r := range registry.Graph(func(*plugin.Registration) bool { return false }) { // containerd/plugin v1.0.0 (containerd 2.1) takes no nil filter
		if r.Type == nodecred.CredentialsPlugin && r.ID == nodecred.PluginID {
			nc = true
		}
		if r.Type == "io.containerd.grpc.v1" && r.ID == "cri" {
			cri = true
		}
	}
	if !nc || !cri {
		t.Fatalf("registered: nodecred %v, cri %v; want both", nc, cri)
	}
}
