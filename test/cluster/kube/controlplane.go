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

package kube

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nodecred/nodecred/test/cluster/kubebuild"
	"github.com/nodecred/nodecred/test/e2e/harness"
)

// ControlPlane is etcd, kube-apiserver, kube-controller-manager and
// kube-scheduler on loopback.
type ControlPlane struct {
	// Server is the API server's URL.
	Server string
	// CA is the PEM file of the CA that signed the API server's certificate.
	CA string
	// Dir holds every program's state, config and log.
	Dir        string
	adminToken string
	nodeTokens map[string]string
	procs      []*Process
}

// StartControlPlane starts the control plane with its files under dir. Each
// of nodes gets a kubelet identity (system:node:NAME in system:nodes), as
// the Node authorizer expects; the controllers and the tests act as a
// member of system:masters.
func StartControlPlane(ctx context.Context, p kubebuild.Programs, dir string, nodes ...string) (*ControlPlane, error) {
	tlsFiles, err := harness.WriteTLSFiles(dir)
	if err != nil {
		return nil, err
	}
	cp := &ControlPlane{Dir: dir, CA: tlsFiles.CA, adminToken: token(), nodeTokens: map[string]string{}}
	if err := cp.start(ctx, p, tlsFiles, nodes); err != nil {
		cp.Stop()
		return nil, err
	}
	return cp, nil
}

func (cp *ControlPlane) start(ctx context.Context, p kubebuild.Programs, tlsFiles harness.TLSFiles, nodes []string) error {
	dir := cp.Dir
	var tokens strings.Builder
	fmt.Fprintf(&tokens, "%s,admin,admin,\"system:masters\"\n", cp.adminToken)
	for _, n := range nodes {
		cp.nodeTokens[n] = token()
		fmt.Fprintf(&tokens, "%s,system:node:%s,node-%s,\"system:nodes\"\n", cp.nodeTokens[n], n, n)
	}
	tokenFile := filepath.Join(dir, "tokens.csv")
	if err := os.WriteFile(tokenFile, []byte(tokens.String()), 0o600); err != nil {
		return err
	}

	etcdClient, etcdPeer, apiAddr := freeAddress(), freeAddress(), freeAddress()
	etcd, err := start("etcd", p.Etcd, filepath.Join(dir, "etcd.log"), nil,
		"--name", "default", "--data-dir", filepath.Join(dir, "etcd"),
		"--listen-client-urls", "http://"+etcdClient, "--advertise-client-urls", "http://"+etcdClient,
		"--listen-peer-urls", "http://"+etcdPeer, "--initial-advertise-peer-urls", "http://"+etcdPeer,
		"--initial-cluster", "default=http://"+etcdPeer, "--listen-metrics-urls", "")
	if err != nil {
		return err
	}
	cp.procs = append(cp.procs, etcd)
	if err := waitUntil(ctx, etcd, time.Minute, func() bool { return httpOK(http.DefaultClient, "http://"+etcdClient+"/health", "") }); err != nil {
		return err
	}

	saKey, err := writeServiceAccountKey(filepath.Join(dir, "service-account-key.pem"))
	if err != nil {
		return err
	}
	_, port, _ := net.SplitHostPort(apiAddr)
	cp.Server = "https://" + apiAddr
	api, err := start("kube-apiserver", p.APIServer, filepath.Join(dir, "kube-apiserver.log"), nil,
		"--etcd-servers", "http://"+etcdClient,
		"--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1", "--secure-port", port,
		"--tls-cert-file", tlsFiles.ServerCert, "--tls-private-key-file", tlsFiles.ServerKey,
		"--cert-dir", filepath.Join(dir, "apiserver-certs"),
		"--token-auth-file", tokenFile,
		"--authorization-mode", "Node,RBAC", "--enable-admission-plugins", "NodeRestriction",
		"--service-account-issuer", "https://kubernetes.default.svc",
		"--service-account-key-file", saKey, "--service-account-signing-key-file", saKey,
		"--service-cluster-ip-range", "10.96.0.0/24",
		// One API server that no Service reaches: no endpoints to keep.
		"--endpoint-reconciler-type", "none",
		"--profiling=false")
	if err != nil {
		return err
	}
	cp.procs = append(cp.procs, api)
	client, err := cp.httpClient()
	if err != nil {
		return err
	}
	if err := waitUntil(ctx, api, 2*time.Minute, func() bool { return httpOK(client, cp.Server+"/readyz", cp.adminToken) }); err != nil {
		return err
	}

	kubeconfig, err := cp.WriteKubeconfig(filepath.Join(dir, "admin.kubeconfig"), cp.adminToken)
	if err != nil {
		return err
	}
	cm, err := start("kube-controller-manager", p.ControllerManager, filepath.Join(dir, "kube-controller-manager.log"), nil,
		"--kubeconfig", kubeconfig, "--leader-elect=false", "--bind-address", "127.0.0.1", "--secure-port", "0",
		"--root-ca-file", tlsFiles.CA, "--profiling=false")
	if err != nil {
		return err
	}
	cp.procs = append(cp.procs, cm)
	sched, err := start("kube-scheduler", p.Scheduler, filepath.Join(dir, "kube-scheduler.log"), nil,
		"--kubeconfig", kubeconfig, "--leader-elect=false", "--bind-address", "127.0.0.1", "--secure-port", "0",
		"--profiling=false")
	if err != nil {
		return err
	}
	cp.procs = append(cp.procs, sched)
	// The default namespace's service account is made by the controller
	// manager; pods wait for it.
	c := cp.Client()
	if err := waitUntil(ctx, cm, 2*time.Minute, func() bool {
		return c.Get(ctx, "/api/v1/namespaces/default/serviceaccounts/default", nil) == nil
	}); err != nil {
		return err
	}
	return nil
}

// Stop stops the programs, the last started first.
func (cp *ControlPlane) Stop() {
	for i := len(cp.procs) - 1; i >= 0; i-- {
		cp.procs[i].Stop()
	}
}

// Processes returns the running programs, for their logs.
func (cp *ControlPlane) Processes() []*Process { return cp.procs }

// Client returns a client acting as a cluster administrator.
func (cp *ControlPlane) Client() *Client {
	hc, err := cp.httpClient()
	if err != nil {
		panic(err) // the CA file was read when the control plane started
	}
	return &Client{server: cp.Server, token: cp.adminToken, http: hc}
}

// WriteKubeconfig writes a kubeconfig for the API server with token.
func (cp *ControlPlane) WriteKubeconfig(path, token string) (string, error) {
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: %s
    certificate-authority: %s
users:
- name: user
  user:
    token: %s
contexts:
- name: local
  context:
    cluster: local
    user: user
current-context: local
`, cp.Server, cp.CA, token)
	return path, os.WriteFile(path, []byte(cfg), 0o600)
}

func (cp *ControlPlane) nodeToken(node string) (string, error) {
	t, ok := cp.nodeTokens[node]
	if !ok {
		return "", fmt.Errorf("node %q has no identity: name it when starting the control plane", node)
	}
	return t, nil
}

// writeServiceAccountKey writes a new key for signing service account
// tokens, in the SEC 1 form both of the API server's key flags read.
func writeServiceAccountKey(path string) (string, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", err
	}
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return "", err
	}
	return path, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600)
}

func httpOK(c *http.Client, url, token string) bool {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func token() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func freeAddress() string {
	a, err := harness.FreeAddress()
	if err != nil {
		panic(err)
	}
	return a
}
