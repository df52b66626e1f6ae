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
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// ContainerdConfig is what a test varies in containerd's config.toml.
type ContainerdConfig struct {
	// HostsDir is CRI's registry config_path; empty for none.
	HostsDir string
	// SandboxImage is CRI's pinned sandbox image.
	SandboxImage string
	// Nodecred is the [plugins."io.containerd.credentials.v1.nodecred"]
	// section body and any further TOML, appended as is.
	Nodecred string
	// LogLevel defaults to "debug", so the secret scan sees everything.
	LogLevel string
	// Env is added to containerd's environment.
	Env []string
	// MetricsAddress, when set, serves containerd's metrics there.
	MetricsAddress string
	// Whole, when set, returns the whole config.toml for a containerd
	// whose files live under dir, in place of the fields above but Env; it
	// may write files the config imports under dir. The config must put
	// the gRPC socket at dir/c.sock.
	Whole func(dir string) string
}

// Containerd is a running containerd with its state under one directory.
type Containerd struct {
	Dir     string
	Socket  string
	LogPath string
	Conn    *grpc.ClientConn
	cmd     *exec.Cmd
	done    chan struct{}
	stop    sync.Once
}

// Render returns config.toml for a containerd whose files live under dir.
func (c ContainerdConfig) Render(dir string) string {
	if c.Whole != nil {
		return c.Whole(dir)
	}
	level := c.LogLevel
	if level == "" {
		level = "debug"
	}
	var b strings.Builder
	fmt.Fprintf(&b, `version = 3
root = %q
state = %q
[grpc]
  address = %q
[ttrpc]
  address = %q
[debug]
  level = %q
[plugins."io.containerd.cri.v1.runtime".cni]
  conf_dir = %q
  bin_dirs = [%q]
[plugins."io.containerd.cri.v1.images".pinned_images]
  sandbox = %q
[plugins."io.containerd.cri.v1.images".registry]
  config_path = %q
`, filepath.Join(dir, "root"), filepath.Join(dir, "state"), filepath.Join(dir, "c.sock"),
		filepath.Join(dir, "c.sock.ttrpc"), level, filepath.Join(dir, "cni"), filepath.Join(dir, "cni"),
		c.SandboxImage, c.HostsDir)
	if c.MetricsAddress != "" {
		fmt.Fprintf(&b, "[metrics]\n  address = %q\n", c.MetricsAddress)
	}
	b.WriteString(c.Nodecred)
	return b.String()
}

// StartContainerd writes cfg under dir, starts bin and waits until CRI
// answers. The caller stops it with Stop.
func StartContainerd(ctx context.Context, bin, dir string, cfg ContainerdConfig) (*Containerd, error) {
	if err := os.MkdirAll(filepath.Join(dir, "cni"), 0o755); err != nil {
		return nil, err
	}
	cfgPath := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfgPath, []byte(cfg.Render(dir)), 0o600); err != nil {
		return nil, err
	}
	c := &Containerd{
		Dir:     dir,
		Socket:  filepath.Join(dir, "c.sock"),
		LogPath: filepath.Join(dir, "containerd.log"),
		done:    make(chan struct{}),
	}
	logf, err := os.Create(c.LogPath)
	if err != nil {
		return nil, err
	}
	c.cmd = exec.Command(bin, "--config", cfgPath)
	c.cmd.Env = append(os.Environ(), cfg.Env...)
	c.cmd.Stdout, c.cmd.Stderr = logf, logf
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := c.cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	go func() { _ = c.cmd.Wait(); logf.Close(); close(c.done) }()

	c.Conn, err = grpc.NewClient("unix://"+c.Socket, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		c.Stop()
		return nil, err
	}
	rt := runtime.NewRuntimeServiceClient(c.Conn)
	if err := waitFor(ctx, 60*time.Second, c.done, func() bool {
		if _, err := os.Stat(c.Socket); err != nil {
			return false
		}
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		_, err := rt.Version(cctx, &runtime.VersionRequest{})
		return err == nil
	}); err != nil {
		c.Stop()
		return nil, fmt.Errorf("containerd did not come up: %w\n%s", err, tail(c.LogPath, 20))
	}
	return c, nil
}

// Exited returns a channel closed when the process has ended.
func (c *Containerd) Exited() <-chan struct{} { return c.done }

// Stop stops containerd and waits for it.
func (c *Containerd) Stop() {
	c.stop.Do(func() {
		if c.Conn != nil {
			c.Conn.Close()
		}
		stopProcess(c.cmd, c.done)
	})
}

// Runtime returns a CRI runtime service client.
func (c *Containerd) Runtime() runtime.RuntimeServiceClient {
	return runtime.NewRuntimeServiceClient(c.Conn)
}

// Images returns a CRI image service client.
func (c *Containerd) Images() runtime.ImageServiceClient {
	return runtime.NewImageServiceClient(c.Conn)
}

// Log returns containerd's log so far.
func (c *Containerd) Log() string {
	b, _ := os.ReadFile(c.LogPath)
	return string(b)
}

// RunContainerd runs bin with cfg once and returns its log and exit error,
// for configs that must stop containerd from starting.
func RunContainerd(ctx context.Context, bin, dir string, cfg ContainerdConfig, timeout time.Duration) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	cfgPath := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfgPath, []byte(cfg.Render(dir)), 0o600); err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--config", cfgPath)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// FreeAddress returns a loopback address with a port free right now.
func FreeAddress() (string, error) {
	port, err := freePort()
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("127.0.0.1:%d", port), nil
}

// HostNetworkSandbox is a pod sandbox config that needs no CNI, so that
// RunPodSandbox gets as far as pulling the sandbox image on this machine.
func HostNetworkSandbox(name string) *runtime.PodSandboxConfig {
	return &runtime.PodSandboxConfig{
		Metadata: &runtime.PodSandboxMetadata{Name: name, Uid: name + "-uid", Namespace: "default"},
		Linux: &runtime.LinuxPodSandboxConfig{
			SecurityContext: &runtime.LinuxSandboxSecurityContext{
				NamespaceOptions: &runtime.NamespaceOption{Network: runtime.NamespaceMode_NODE},
			},
		},
	}
}

func tail(path string, n int) string {
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
