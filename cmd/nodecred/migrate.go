package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/urfave/cli/v3"

	ncconfig "github.com/nodecred/nodecred/config"
)

func migrateCommand() *cli.Command {
	return &cli.Command{
		Name:  "migrate",
		Usage: "move CRI's deprecated registry.configs.*.auth entries into a 0600 auth file and print the nodecred section to use instead",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "config", Aliases: []string{"c"}, Value: "/etc/containerd/config.toml", Usage: "containerd's config file to read"},
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Value: "/etc/containerd/auth.json", Usage: "auth file (docker config.json format) to write"},
			&cli.BoolFlag{Name: "force", Usage: "replace --out if it exists"},
		},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			if cmd.Args().Len() != 0 {
				return usageError{fmt.Errorf("migrate takes no arguments")}
			}
			return migrate(ctx, cmd.Root().Writer, cmd.String("config"), cmd.String("out"), cmd.Bool("force"))
		},
	}
}

// authEntry is one docker config "auths" entry, written as plain strings.
type authEntry struct {
	Auth          string `json:"auth,omitempty"`
	IdentityToken string `json:"identitytoken,omitempty"`
}

func migrate(ctx context.Context, out io.Writer, configPath, authPath string, force bool) error {
	node, err := ncconfig.LoadContainerd(ctx, configPath)
	if err != nil {
		return usageError{err}
	}
	if len(node.DeprecatedAuths) == 0 {
		fmt.Fprintf(out, "%s has no registry.configs.*.auth entries: nothing to migrate\n", configPath)
		return nil
	}
	if !filepath.IsAbs(authPath) {
		return usageError{fmt.Errorf("--out %q is not an absolute path", authPath)}
	}
	auths := map[string]authEntry{}
	hosts := make([]string, 0, len(node.DeprecatedAuths))
	for host, a := range node.DeprecatedAuths {
		e, err := toAuthEntry(a)
		if err != nil {
			return usageError{fmt.Errorf("registry.configs.%q.auth: %w", host, err)}
		}
		auths[host] = e
		hosts = append(hosts, host)
	}
	sort.Strings(hosts)
	data, err := json.MarshalIndent(map[string]any{"auths": auths}, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFileAtomic(authPath, append(data, '\n'), force); err != nil {
		return failedError{err}
	}
	fmt.Fprintf(out, "wrote %d credential(s) for %s to %s (mode 0600)\n\n", len(hosts), strings.Join(hosts, ", "), authPath)
	fmt.Fprintf(out, "Add to %s:\n\n", configPath)
	fmt.Fprintf(out, "[plugins.%q]\n  [[plugins.%q.sources]]\n    type = \"dockerconfig\"\n    path = %q\n\n", ncconfig.Section, ncconfig.Section, authPath)
	fmt.Fprintf(out, "then delete these tables, which keep passwords in %s and make CRI pull outside the transfer service:\n\n", configPath)
	for _, h := range hosts {
		fmt.Fprintf(out, "  [plugins.%q.registry.configs.%q.auth]\n", node.DeprecatedSection, h)
	}
	return nil
}

// toAuthEntry converts a CRI auth entry, checking an "auth" value decodes
// to user:password. Errors never quote the values.
func toAuthEntry(a ncconfig.DeprecatedAuth) (authEntry, error) {
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
