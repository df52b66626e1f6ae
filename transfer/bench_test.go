package transfer

import (
	"context"
	"testing"

	"github.com/containerd/containerd/v2/core/transfer/registry"

	"github.com/nodecred/nodecred/credentials"
)

// BenchmarkRehomeAndLookup is the work nodecred adds to one pull: reading
// the caller's registry back, building the re-homed registry, and one
// credential decision (caller first, then a static source).
func BenchmarkRehomeAndLookup(b *testing.B) {
	ctx := context.Background()
	hosts, _ := credentials.ParsePatterns([]string{"r.io"})
	node := credentials.Chain{{Name: "static", Source: credentials.NewStaticSource(hosts, "robot", "pw")}}
	caller := callerFunc(func(host string) (registry.Credentials, error) { return registry.Credentials{Host: host}, nil })
	b.ReportAllocs()
	for b.Loop() {
		r, err := registry.NewOCIRegistry(ctx, "r.io/app:1", registry.WithCredentials(caller), registry.WithHostDir("/etc/containerd/certs.d"))
		if err != nil {
			b.Fatal(err)
		}
		h := &credentialHelper{ctx: ctx, node: node, namespace: "k8s.io"}
		_, done, err := rehome(ctx, r, h)
		if err != nil {
			b.Fatal(err)
		}
		if c, err := h.GetCredentials(ctx, "r.io/app:1", "r.io"); err != nil || c.Username != "robot" {
			b.Fatalf("got %q, %v", c.Username, err)
		}
		done()
	}
}
