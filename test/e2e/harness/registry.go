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

package harness

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Registry is a running distribution registry with htpasswd auth on loopback.
type Registry struct {
	// Host is "127.0.0.1:PORT", the registry host in image references.
	Host    string
	LogPath string
	// Dir holds the registry's storage ("storage"), users ("htpasswd"),
	// config and log.
	Dir  string
	cmd  *exec.Cmd
	done chan struct{}
	stop sync.Once
}

// StartRegistry starts bin with its storage, config and log under dir and
// the given users (name to password) in its htpasswd file.
func StartRegistry(ctx context.Context, bin, dir string, users map[string]string) (*Registry, error) {
	if err := os.MkdirAll(filepath.Join(dir, "storage"), 0o755); err != nil {
		return nil, err
	}
	var htpasswd strings.Builder
	names := make([]string, 0, len(users))
	for u := range users {
		names = append(names, u)
	}
	sort.Strings(names)
	for _, u := range names {
		// The lowest cost keeps the tests fast; htpasswd accepts any cost.
		hash, err := bcrypt.GenerateFromPassword([]byte(users[u]), bcrypt.MinCost)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(&htpasswd, "%s:%s\n", u, hash)
	}
	htpath := filepath.Join(dir, "htpasswd")
	if err := os.WriteFile(htpath, []byte(htpasswd.String()), 0o600); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	host := fmt.Sprintf("127.0.0.1:%d", port)
	cfg := registryConfig(filepath.Join(dir, "storage"), host, htpath, "")
	return serveRegistry(ctx, bin, dir, host, cfg, http.DefaultClient, "http", http.StatusUnauthorized)
}

// registryConfig is a distribution registry's config: filesystem storage,
// htpasswd users, and http settings beyond the address (tls), indented
// under http.
func registryConfig(storage, host, htpasswd, tls string) string {
	return fmt.Sprintf(`version: 0.1
log:
  level: info
  formatter: text
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
%sauth:
  htpasswd:
    realm: nodecred-e2e
    path: %s
`, storage, host, tls, htpasswd)
}

// StartPrivateRegistry starts a registry (see StartRegistry) whose one user
// is user with password, and pushes a small generated image to each of
// refs (repo:tag).
func StartPrivateRegistry(ctx context.Context, bin, dir, user, password string, refs ...string) (*Registry, error) {
	r, err := StartRegistry(ctx, bin, dir, map[string]string{user: password})
	if err != nil {
		return nil, err
	}
	img, err := NewImage(1, 1024)
	if err != nil {
		r.Stop()
		return nil, err
	}
	tags := map[string][]string{}
	for _, ref := range refs {
		repo, tag, _ := strings.Cut(ref, ":")
		tags[repo] = append(tags[repo], tag)
	}
	for repo, ts := range tags {
		if err := img.PushTags(r.Host, repo, ts, user, password); err != nil {
			r.Stop()
			return nil, err
		}
	}
	return r, nil
}

// serveRegistry writes cfg as dir/config.yml, starts bin with it and waits
// until the registry at host answers /v2/ over scheme, reached with client,
// with ready: 401 where it asks for credentials, 200 where it is public.
func serveRegistry(ctx context.Context, bin, dir, host, cfg string, client *http.Client, scheme string, ready int) (*Registry, error) {
	cfgPath := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return nil, err
	}
	r := &Registry{Host: host, LogPath: filepath.Join(dir, "registry.log"), Dir: dir, done: make(chan struct{})}
	logf, err := os.Create(r.LogPath)
	if err != nil {
		return nil, err
	}
	r.cmd = exec.Command(bin, "serve", cfgPath)
	r.cmd.Stdout, r.cmd.Stderr = logf, logf
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := r.cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	go func() { _ = r.cmd.Wait(); logf.Close(); close(r.done) }()
	if err := waitFor(ctx, 30*time.Second, r.done, func() bool {
		resp, err := client.Get(scheme + "://" + host + "/v2/")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == ready
	}); err != nil {
		r.Stop()
		return nil, fmt.Errorf("%s registry did not come up: %w (log: %s)", scheme, err, r.LogPath)
	}
	return r, nil
}

// Stop stops the registry and waits for it.
func (r *Registry) Stop() {
	r.stop.Do(func() { stopProcess(r.cmd, r.done) })
}

func stopProcess(cmd *exec.Cmd, done chan struct{}) {
	if cmd == nil || cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitFor polls ok until it is true, the process ends (done closes) or the
// timeout passes.
func waitFor(ctx context.Context, timeout time.Duration, done <-chan struct{}, ok func() bool) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		if ok() {
			return nil
		}
		select {
		case <-done:
			return fmt.Errorf("process exited")
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}
