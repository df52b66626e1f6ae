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
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/containerd/containerd/v2/core/streaming"
	"github.com/containerd/containerd/v2/core/transfer/image"
	tplugins "github.com/containerd/containerd/v2/core/transfer/plugins"
	"github.com/containerd/containerd/v2/core/transfer/registry"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	"github.com/containerd/typeurl/v2"

	"github.com/nodecred/nodecred/credentials"
)

// pipeEnd is one end of an in-memory bidirectional stream, standing for a
// stream that containerd's stream manager carries between a gRPC client and
// the daemon.
type pipeEnd struct {
	in     <-chan typeurl.Any
	out    chan<- typeurl.Any
	closed chan struct{}
	once   *sync.Once
}

func pipe() (*pipeEnd, *pipeEnd) {
	a, b := make(chan typeurl.Any, 8), make(chan typeurl.Any, 8)
	closed, once := make(chan struct{}), &sync.Once{}
	return &pipeEnd{in: a, out: b, closed: closed, once: once}, &pipeEnd{in: b, out: a, closed: closed, once: once}
}

func (p *pipeEnd) Send(a typeurl.Any) error {
	select {
	case p.out <- a:
		return nil
	case <-p.closed:
		return io.EOF
	}
}

func (p *pipeEnd) Recv() (typeurl.Any, error) {
	select {
	case a := <-p.in:
		return a, nil
	case <-p.closed:
		return nil, io.EOF
	}
}

func (p *pipeEnd) Close() error {
	p.once.Do(func() { close(p.closed) })
	return nil
}

// streamManager stands for the client's proxy (Create) and the daemon's
// stream manager (Get).
type streamManager struct {
	mu     sync.Mutex
	daemon map[string]*pipeEnd
}

func (m *streamManager) Create(_ context.Context, id string) (streaming.Stream, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	client, daemon := pipe()
	if m.daemon == nil {
		m.daemon = map[string]*pipeEnd{}
	}
	m.daemon[id] = daemon
	return client, nil
}

func (m *streamManager) Get(_ context.Context, id string) (streaming.Stream, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.daemon[id]
	if !ok {
		return nil, io.ErrUnexpectedEOF
	}
	return s, nil
}

// receive does on the daemon's side what containerd's transfer gRPC service
// does with a client's registry once Service has renamed it: marshal as the
// client proxy does, then resolve through containerd's transfer type
// registry and unmarshal.
func receive(t *testing.T, ctx context.Context, client *registry.OCIRegistry, sm *streamManager) any {
	t.Helper()
	a, err := client.MarshalAny(ctx, sm)
	if err != nil {
		t.Fatal(err)
	}
	pa := received(typeurl.MarshalProto(a))
	obj, err := tplugins.ResolveType(pa)
	if err != nil {
		t.Fatal(err)
	}
	u, ok := obj.(interface {
		UnmarshalAny(context.Context, streaming.StreamGetter, typeurl.Any) error
	})
	if !ok {
		t.Fatalf("the type registry resolved the renamed message to %T, which does not unmarshal from streams", obj)
	}
	if err := u.UnmarshalAny(ctx, sm, pa); err != nil {
		t.Fatal(err)
	}
	return obj
}

func TestReceivedRegistryKeepsEveryOption(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client, err := registry.NewOCIRegistry(ctx, "r.io/app:1",
		registry.WithHostDir("/etc/containerd/certs.d"),
		registry.WithDefaultScheme("http"),
		registry.WithHeaders(http.Header{"X-Test": {"yes"}}),
		registry.WithCredentials(callerFunc(func(host string) (registry.Credentials, error) {
			if host == "caller.io" {
				return registry.Credentials{Host: host, Username: "ctr-user", Secret: "ctr-pw"}, nil
			}
			return registry.Credentials{Host: host}, nil
		})))
	if err != nil {
		t.Fatal(err)
	}
	src := receive(t, ctx, client, &streamManager{})
	if _, ok := src.(*receivedRegistry); !ok {
		t.Fatalf("received %T, want *receivedRegistry", src)
	}

	inner := &recorder{}
	node := &nodeSource{cred: credentials.Credential{Username: "robot", Password: "node-pw"}}
	tr := New(inner, node, Options{})
	// The recorder hands the registry out of Transfer; the caller's stream
	// stays usable until the client closes it.
	if err := tr.Transfer(namespaces.WithNamespace(ctx, "default"), src, image.NewStore("r.io/app:1")); err != nil {
		t.Fatal(err)
	}
	got, ok := inner.src.(*registry.OCIRegistry)
	if !ok {
		t.Fatalf("inner got %T, want *registry.OCIRegistry", inner.src)
	}
	ref, res := resolverOf(t, got)
	if ref != "r.io/app:1" || res.HostDir != "/etc/containerd/certs.d" || res.DefaultScheme != "http" || res.Headers["X-Test"] != "yes" || res.AuthStream == "" {
		t.Errorf("registry built from the received message lost options: ref %q, resolver %+v", ref, res)
	}
}

func TestReceivedRegistryCallerFirstThenNode(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client, err := registry.NewOCIRegistry(ctx, "caller.io/app:1", registry.WithCredentials(callerFunc(func(host string) (registry.Credentials, error) {
		if host == "caller.io" {
			return registry.Credentials{Host: host, Username: "ctr-user", Secret: "ctr-pw"}, nil
		}
		return registry.Credentials{Host: host}, nil
	})))
	if err != nil {
		t.Fatal(err)
	}
	r := receive(t, ctx, client, &streamManager{}).(*receivedRegistry)
	node := &nodeSource{cred: credentials.Credential{Username: "robot", Password: "node-pw"}}
	h := &credentialHelper{ctx: ctx, node: node}
	if _, done, err := r.withCredentials(ctx, h); err != nil {
		t.Fatal(err)
	} else {
		defer done()
	}
	if h.caller == nil {
		t.Fatal("the client's credential stream was not attached")
	}
	for _, s := range []struct{ host, want string }{{"caller.io", "ctr-user"}, {"mirror.io", "robot"}, {"caller.io", "ctr-user"}} {
		c, err := h.GetCredentials(ctx, "caller.io/app:1", s.host)
		if err != nil || c.Username != s.want {
			t.Fatalf("host %s: got %q, %v; want %q", s.host, c.Username, err, s.want)
		}
	}
}

func TestReceivedRegistryWithoutNodeCredentialsIsStock(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client, err := registry.NewOCIRegistry(ctx, "r.io/app:1", registry.WithHostDir("/etc/containerd/certs.d"))
	if err != nil {
		t.Fatal(err)
	}
	src := receive(t, ctx, client, &streamManager{})
	inner := &recorder{}
	node := &nodeSource{cred: credentials.Credential{Username: "robot", Password: "node-pw"}}
	tr := New(inner, node, Options{Namespaces: []string{"k8s.io"}})
	if err := tr.Transfer(namespaces.WithNamespace(ctx, "default"), src, image.NewStore("r.io/app:1")); err != nil {
		t.Fatal(err)
	}
	got, ok := inner.src.(*registry.OCIRegistry)
	if !ok {
		t.Fatalf("inner got %T, want *registry.OCIRegistry", inner.src)
	}
	if _, res := resolverOf(t, got); res.AuthStream != "" {
		t.Errorf("a registry outside the allowed namespaces has a credential helper; the client sent none")
	}
	if node.calls != 0 {
		t.Errorf("node source asked %d times", node.calls)
	}
}

// TestReceivedRegistryHTTPDebugReachesClient: `ctr pull --http-dump` gets
// the dump on its own stream, as from stock containerd.
func TestReceivedRegistryHTTPDebugReachesClient(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	dump := &lockedBuffer{closed: make(chan struct{})}
	client, err := registry.NewOCIRegistry(ctx, host+"/app:1", registry.WithDefaultScheme("http"),
		registry.WithHTTPDebug(), registry.WithClientStream(dump))
	if err != nil {
		t.Fatal(err)
	}
	r := receive(t, ctx, client, &streamManager{}).(*receivedRegistry)
	nr, done, err := r.withCredentials(ctx, &credentialHelper{ctx: ctx, node: &nodeSource{}})
	if err != nil {
		t.Fatal(err)
	}
	_, _, _ = nr.Resolve(ctx) // 404: only the dump matters
	done()
	select {
	case <-dump.closed:
	case <-ctx.Done():
		t.Fatal("the client's debug stream was not closed after the transfer")
	}
	if !strings.Contains(dump.String(), "HEAD /v2/app/manifests/1") {
		t.Fatalf("client's debug stream got %q, want the request dump", dump.String())
	}
}

type lockedBuffer struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	closed chan struct{}
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) Close() error { close(b.closed); return nil }

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
