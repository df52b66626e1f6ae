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

package conformance

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"
)

// cloudFront stands where the internet would be: an HTTP proxy on loopback
// that containerd reaches through HTTPS_PROXY. For each cloud registry name
// it serves (and only those), it accepts CONNECT, terminates TLS with a
// certificate for that name signed by a test CA, and forwards the decrypted
// requests to a distribution registry on loopback. Every other destination
// is refused and recorded, so nothing leaves the machine.
type cloudFront struct {
	// Addr is the proxy's "127.0.0.1:PORT"; URL is "http://" + Addr.
	Addr, URL string
	// CAFile is the test CA's certificate, for hosts.toml `ca`.
	CAFile string

	routes map[string]*route
	ln     net.Listener
	inner  *http.Server
	conns  chan net.Conn
	closed chan struct{}
	outer  *http.Server

	mu       sync.Mutex
	connects map[string]int
	refused  []string
}

// route sends one cloud name to a backend registry. Authorize, when set,
// stands for the cloud registry's own check of the token a client presents:
// it may rewrite the request's Authorization for the backend. Serve, when
// set, sees each request first and answers those the cloud answers itself
// (token endpoints, challenges), reporting whether it did.
type route struct {
	Backend   string
	Authorize func(r *http.Request)
	Serve     func(w http.ResponseWriter, r *http.Request) bool
}

// startCloudFront starts the proxy for the given cloud names (no ports).
func startCloudFront(t *testing.T, routes map[string]*route) *cloudFront {
	t.Helper()
	names := make([]string, 0, len(routes))
	for n := range routes {
		names = append(names, n)
	}
	caPEM, cert, err := newTestCA(names)
	if err != nil {
		t.Fatal(err)
	}
	f := &cloudFront{
		CAFile:   filepath.Join(t.TempDir(), "ca.pem"),
		routes:   routes,
		conns:    make(chan net.Conn),
		closed:   make(chan struct{}),
		connects: map[string]int{},
	}
	if err := os.WriteFile(f.CAFile, caPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	if f.ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	f.Addr = f.ln.Addr().String()
	f.URL = "http://" + f.Addr
	quiet := log.New(io.Discard, "", 0)
	f.inner = &http.Server{Handler: http.HandlerFunc(f.forward), ErrorLog: quiet, ReadHeaderTimeout: time.Minute}
	f.outer = &http.Server{Handler: http.HandlerFunc(f.connect), ErrorLog: quiet, ReadHeaderTimeout: time.Minute}
	tlsCfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	go func() { _ = f.inner.Serve(tls.NewListener(&chanListener{conns: f.conns, addr: f.ln.Addr()}, tlsCfg)) }()
	go func() { _ = f.outer.Serve(f.ln) }()
	t.Cleanup(func() {
		close(f.closed)
		f.outer.Close()
		f.inner.Close()
	})
	return f
}

// connect handles the proxy protocol: CONNECT to a served cloud name on
// port 443 is accepted, anything else refused.
func (f *cloudFront) connect(w http.ResponseWriter, r *http.Request) {
	dest := r.Host
	if r.Method != http.MethodConnect {
		dest = r.Method + " " + r.URL.String()
	}
	host, port, _ := net.SplitHostPort(r.Host)
	if r.Method != http.MethodConnect || port != "443" || f.routes[host] == nil {
		f.mu.Lock()
		f.refused = append(f.refused, dest)
		f.mu.Unlock()
		http.Error(w, "this proxy only reaches the test's cloud registries", http.StatusForbidden)
		return
	}
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	f.mu.Lock()
	f.connects[host]++
	f.mu.Unlock()
	if _, err := conn.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n")); err != nil {
		conn.Close()
		return
	}
	var c net.Conn = conn
	if n := buf.Reader.Buffered(); n > 0 {
		pending, _ := buf.Reader.Peek(n)
		c = &prefixedConn{Conn: conn, prefix: append([]byte(nil), pending...)}
	}
	select {
	case f.conns <- c:
	case <-f.closed:
		c.Close()
	}
}

// forward sends a request that arrived inside a tunnel to the cloud name's
// backend registry over plain HTTP on loopback.
func (f *cloudFront) forward(w http.ResponseWriter, r *http.Request) {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	rt := f.routes[host]
	if rt == nil || r.TLS == nil || r.TLS.ServerName != host {
		http.Error(w, "unknown registry", http.StatusMisdirectedRequest)
		return
	}
	if rt.Serve != nil && rt.Serve(w, r) {
		return
	}
	if rt.Authorize != nil {
		rt.Authorize(r)
	}
	target := &url.URL{Scheme: "http", Host: rt.Backend}
	(&httputil.ReverseProxy{
		Rewrite:  func(pr *httputil.ProxyRequest) { pr.SetURL(target) },
		ErrorLog: log.New(io.Discard, "", 0),
	}).ServeHTTP(w, r)
}

// Connects returns how many tunnels were opened to host.
func (f *cloudFront) Connects(host string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.connects[host]
}

// Refused returns the destinations the proxy refused, sorted.
func (f *cloudFront) Refused() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := append([]string(nil), f.refused...)
	sort.Strings(out)
	return out
}

// writeCloudHostsToml writes dir/<host>/hosts.toml: the registry is the
// real https://<host>, trusted through the test CA.
func writeCloudHostsToml(t *testing.T, dir, host, caFile string) {
	t.Helper()
	d := filepath.Join(dir, host)
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	body := fmt.Sprintf("server = %q\nca = %q\n", "https://"+host, caFile)
	if err := os.WriteFile(filepath.Join(d, "hosts.toml"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// newTestCA returns a CA certificate (PEM) and a serving certificate it
// signed for names.
func newTestCA(names []string) ([]byte, tls.Certificate, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "nodecred conformance test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: names[0]},
		DNSNames:     names,
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	return caPEM, tls.Certificate{Certificate: [][]byte{leafDER}, PrivateKey: key}, nil
}

// chanListener hands the proxy's tunnels to an http.Server.
type chanListener struct {
	conns chan net.Conn
	addr  net.Addr
	once  sync.Once
	done  chan struct{}
}

func (l *chanListener) init() { l.once.Do(func() { l.done = make(chan struct{}) }) }

func (l *chanListener) Accept() (net.Conn, error) {
	l.init()
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *chanListener) Close() error {
	l.init()
	select {
	case <-l.done:
	default:
		close(l.done)
	}
	return nil
}

func (l *chanListener) Addr() net.Addr { return l.addr }

// prefixedConn replays bytes the proxy had already buffered.
type prefixedConn struct {
	net.Conn
	prefix []byte
}

func (c *prefixedConn) Read(p []byte) (int, error) {
	if len(c.prefix) > 0 {
		n := copy(p, c.prefix)
		c.prefix = c.prefix[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

// cloudEnv is the proxy part of containerd's environment: the cloud front
// for everything, loopback (the endpoint stand-ins) direct.
func (f *cloudFront) cloudEnv() []string {
	return []string{
		"HTTPS_PROXY=" + f.URL, "HTTP_PROXY=" + f.URL, "https_proxy=" + f.URL, "http_proxy=" + f.URL,
		"NO_PROXY=127.0.0.1,localhost", "no_proxy=127.0.0.1,localhost",
	}
}
