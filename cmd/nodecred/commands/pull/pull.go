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

// Package pull is `nodecred pull`: a pull through the running containerd's
// transfer service, with the node's credentials, that sends no secret over
// containerd's socket.
package pull

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"sync"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/transfer"
	"github.com/containerd/containerd/v2/core/transfer/image"
	"github.com/containerd/containerd/v2/defaults"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	"github.com/containerd/platforms"
	"github.com/distribution/reference"
	"github.com/urfave/cli/v3"
	"golang.org/x/term"

	"github.com/nodecred/nodecred/cmd/nodecred/commands"
	"github.com/nodecred/nodecred/nodeconfig"
	nctransfer "github.com/nodecred/nodecred/transfer"
)

// Command is `nodecred pull REF`.
func Command() *cli.Command {
	return &cli.Command{
		Name:      "pull",
		Usage:     "pull REF through the running containerd with the node's credentials; no secret crosses the socket",
		ArgsUsage: "REF",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "address", Aliases: []string{"a"}, Value: defaults.DefaultAddress, Usage: "containerd's socket"},
			&cli.StringFlag{Name: "namespace", Aliases: []string{"n"}, Value: "k8s.io", Usage: "containerd namespace to pull into"},
			&cli.StringFlag{Name: "platform", Usage: "platform to pull and unpack (default: this machine's)"},
			&cli.StringFlag{Name: "snapshotter", Value: defaults.DefaultSnapshotter, Usage: "snapshotter to unpack for"},
			&cli.StringFlag{Name: "config", Aliases: []string{"c"}, Value: "/etc/containerd/config.toml", Usage: "containerd's config file, for CRI's registry config_path"},
			&cli.StringFlag{Name: "hosts-dir", Usage: "registry hosts directory (default: CRI's config_path from --config)"},
		},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			ref, err := commands.RefArg(cmd)
			if err != nil {
				return err
			}
			named, err := reference.ParseDockerRef(ref)
			if err != nil {
				return commands.UsageError{Err: fmt.Errorf("invalid reference %q: %w", ref, err)}
			}
			platform := platforms.DefaultSpec()
			if s := cmd.String("platform"); s != "" {
				if platform, err = platforms.Parse(s); err != nil {
					return commands.UsageError{Err: fmt.Errorf("--platform %q: %w", s, err)}
				}
			}
			hostsDir, err := pullHostsDir(ctx, cmd.String("config"), cmd.String("hosts-dir"))
			if err != nil {
				return commands.UsageError{Err: err}
			}
			return pull(ctx, cmd.Root().Writer, pullOptions{
				address: cmd.String("address"), namespace: cmd.String("namespace"), ref: named.String(),
				hostsDir: hostsDir, platform: platform, snapshotter: cmd.String("snapshotter"),
			})
		},
	}
}

// pullHostsDir is --hosts-dir, else CRI's config_path, else CRI's default
// when containerd runs without a config file.
func pullHostsDir(ctx context.Context, configPath, hostsDir string) (string, error) {
	if hostsDir != "" {
		return hostsDir, nil
	}
	node, err := nodeconfig.LoadContainerd(ctx, configPath)
	if errors.Is(err, fs.ErrNotExist) {
		return "/etc/containerd/certs.d", nil
	}
	return node.HostsDir, err
}

type pullOptions struct {
	address, namespace, ref, hostsDir, snapshotter string
	platform                                       platforms.Platform
}

func pull(ctx context.Context, out io.Writer, o pullOptions) error {
	client, err := containerd.New(o.address)
	if err != nil {
		return commands.FailedError{Err: fmt.Errorf("failed to connect to containerd at %s: %w", o.address, err)}
	}
	defer client.Close()
	ctx = namespaces.WithNamespace(ctx, o.namespace)

	src := &nctransfer.NodeRegistry{Reference: o.ref, HostDir: o.hostsDir}
	dst := image.NewStore(o.ref, image.WithPlatforms(o.platform), image.WithUnpack(o.platform, o.snapshotter))
	prog := newProgress(out)
	err = client.Transfer(ctx, src, dst, transfer.WithProgress(prog.update))
	prog.done()
	if err != nil {
		return commands.FailedError{Err: fmt.Errorf("pull %s: %w", o.ref, err)}
	}
	img, err := client.GetImage(ctx, o.ref)
	if err != nil {
		return commands.FailedError{Err: err}
	}
	fmt.Fprintf(out, "pulled %s in namespace %s: %s\n", o.ref, o.namespace, img.Target().Digest)
	return nil
}

// progress shows transfer progress: one redrawn line on a terminal, plain
// lines otherwise (one per object and event, not per byte).
type progress struct {
	mu     sync.Mutex
	out    io.Writer
	tty    bool
	state  map[string]transfer.Progress
	events map[string]string
}

func newProgress(out io.Writer) *progress {
	tty := false
	if f, ok := out.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	return &progress{out: out, tty: tty, state: map[string]transfer.Progress{}, events: map[string]string{}}
}

func (p *progress) update(u transfer.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if u.Name == "" {
		return
	}
	p.state[u.Name] = u
	if !p.tty {
		if p.events[u.Name] != u.Event {
			p.events[u.Name] = u.Event
			fmt.Fprintf(p.out, "%s %s\n", u.Event, u.Name)
		}
		return
	}
	var done, total int64
	names := make([]string, 0, len(p.state))
	for n, s := range p.state {
		names = append(names, n)
		done += s.Progress
		total += s.Total
	}
	sort.Strings(names)
	const width = 30
	filled := 0
	if total > 0 {
		filled = int(min(done, total) * width / total)
	}
	bar := make([]byte, width)
	for i := range bar {
		bar[i] = ' '
		if i < filled {
			bar[i] = '='
		}
	}
	fmt.Fprintf(p.out, "\r[%s] %s / %s  %d objects ", bar, size(done), size(total), len(names))
}

func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty && len(p.state) > 0 {
		fmt.Fprintln(p.out)
	}
}

func size(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	default:
		return fmt.Sprintf("%d B", n)
	}
}
