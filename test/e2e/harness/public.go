package harness

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// StartPublicRegistry starts bin with no auth at all, as a public registry
// (docker.io's library images) is to a node: anyone pulls and pushes.
func StartPublicRegistry(ctx context.Context, bin, dir string) (*Registry, error) {
	if err := os.MkdirAll(filepath.Join(dir, "storage"), 0o755); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	host := fmt.Sprintf("127.0.0.1:%d", port)
	cfg := fmt.Sprintf(`version: 0.1
log:
  level: info
  formatter: text
storage:
  filesystem:
    rootdirectory: %s
http:
  addr: %s
`, filepath.Join(dir, "storage"), host)
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
		resp, err := http.Get("http://" + host + "/v2/")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}); err != nil {
		r.Stop()
		return nil, fmt.Errorf("public registry did not come up: %w (log: %s)", err, r.LogPath)
	}
	return r, nil
}

// SetUsers replaces the users of a registry StartRegistry started (name to
// password). The registry rereads its htpasswd file when the file changes,
// so a password changed here is in force from the next request: a
// registry rotating a robot's password.
func (r *Registry) SetUsers(users map[string]string) error {
	names := make([]string, 0, len(users))
	for u := range users {
		names = append(names, u)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, u := range names {
		hash, err := bcrypt.GenerateFromPassword([]byte(users[u]), bcrypt.MinCost)
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s:%s\n", u, hash)
	}
	path := filepath.Join(r.Dir, "htpasswd")
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(b.String()), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
