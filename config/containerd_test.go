package config

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadContainerd(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	v3 := write("v3.toml", `version = 3
[plugins."io.containerd.cri.v1.images".registry]
  config_path = "/etc/containerd/certs.d"
[plugins."io.containerd.credentials.v1.nodecred"]
  namespaces = ["k8s.io"]
  [[plugins."io.containerd.credentials.v1.nodecred".sources]]
    type = "dockerconfig"
    path = "/etc/containerd/auth.json"
`)
	node, err := LoadContainerd(context.Background(), v3)
	if err != nil {
		t.Fatal(err)
	}
	if node.HostsDir != "/etc/containerd/certs.d" || len(node.Credentials.Sources) != 1 || node.Credentials.Namespaces[0] != "k8s.io" {
		t.Fatalf("got %+v", node)
	}

	v2 := write("v2.toml", `version = 2
[plugins."io.containerd.grpc.v1.cri".registry]
  config_path = "/srv/certs.d"
`)
	if node, err := LoadContainerd(context.Background(), v2); err != nil || node.HostsDir != "/srv/certs.d" || len(node.Credentials.Sources) != 0 {
		t.Fatalf("v2: %+v, %v", node, err)
	}

	bad := write("bad.toml", `version = 3
[plugins."io.containerd.credentials.v1.nodecred"]
  pushh = true
`)
	if _, err := LoadContainerd(context.Background(), bad); err == nil || !strings.Contains(err.Error(), `unknown key "pushh"`) {
		t.Fatalf("err = %v, want the unknown key named", err)
	}
	if _, err := LoadContainerd(context.Background(), filepath.Join(dir, "missing.toml")); err == nil {
		t.Fatal("missing file: no error")
	}
}
