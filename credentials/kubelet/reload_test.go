package kubelet

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestDeleteRevokesEverySource: the kubelet config revokes too, as a docker
// config and a password file do.
func TestDeleteRevokesEverySource(t *testing.T) {
	ctx := context.Background()
	cfg := filepath.Join(t.TempDir(), "cp.yaml")
	writeConfig(t, cfg, providerConfig(`"r.example.com"`, "1m", map[string]string{"PROVIDER_USER": "u", "PROVIDER_PASSWORD": "p"}))
	kubelet := newSource(cfg, t.TempDir(), time.Second)
	if _, ok := kubelet.file.Load(ctx); !ok {
		t.Fatal("kubelet config not loaded")
	}
	if err := os.Remove(cfg); err != nil {
		t.Fatal(err)
	}
	if ps, ok := kubelet.file.Load(ctx); ok || len(ps) != 0 {
		t.Fatalf("kubelet config deleted: %d providers still configured", len(ps))
	}
}
