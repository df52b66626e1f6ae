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

// Package migrate is `nodecred migrate`: it moves CRI's local-pull settings
// onto the transfer service, the auth tables into a docker config file and
// the mirrors and TLS tables into hosts.toml files, and prints the edits to
// make to containerd's config.
package migrate

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/urfave/cli/v3"

	"github.com/nodecred/nodecred/cmd/nodecred/commands"
	ncconfig "github.com/nodecred/nodecred/config"
	"github.com/nodecred/nodecred/cripull"
	"github.com/nodecred/nodecred/nodeconfig"
)

// Command is `nodecred migrate`.
func Command() *cli.Command {
	return &cli.Command{
		Name:  "migrate",
		Usage: "move CRI's local-pull settings onto the transfer service: registry.configs.*.auth into a 0600 auth file, registry.mirrors and registry.configs.*.tls into hosts.toml files, and print the config.toml edits to make",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "config", Aliases: []string{"c"}, Value: "/etc/containerd/config.toml", Usage: "containerd's config file to read"},
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Value: "/etc/containerd/auth.json", Usage: "auth file (docker config.json format) to write"},
			&cli.StringFlag{Name: "hosts-dir", Usage: "registry hosts directory to write hosts.toml files in (default: CRI's config_path, else " + defaultHostsDir + ")"},
			&cli.BoolFlag{Name: "force", Usage: "replace --out and hosts.toml files that exist"},
		},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			if cmd.Args().Len() != 0 {
				return commands.UsageError{Err: fmt.Errorf("migrate takes no arguments")}
			}
			return migrate(ctx, cmd.Root().Writer, migrateOptions{
				configPath: cmd.String("config"), authPath: cmd.String("out"),
				hostsDir: cmd.String("hosts-dir"), force: cmd.Bool("force"),
			})
		},
	}
}

// defaultHostsDir is where migrate writes hosts.toml files when CRI has no
// config_path.
const defaultHostsDir = "/etc/containerd/certs.d"

type migrateOptions struct {
	configPath string // containerd's config.toml
	authPath   string // the auth file to write
	hostsDir   string // --hosts-dir; empty for CRI's config_path
	force      bool   // replace files that exist
}

// authEntry is one docker config "auths" entry, written as plain strings.
type authEntry struct {
	Auth          string `json:"auth,omitempty"`
	IdentityToken string `json:"identitytoken,omitempty"`
}

func migrate(ctx context.Context, out io.Writer, o migrateOptions) error {
	cri, err := nodeconfig.LoadCRIImages(ctx, o.configPath)
	if err != nil {
		return commands.UsageError{Err: err}
	}
	section := nodeconfig.CRIImagesSection
	if cri.V2 {
		section = cripull.V2Section
	}
	auths, authHosts, err := authFile(cri)
	if err != nil {
		return commands.UsageError{Err: err}
	}
	files, err := hostsFiles(cri)
	if err != nil {
		return commands.UsageError{Err: err}
	}
	stays := unmovable(cri)
	moves := len(authHosts) > 0 || len(files) > 0 || len(cri.Configs) > 0 || len(cri.Mirrors) > 0 || sets(cri.Pull, "max_concurrent_downloads")
	if !moves && len(stays) == 0 {
		fmt.Fprintf(out, "%s sets none of the settings that make CRI pull outside the transfer service: nothing to migrate\n", o.configPath)
		return nil
	}

	hostsDir, setConfigPath, err := migrateHostsDir(cri.Pull.Registry.ConfigPath, o.hostsDir, len(files) > 0)
	if err != nil {
		return commands.UsageError{Err: err}
	}
	// Refuse before writing anything.
	if len(authHosts) > 0 {
		if !filepath.IsAbs(o.authPath) {
			return commands.UsageError{Err: fmt.Errorf("--out %q is not an absolute path", o.authPath)}
		}
		if _, err := os.Stat(o.authPath); err == nil && !o.force {
			return commands.FailedError{Err: fmt.Errorf("%s exists; pass --force to replace it", o.authPath)}
		}
	}
	targets := make([]string, len(files))
	for i, f := range files {
		if targets[i], err = hostsTarget(hostsDir, f, o.force); err != nil {
			return commands.FailedError{Err: err}
		}
	}

	if len(authHosts) > 0 {
		// The auth file's directory may not exist yet on a node
		// (/etc/containerd/nodecred, which the release's snippet reads).
		if err := os.MkdirAll(filepath.Dir(o.authPath), 0o700); err != nil {
			return commands.FailedError{Err: err}
		}
		if err := writeFileAtomic(o.authPath, auths, o.force); err != nil {
			return commands.FailedError{Err: err}
		}
		fmt.Fprintf(out, "wrote %d credential(s) for %s to %s (mode 0600)\n", len(authHosts), strings.Join(authHosts, ", "), o.authPath)
	}
	for i, f := range files {
		if err := os.MkdirAll(filepath.Dir(targets[i]), 0o755); err != nil {
			return commands.FailedError{Err: err}
		}
		if err := writeFileAtomic(targets[i], f.Data, true); err != nil {
			return commands.FailedError{Err: err}
		}
		what := "registry " + f.Host
		if f.Host == "*" {
			what = "every registry without a directory of its own"
		}
		fmt.Fprintf(out, "wrote %s (%s)\n", targets[i], what)
	}

	if moves {
		fmt.Fprintf(out, "\nEdit %s (or the file it imports that holds each table):\n\n", o.configPath)
		if len(authHosts) > 0 {
			writeSourceEdit(out, cri, o.authPath)
		}
		if setConfigPath {
			fmt.Fprintf(out, "[plugins.%q.registry]\n  config_path = %q\n\n", section, hostsDir)
		}
		if sets(cri.Pull, "max_concurrent_downloads") {
			fmt.Fprintf(out, "[plugins.\"io.containerd.transfer.v1.local\"]\n  max_concurrent_downloads = %d\n\n", cri.Pull.MaxConcurrentDownloads)
		}
		why := "make CRI pull outside the transfer service"
		if len(authHosts) > 0 {
			why += " (the auth tables also keep passwords in " + o.configPath + ")"
		}
		fmt.Fprintf(out, "then delete these, which %s:\n\n", why)
		for _, d := range deletions(cri, section) {
			fmt.Fprintf(out, "  %s\n", d)
		}
	}
	if len(stays) > 0 {
		fmt.Fprintf(out, "\nCRI still pulls outside the transfer service, and so without nodecred, while these are set; they have no transfer-service equivalent:\n\n")
		for _, s := range stays {
			fmt.Fprintf(out, "  %s\n", s)
		}
	}
	return nil
}

// writeSourceEdit prints the nodecred source that reads the auth file: the
// whole section when the config has none; when it has one, the source to
// add to it (a second [plugins."...nodecred"] table would not load), or
// that a source of it reads the file already.
func writeSourceEdit(out io.Writer, cri nodeconfig.CRIImages, authPath string) {
	source := fmt.Sprintf("  [[plugins.%q.sources]]\n    type = \"dockerconfig\"\n    path = %q\n\n", ncconfig.Section, authPath)
	if !cri.Nodecred {
		fmt.Fprintf(out, "[plugins.%q]\n%s", ncconfig.Section, source)
		return
	}
	for _, i := range slices.Sorted(maps.Keys(cri.NodecredPaths)) {
		if filepath.Clean(cri.NodecredPaths[i]) == filepath.Clean(authPath) {
			fmt.Fprintf(out, "(nodecred's section reads %s already, in sources[%d]: nothing to add for it)\n\n", authPath, i)
			return
		}
	}
	fmt.Fprintf(out, "add this source to the [plugins.%q] section the file has (sources are asked in order):\n\n%s", ncconfig.Section, source)
}

// authFile returns the auth file for every registry.configs.<host>.auth
// (registry.auths folded in), and the hosts, sorted.
func authFile(cri nodeconfig.CRIImages) ([]byte, []string, error) {
	auths := map[string]authEntry{}
	var hosts []string
	for host, rc := range cri.Configs {
		if rc.Auth == nil {
			continue
		}
		e, err := toAuthEntry(*rc.Auth)
		if err != nil {
			return nil, nil, fmt.Errorf("registry.configs.%q.auth: %w", host, err)
		}
		auths[host] = e
		hosts = append(hosts, host)
	}
	sort.Strings(hosts)
	data, err := json.MarshalIndent(map[string]any{"auths": auths}, "", "  ")
	return append(data, '\n'), hosts, err
}

// migrateHostsDir is the directory to write hosts.toml files in, and
// whether CRI's config_path must be set to it. The transfer service reads
// config_path as one directory (core/transfer/registry WithHostDir), so a
// list, which CRI's local pull mode splits, must become its first element.
func migrateHostsDir(configPath, flag string, writes bool) (string, bool, error) {
	dir := flag
	if dir == "" {
		dir = defaultHostsDir
		if configPath != "" {
			dir = filepath.SplitList(configPath)[0]
		}
	}
	if writes && !filepath.IsAbs(dir) {
		if flag != "" {
			return "", false, fmt.Errorf("--hosts-dir %q is not an absolute path", dir)
		}
		return "", false, fmt.Errorf("hosts directory %q (CRI's registry.config_path) is not an absolute path", dir)
	}
	return dir, writes && configPath != dir, nil
}

// hostsTarget is the hosts.toml path for f: the file containerd reads for
// that host where one exists (replaced only with force), else a new one
// in the directory containerd looks in first.
func hostsTarget(hostsDir string, f hostsFile, force bool) (string, error) {
	dirs := []string{f.Dir}
	if f.Host != "*" && f.Host != f.Dir {
		dirs = append(dirs, f.Host)
	}
	for _, d := range dirs {
		p := filepath.Join(hostsDir, d, "hosts.toml")
		if _, err := os.Stat(p); err == nil {
			if !force {
				return "", fmt.Errorf("%s exists; pass --force to replace it", p)
			}
			return p, nil
		}
	}
	return filepath.Join(hostsDir, f.Dir, "hosts.toml"), nil
}

// deletions lists the tables and keys, in CRI's section, that migrate
// moved and that must go for CRI to pull through the transfer service.
func deletions(cri nodeconfig.CRIImages, section string) []string {
	var out []string
	for _, host := range sortedKeys(cri.Configs) {
		rc := cri.Configs[host]
		switch {
		case rc.Auth == nil && rc.TLS == nil:
			out = append(out, fmt.Sprintf("[plugins.%q.registry.configs.%q]", section, host))
		default:
			if rc.Auth != nil && !slices.ContainsFunc(cri.Auths, func(e string) bool { return authsHost(e) == host }) {
				out = append(out, fmt.Sprintf("[plugins.%q.registry.configs.%q.auth]", section, host))
			}
			if rc.TLS != nil {
				out = append(out, fmt.Sprintf("[plugins.%q.registry.configs.%q.tls]", section, host))
			}
		}
	}
	if len(cri.Auths) > 0 {
		out = append(out, fmt.Sprintf("[plugins.%q.registry.auths] (%s)", section, strings.Join(cri.Auths, ", ")))
	}
	for _, host := range sortedKeys(cri.Mirrors) {
		out = append(out, fmt.Sprintf("[plugins.%q.registry.mirrors.%q]", section, host))
	}
	if sets(cri.Pull, "max_concurrent_downloads") {
		out = append(out, fmt.Sprintf("max_concurrent_downloads = %d in [plugins.%q]", cri.Pull.MaxConcurrentDownloads, section))
	}
	return out
}

// authsHost is the registry.configs key a registry.auths key feeds, as
// containerd's ValidateImageConfig maps it.
func authsHost(endpoint string) string {
	if u, err := url.Parse(endpoint); err == nil && u.Scheme != "" {
		return u.Host
	}
	return endpoint
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// toAuthEntry converts a CRI auth entry, checking an "auth" value decodes
// to user:password. Errors never quote the values.
func toAuthEntry(a nodeconfig.DeprecatedAuth) (authEntry, error) {
	switch {
	case a.IdentityToken != "":
		return authEntry{IdentityToken: a.IdentityToken.Reveal()}, nil
	case a.Auth != "":
		raw, err := base64.StdEncoding.DecodeString(a.Auth.Reveal())
		if err != nil || !strings.Contains(string(raw), ":") {
			return authEntry{}, errors.New("auth is not base64 of user:password")
		}
		return authEntry{Auth: a.Auth.Reveal()}, nil
	case a.Username != "" || a.Password != "":
		return authEntry{Auth: base64.StdEncoding.EncodeToString([]byte(a.Username + ":" + a.Password.Reveal()))}, nil
	default:
		return authEntry{}, errors.New("no username, password, auth or identitytoken")
	}
}

// writeFileAtomic writes path with mode 0600 through a temporary file and
// a rename, so that a reader (nodecred's hot reload) never sees half a file.
func writeFileAtomic(path string, data []byte, force bool) error {
	if _, err := os.Stat(path); err == nil && !force {
		return fmt.Errorf("%s exists; pass --force to replace it", path)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
