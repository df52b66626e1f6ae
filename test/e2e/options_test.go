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

// Issue 11: a transfer through nodecred uses exactly the registry options
// the same transfer uses on stock containerd (hosts directory with its
// mirrors, CA and client certificates; default scheme; headers; HTTP debug);
// only the credential callback differs. Each test runs the same pull on
// containerd with nodecred and on stock containerd (bin/containerd-stock)
// and asserts the same outcome. Stock has no node credentials, so there the
// client sends the same credentials itself, as a stock user would
// (`ctr --user`, the kubelet's pull secret).

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/transfer/image"
	"github.com/containerd/containerd/v2/core/transfer/registry"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/nodecred/nodecred/test/e2e/harness"
)

// flavour is a containerd binary the option tests run against.
type flavour struct {
	name     string
	bin      string
	nodecred bool
}

func flavours() []flavour {
	return []flavour{
		{name: "nodecred", bin: bins.Containerd, nodecred: true},
		{name: "stock", bin: bins.StockContainerd},
	}
}

// hostCredentials is a transfer client's own credential callback, what
// `ctr --user` attaches with registry.WithCredentials: a user per host,
// nothing for other hosts.
type hostCredentials map[string][2]string

func (h hostCredentials) GetCredentials(_ context.Context, _, host string) (registry.Credentials, error) {
	if up, ok := h[host]; ok {
		return registry.Credentials{Host: host, Username: up[0], Secret: up[1]}, nil
	}
	return registry.Credentials{Host: host}, nil
}

// grpcPull pulls ref into namespace default through the transfer API, with
// a registry source built from opts, as ctr and the Go client send it.
func grpcPull(cl *containerd.Client, ref string, opts ...registry.Opt) error {
	ctx, cancel := context.WithTimeout(namespaces.WithNamespace(context.Background(), "default"), 2*time.Minute)
	defer cancel()
	src, err := registry.NewOCIRegistry(ctx, ref, opts...)
	if err != nil {
		return err
	}
	return cl.Transfer(ctx, src, image.NewStore(ref))
}

// (a) A gRPC pull with a hosts directory whose hosts.toml sends an
// unreachable upstream to a mirror goes through the mirror, with the
// mirror's credentials.
func TestGRPCPullWithHostsDirUsesMirror(t *testing.T) {
	mirror := startRegistry(t, "mirror-user", "lib/app:1")
	rec := newAuthRecorder(t, mirror.Host)
	upstream, err := harness.FreeAddress() // nothing listens there
	if err != nil {
		t.Fatal(err)
	}
	hostsDir := t.TempDir()
	if err := harness.WriteHostsToml(hostsDir, upstream, upstream, rec.host()); err != nil {
		t.Fatal(err)
	}
	pwFile := writeFile(t, t.TempDir(), "mirror", mirror.password)
	ref := upstream + "/lib/app:1"

	for _, f := range flavours() {
		t.Run(f.name, func(t *testing.T) {
			usersBefore, otherBefore := rec.seen()
			requestsBefore := rec.requestCount()
			cfg := harness.ContainerdConfig{}
			opts := []registry.Opt{registry.WithHostDir(hostsDir)}
			if f.nodecred {
				cfg.Nodecred = nodecredSection("", staticSource(rec.host(), mirror.user, pwFile))
			} else {
				opts = append(opts, registry.WithCredentials(hostCredentials{rec.host(): {mirror.user, mirror.password}}))
			}
			c := startContainerd(t, f.bin, cfg)
			cl := client(t, c)
			if err := grpcPull(cl, ref, opts...); err != nil {
				t.Fatalf("pull of %s with hosts dir: %v", ref, err)
			}
			if !hasImage(t, cl, "default", ref) {
				t.Fatalf("%s missing after pull", ref)
			}
			if rec.requestCount() == requestsBefore {
				t.Fatal("the pull never contacted the mirror")
			}
			users, other := rec.seen()
			users = users[len(usersBefore):]
			if len(users) == 0 || other != otherBefore {
				t.Fatalf("mirror saw basic-auth users %v and %d other auth headers; want the mirror's own user", users, other-otherBefore)
			}
			for _, u := range users {
				if u != mirror.user {
					t.Fatalf("mirror was sent user %q; want %q", u, mirror.user)
				}
			}
		})
	}
}

// tlsHostsDir writes a hosts.toml that reaches host over HTTPS only,
// presenting files' client certificate, and trusting files' CA when withCA.
func tlsHostsDir(t *testing.T, host string, files harness.TLSFiles, withCA bool) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "server = %q\n\n[host.%q]\n  capabilities = [\"pull\", \"resolve\"]\n", "https://"+host, "https://"+host)
	if withCA {
		fmt.Fprintf(&b, "  ca = %q\n", files.CA)
	}
	fmt.Fprintf(&b, "  client = [[%q, %q]]\n", files.ClientCert, files.ClientKey)
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, host), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, host), "hosts.toml", b.String())
	return dir
}

// startTLSRegistry starts a registry with one user holding images, served
// over TLS with a client certificate required, and returns the plain
// registry, the TLS one and its certificate files.
func startTLSRegistry(t *testing.T, user string, images ...string) (testRegistry, *harness.Registry, harness.TLSFiles) {
	t.Helper()
	plain := startRegistry(t, user, images...)
	files, err := harness.WriteTLSFiles(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	reg, err := harness.StartTLSRegistry(context.Background(), bins.Registry, t.TempDir(), plain.Registry, files)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(reg.Stop)
	return plain, reg, files
}

// (b) A gRPC pull from a TLS registry whose CA (and the client certificate
// it requires) is given only in hosts.toml.
func TestGRPCPullTLSRegistryWithCAFromHostsToml(t *testing.T) {
	plain, reg, files := startTLSRegistry(t, "tls-user", "lib/app:1")
	withCA := tlsHostsDir(t, reg.Host, files, true)
	withoutCA := tlsHostsDir(t, reg.Host, files, false)
	pwFile := writeFile(t, t.TempDir(), "password", plain.password)
	ref := reg.Host + "/lib/app:1"

	for _, f := range flavours() {
		t.Run(f.name, func(t *testing.T) {
			cfg := harness.ContainerdConfig{}
			var creds []registry.Opt
			if f.nodecred {
				cfg.Nodecred = nodecredSection("", staticSource(reg.Host, plain.user, pwFile))
			} else {
				creds = append(creds, registry.WithCredentials(hostCredentials{reg.Host: {plain.user, plain.password}}))
			}
			c := startContainerd(t, f.bin, cfg)
			cl := client(t, c)
			// Control: the same hosts.toml without the CA must fail
			// verification, or a pass below would not show the CA was used.
			err := grpcPull(cl, ref, append([]registry.Opt{registry.WithHostDir(withoutCA)}, creds...)...)
			if err == nil || !strings.Contains(err.Error(), "unknown authority") {
				t.Fatalf("pull with hosts.toml lacking the CA: err = %v, want a certificate verification failure", err)
			}
			if err := grpcPull(cl, ref, append([]registry.Opt{registry.WithHostDir(withCA)}, creds...)...); err != nil {
				t.Fatalf("pull with the CA and client certificate in hosts.toml: %v", err)
			}
			if !hasImage(t, cl, "default", ref) {
				t.Fatalf("%s missing after pull", ref)
			}
		})
	}
}

// tlsTap is a TCP listener in front of a plain-HTTP registry that records
// whether each connection opened with a TLS handshake.
type tlsTap struct {
	host     string
	mu       sync.Mutex
	conns    int
	tlsConns int
}

func newTLSTap(t *testing.T, backend string) *tlsTap {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	tap := &tlsTap{host: l.Addr().String()}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go tap.serve(c, backend)
		}
	}()
	return tap
}

func (tap *tlsTap) serve(c net.Conn, backend string) {
	defer c.Close()
	first := make([]byte, 1)
	if _, err := io.ReadFull(c, first); err != nil {
		return
	}
	tap.mu.Lock()
	tap.conns++
	if first[0] == 0x16 { // TLS record type: handshake
		tap.tlsConns++
	}
	tap.mu.Unlock()
	up, err := net.Dial("tcp", backend)
	if err != nil {
		return
	}
	defer up.Close()
	go func() { _, _ = io.Copy(c, up) }()
	_, _ = io.Copy(up, io.MultiReader(bytes.NewReader(first), c))
}

// counts returns the connections and the TLS connections since the last
// call.
func (tap *tlsTap) counts() (conns, tlsConns int) {
	tap.mu.Lock()
	defer tap.mu.Unlock()
	conns, tlsConns = tap.conns, tap.tlsConns
	tap.conns, tap.tlsConns = 0, 0
	return conns, tlsConns
}

// lockedBuffer collects a client's HTTP debug stream.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) Close() error { return nil }

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// (c) A gRPC pull with plain HTTP (registry.WithDefaultScheme("http"), what
// `ctr --plain-http` sends) of a host with no hosts.toml uses HTTP from the
// first request; and an HTTP dump the client asks for (`ctr --http-dump`)
// reaches the client.
func TestGRPCPullPlainHTTPAndHTTPDump(t *testing.T) {
	reg := startRegistry(t, "node", "lib/app:1", "lib/app:2", "lib/app:3")
	tap := newTLSTap(t, reg.Host)
	pwFile := writeFile(t, t.TempDir(), "password", reg.password)

	for _, f := range flavours() {
		t.Run(f.name, func(t *testing.T) {
			cfg := harness.ContainerdConfig{}
			var creds []registry.Opt
			if f.nodecred {
				cfg.Nodecred = nodecredSection("", staticSource(tap.host, reg.user, pwFile))
			} else {
				creds = append(creds, registry.WithCredentials(hostCredentials{tap.host: {reg.user, reg.password}}))
			}
			c := startContainerd(t, f.bin, cfg)
			cl := client(t, c)
			tap.counts()

			// Control: without plain HTTP, containerd tries TLS first on a
			// loopback host with a port, then falls back to HTTP.
			if err := grpcPull(cl, tap.host+"/lib/app:1", creds...); err != nil {
				t.Fatalf("pull without plain-http: %v", err)
			}
			if conns, tlsConns := tap.counts(); tlsConns == 0 {
				t.Fatalf("control pull: %d connections, none began with TLS; the check below would prove nothing", conns)
			}

			ref := tap.host + "/lib/app:2"
			if err := grpcPull(cl, ref, append([]registry.Opt{registry.WithDefaultScheme("http")}, creds...)...); err != nil {
				t.Fatalf("pull with plain-http: %v", err)
			}
			if !hasImage(t, cl, "default", ref) {
				t.Fatalf("%s missing after pull", ref)
			}
			if conns, tlsConns := tap.counts(); conns == 0 || tlsConns != 0 {
				t.Fatalf("pull with plain-http: %d connections, %d began with TLS; want HTTP only", conns, tlsConns)
			}

			dump := &lockedBuffer{}
			ref = tap.host + "/lib/app:3"
			if err := grpcPull(cl, ref, append([]registry.Opt{registry.WithDefaultScheme("http"),
				registry.WithHTTPDebug(), registry.WithClientStream(dump)}, creds...)...); err != nil {
				t.Fatalf("pull with http-dump: %v", err)
			}
			// The dump holds Authorization headers: report its size only.
			if d := dump.String(); !strings.Contains(d, "/v2/lib/app/manifests/3 HTTP/1.1") {
				t.Fatalf("the client's HTTP debug stream got %d bytes without the manifest request", len(d))
			}
		})
	}
}

// headerRecorder is a reverse proxy in front of a registry that records the
// headers of each request for the image's repository.
type headerRecorder struct {
	*httptest.Server
	mu   sync.Mutex
	seen []http.Header
}

func newHeaderRecorder(t *testing.T, backend string) *headerRecorder {
	u, _ := url.Parse("http://" + backend)
	proxy := httputil.NewSingleHostReverseProxy(u)
	h := &headerRecorder{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/v2/lib/app/") {
			h.mu.Lock()
			h.seen = append(h.seen, r.Header.Clone())
			h.mu.Unlock()
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *headerRecorder) host() string { return strings.TrimPrefix(h.URL, "http://") }

func (h *headerRecorder) take() []http.Header {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.seen
	h.seen = nil
	return s
}

// criHeaders is CRI's registry.headers table with a lower-case key and a
// header with two values, appended to containerd's config.
const criHeaders = `
[plugins."io.containerd.cri.v1.images".registry.headers]
  "x-lower" = ["lower-value"]
  "X-Multi" = ["one", "two"]
`

// (d) A CRI pull sends CRI's registry.headers intact: a lower-case key
// with its value, and a header with both its values.
func TestCRIPullKeepsRegistryHeaders(t *testing.T) {
	reg := startRegistry(t, "node", "lib/app:1")
	rec := newHeaderRecorder(t, reg.Host)
	hostsDir := t.TempDir()
	if err := harness.WriteHostsToml(hostsDir, rec.host(), rec.host()); err != nil {
		t.Fatal(err)
	}
	pwFile := writeFile(t, t.TempDir(), "password", reg.password)
	ref := rec.host() + "/lib/app:1"

	for _, f := range flavours() {
		t.Run(f.name, func(t *testing.T) {
			cfg := harness.ContainerdConfig{HostsDir: hostsDir, Nodecred: criHeaders}
			var auth *runtime.AuthConfig
			if f.nodecred {
				cfg.Nodecred = nodecredSection("", staticSource(rec.host(), reg.user, pwFile)) + criHeaders
			} else {
				auth = &runtime.AuthConfig{Username: reg.user, Password: reg.password}
			}
			c := startContainerd(t, f.bin, cfg)
			rec.take()
			if err := criPull(c, ref, auth); err != nil {
				t.Fatalf("CRI pull: %v", err)
			}
			if !imagePresent(t, c, ref) {
				t.Fatalf("%s not in the image store after pull", ref)
			}
			seen := rec.take()
			if len(seen) == 0 {
				t.Fatal("the registry saw no request for the image")
			}
			for i, h := range seen {
				if got := h.Values("X-Lower"); !slices.Equal(got, []string{"lower-value"}) {
					t.Fatalf("request %d: x-lower = %q, want [lower-value]", i, got)
				}
				if got := h.Values("X-Multi"); !slices.Equal(got, []string{"one", "two"}) {
					t.Fatalf("request %d: X-Multi = %q, want [one two]", i, got)
				}
			}
		})
	}
}

// (e) A gRPC client's own credentials (`ctr --user`) travel from the client
// over its credential stream to the daemon and on to the registry, and win
// over node credentials; a host the client has nothing for gets the node's.
func TestGRPCPullCallerCredentialsWin(t *testing.T) {
	callerPW, nodePW := newPassword("caller"), newPassword("node")
	r, err := harness.StartRegistry(context.Background(), bins.Registry, t.TempDir(), map[string]string{"caller": callerPW, "node": nodePW})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Stop)
	img, err := harness.NewImage(1, 1024)
	if err != nil {
		t.Fatal(err)
	}
	if err := img.PushTags(r.Host, "lib/app", []string{"1", "2"}, "caller", callerPW); err != nil {
		t.Fatal(err)
	}
	rec := newAuthRecorder(t, r.Host)
	hostsDir := t.TempDir()
	if err := harness.WriteHostsToml(hostsDir, rec.host(), rec.host()); err != nil {
		t.Fatal(err)
	}
	nodePWFile := writeFile(t, t.TempDir(), "password", nodePW)
	callerCreds := registry.WithCredentials(hostCredentials{rec.host(): {"caller", callerPW}})
	noCallerCreds := registry.WithCredentials(hostCredentials{})

	newUsers := func(before []string) []string {
		users, _ := rec.seen()
		return users[len(before):]
	}
	onlyUser := func(users []string, want string) bool {
		return len(users) > 0 && !slices.ContainsFunc(users, func(u string) bool { return u != want })
	}

	for _, f := range flavours() {
		t.Run(f.name, func(t *testing.T) {
			cfg := harness.ContainerdConfig{HostsDir: hostsDir}
			if f.nodecred {
				cfg.Nodecred = nodecredSection("", staticSource(rec.host(), "node", nodePWFile))
			}
			c := startContainerd(t, f.bin, cfg)
			cl := client(t, c)

			before, _ := rec.seen()
			ref := rec.host() + "/lib/app:1"
			if err := grpcPull(cl, ref, registry.WithHostDir(hostsDir), callerCreds); err != nil {
				t.Fatalf("pull with the client's credentials: %v", err)
			}
			if users := newUsers(before); !onlyUser(users, "caller") {
				t.Fatalf("registry was sent users %v; want only the client's user", users)
			}

			// The client's callback answers, but has nothing for this host.
			before, _ = rec.seen()
			ref = rec.host() + "/lib/app:2"
			err := grpcPull(cl, ref, registry.WithHostDir(hostsDir), noCallerCreds)
			switch users := newUsers(before); {
			case f.nodecred && (err != nil || !onlyUser(users, "node")):
				t.Fatalf("pull with a client callback that has nothing: err = %v, users %v; want the node's user", err, users)
			case !f.nodecred && (err == nil || !isAuthError(err)):
				t.Fatalf("stock pull with a client callback that has nothing: err = %v; want an authorization failure", err)
			}
		})
	}
}
