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

package transfer

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	transfertypes "github.com/containerd/containerd/api/types/transfer"
	"github.com/containerd/containerd/v2/core/transfer"
	"github.com/containerd/containerd/v2/core/transfer/image"
	"github.com/containerd/containerd/v2/core/transfer/registry"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	"github.com/containerd/errdefs"
	"github.com/containerd/typeurl/v2"

	"github.com/nodecred/nodecred/credentials"
	"github.com/nodecred/nodecred/internal/containerdcompat"
)

// recorder is the wrapped transferrer: it records what it was handed.
type recorder struct{ src, dst any }

func (r *recorder) Transfer(_ context.Context, src, dst any, _ ...transfer.Opt) error {
	r.src, r.dst = src, dst
	return nil
}

// resolverOf reads back a registry's options the way rehome does.
func resolverOf(t *testing.T, r *registry.OCIRegistry) (string, *transfertypes.RegistryResolver) {
	t.Helper()
	msg, _, streams, err := containerdcompat.ReadBack(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	defer streams.Close()
	return msg.Reference, msg.Resolver
}

func newRegistry(t *testing.T, ref string) *registry.OCIRegistry {
	t.Helper()
	r, err := registry.NewOCIRegistry(context.Background(), ref,
		registry.WithHostDir("/etc/containerd/certs.d"),
		registry.WithDefaultScheme("http"),
		registry.WithHeaders(http.Header{"X-Test": []string{"yes"}}))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestPullSourceIsRehomed(t *testing.T) {
	inner := &recorder{}
	tr := New(inner, credentials.Chain{}, Options{})
	src, dst := newRegistry(t, "r.io/app:1"), image.NewStore("r.io/app:1")
	ctx := namespaces.WithNamespace(context.Background(), "k8s.io")
	if err := tr.Transfer(ctx, src, dst); err != nil {
		t.Fatal(err)
	}
	got, ok := inner.src.(*registry.OCIRegistry)
	if !ok || got == src {
		t.Fatalf("inner got source %T (same object: %v), want a new *registry.OCIRegistry", inner.src, got == src)
	}
	if inner.dst != dst {
		t.Errorf("destination was not passed through")
	}
	ref, res := resolverOf(t, got)
	if ref != "r.io/app:1" || res.HostDir != "/etc/containerd/certs.d" || res.DefaultScheme != "http" || res.Headers["X-Test"] != "yes" {
		t.Errorf("rehomed registry lost options: ref %q, resolver %+v", ref, res)
	}
	if res.AuthStream == "" {
		t.Errorf("rehomed registry has no credential helper")
	}
}

func TestScopingAndPassThrough(t *testing.T) {
	ref := "r.io/app:1"
	tests := []struct {
		name        string
		opts        Options
		ns          string
		push        bool
		wantRehomed bool
	}{
		{"pull, namespace allowed", Options{Namespaces: []string{"k8s.io"}}, "k8s.io", false, true},
		{"pull, namespace not allowed", Options{Namespaces: []string{"k8s.io"}}, "default", false, false},
		{"pull, no namespace in context", Options{Namespaces: []string{"k8s.io"}}, "", false, false},
		{"push, push off", Options{}, "default", true, false},
		{"push, push on", Options{Push: true}, "default", true, true},
		{"push, push on, namespace not allowed", Options{Push: true, Namespaces: []string{"k8s.io"}}, "default", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inner := &recorder{}
			ctx := context.Background()
			if tt.ns != "" {
				ctx = namespaces.WithNamespace(ctx, tt.ns)
			}
			reg := newRegistry(t, ref)
			var src, dst any = reg, image.NewStore(ref)
			if tt.push {
				src, dst = image.NewStore(ref), reg
			}
			if err := New(inner, credentials.Chain{}, tt.opts).Transfer(ctx, src, dst); err != nil {
				t.Fatal(err)
			}
			handed := inner.src
			if tt.push {
				handed = inner.dst
			}
			if rehomed := handed != any(reg); rehomed != tt.wantRehomed {
				t.Errorf("rehomed = %v, want %v", rehomed, tt.wantRehomed)
			}
		})
	}
}

func TestOtherTransfersPassThrough(t *testing.T) {
	inner := &recorder{}
	src, dst := image.NewStore("a:1"), image.NewStore("b:1")
	if err := New(inner, credentials.Chain{}, Options{Push: true}).Transfer(context.Background(), src, dst); err != nil {
		t.Fatal(err)
	}
	if inner.src != any(src) || inner.dst != any(dst) {
		t.Fatal("a tag transfer was not passed through untouched")
	}
}

func TestNodeRegistry(t *testing.T) {
	nr := &NodeRegistry{Reference: "r.io/app:1", HostDir: "/etc/containerd/certs.d", Headers: map[string]string{"X-Test": "yes"}}
	inner := &recorder{}
	tr := New(inner, credentials.Chain{}, Options{Namespaces: []string{"k8s.io"}})

	err := tr.Transfer(namespaces.WithNamespace(context.Background(), "default"), nr, image.NewStore(nr.Reference))
	if !errdefs.IsPermissionDenied(err) {
		t.Fatalf("namespace default: err = %v, want permission denied", err)
	}
	if err := tr.Transfer(namespaces.WithNamespace(context.Background(), "k8s.io"), nr, image.NewStore(nr.Reference)); err != nil {
		t.Fatal(err)
	}
	got, ok := inner.src.(*registry.OCIRegistry)
	if !ok {
		t.Fatalf("inner got %T, want *registry.OCIRegistry", inner.src)
	}
	ref, res := resolverOf(t, got)
	if ref != nr.Reference || res.HostDir != nr.HostDir || res.Headers["X-Test"] != "yes" || res.AuthStream == "" {
		t.Errorf("registry built from NodeRegistry: ref %q, resolver %+v", ref, res)
	}
}

func TestNodeRegistryTravelsAsItsOwnType(t *testing.T) {
	nr := &NodeRegistry{Reference: "r.io/app:1", HostDir: "/etc/containerd/certs.d"}
	a, err := typeurl.MarshalAny(nr)
	if err != nil {
		t.Fatal(err)
	}
	if a.GetTypeUrl() != NodeRegistryTypeURL {
		t.Fatalf("type URL = %q, want %q", a.GetTypeUrl(), NodeRegistryTypeURL)
	}
	back, err := typeurl.UnmarshalAny(a)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := back.(*NodeRegistry); !ok || got.Reference != nr.Reference || got.HostDir != nr.HostDir {
		t.Fatalf("round trip gave %#v", back)
	}
}

// TestRehomedHeadersReachRegistryAsStock: CRI's registry.headers go to
// WithHeaders as written, lower-case keys and several values included; the
// re-homed registry must send the same as the registry CRI built.
func TestRehomedHeadersReachRegistryAsStock(t *testing.T) {
	var mu sync.Mutex
	var seen []http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Clone())
		mu.Unlock()
		http.NotFound(w, r)
	}))
	defer srv.Close()
	ref := strings.TrimPrefix(srv.URL, "http://") + "/app:1"
	cri := map[string][]string{"x-lower": {"lower-value"}, "X-Multi": {"one", "two"}}

	resolve := func(r *registry.OCIRegistry) http.Header {
		mu.Lock()
		seen = nil
		mu.Unlock()
		_, _, _ = r.Resolve(context.Background()) // 404: only the request matters
		mu.Lock()
		defer mu.Unlock()
		if len(seen) == 0 {
			t.Fatal("the registry was not contacted")
		}
		return seen[0]
	}
	stock, err := registry.NewOCIRegistry(context.Background(), ref, registry.WithDefaultScheme("http"), registry.WithHeaders(cri))
	if err != nil {
		t.Fatal(err)
	}
	want := resolve(stock)
	if got := want.Values("X-Lower"); len(got) != 1 || got[0] != "lower-value" {
		t.Fatalf("stock sent x-lower as %q; the test's premise is wrong", got)
	}

	inner := &recorder{}
	if err := New(inner, credentials.Chain{}, Options{}).Transfer(namespaces.WithNamespace(context.Background(), "k8s.io"), stock, image.NewStore(ref)); err != nil {
		t.Fatal(err)
	}
	got := resolve(inner.src.(*registry.OCIRegistry))
	for _, k := range []string{"X-Lower", "X-Multi"} {
		if !slices.Equal(got.Values(k), want.Values(k)) {
			t.Errorf("header %s: re-homed registry sent %q, stock sent %q", k, got.Values(k), want.Values(k))
		}
	}
}
