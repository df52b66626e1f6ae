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

// Package credhelper is nodecred's docker credential helper: bin/nodecred
// run as docker-credential-nodecred, or as `nodecred credential-helper`,
// answers get and list from the node's sources in containerd's config and
// refuses store and erase.
package credhelper

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/containerd/log"
	dhcredentials "github.com/docker/docker-credential-helpers/credentials"
	"github.com/urfave/cli/v3"

	"github.com/nodecred/nodecred/cmd/nodecred/commands"
	"github.com/nodecred/nodecred/version"
)

// The docker credential helper protocol
// (https://github.com/docker/docker-credential-helpers#development): bin/nodecred
// speaks it when run as Program (a symlink `make build` makes) and as
// `nodecred credential-helper ACTION`.
const (
	// Program is the name bin/nodecred answers to as a docker credential
	// helper.
	Program = "docker-credential-nodecred"
	// envConfig names containerd's config file, for the helper form, which
	// takes no flags.
	envConfig = "NODECRED_CONFIG"
	// envLogLevel sets the log level (default warn); logs go to stderr.
	envLogLevel = "NODECRED_LOG_LEVEL"
	// envRunning is set while the helper runs, so that a source that runs
	// the helper again (a credsStore, credHelpers or helper entry naming
	// nodecred) is refused instead of starting processes without end.
	envRunning        = "NODECRED_CREDENTIAL_HELPER_RUNNING"
	defaultConfigPath = "/etc/containerd/config.toml"
	// tokenUser is the user name that marks an identity token in the
	// protocol, as docker's native store reads it.
	tokenUser = "<token>"
	// dockerHubKey is the server URL docker uses for Docker Hub.
	dockerHubKey = "https://index.docker.io/v1/"
	// dockerHubHost is the host containerd contacts for Docker Hub.
	dockerHubHost = "registry-1.docker.io"
	// maxListedFile bounds a file read to find the hosts to list.
	maxListedFile = 1 << 20
)

// errReadOnly refuses store and erase.
var errReadOnly = errors.New("nodecred's credentials come from the sources in containerd's config (the nodecred section), which the node operator manages: store and erase are refused, and docker login and logout cannot change them")

// ExitError carries the exit code of a helper action whose reason is
// already on stdout, as the protocol has it.
type ExitError struct{ Code int }

// Error names the exit code.
func (e ExitError) Error() string { return fmt.Sprintf("credential helper exit status %d", e.Code) }

// helperOptions are where the helper reads its configuration.
type helperOptions struct {
	configPath string
	logLevel   string
}

// Command is `nodecred credential-helper ACTION`.
func Command() *cli.Command {
	return &cli.Command{
		Name:      "credential-helper",
		Usage:     "answer as a docker credential helper from the node's sources (get, list)",
		ArgsUsage: "get|list|store|erase|version",
		Description: `Speaks the docker credential helper protocol, as bin/docker-credential-nodecred does:
the server URL on stdin for get, the answer or the reason on stdout, exit 1 on failure.
store and erase are refused. No secret is printed except get's answer.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "config", Aliases: []string{"c"}, Value: defaultConfigPath, Sources: cli.EnvVars(envConfig), Usage: "containerd's config file: the nodecred section"},
			&cli.StringFlag{Name: "log-level", Value: "warn", Sources: cli.EnvVars(envLogLevel), Usage: "log level of the messages on stderr: trace, debug, info, warn, error"},
		},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			if cmd.Args().Len() != 1 {
				return commands.UsageError{Err: fmt.Errorf("credential-helper takes exactly one action (get, list, store, erase, version), got %d arguments", cmd.Args().Len())}
			}
			opts := helperOptions{configPath: cmd.String("config"), logLevel: cmd.String("log-level")}
			if code := serveHelper(ctx, opts, cmd.Args().First(), os.Stdin, os.Stdout, os.Stderr); code != 0 {
				return ExitError{code}
			}
			return nil
		},
	}
}

// The protocol's actions. Newer docker-credential-helpers name them
// (credentials.ActionGet, ...); v0.7, which containerd 2.1 to 2.3 pull in,
// does not, so they are spelled here.
const (
	actionGet     = "get"
	actionList    = "list"
	actionStore   = "store"
	actionErase   = "erase"
	actionVersion = "version"
)

// Main runs bin/nodecred as docker-credential-nodecred, as
// docker-credential-helpers' Serve does: one action argument, usage and
// failures on stdout, exit 1 on failure. Its configuration comes from the
// environment. It returns the exit code.
func Main(args []string) int {
	if len(args) != 1 {
		fmt.Fprintf(os.Stdout, "Usage: %s <get|list|store|erase|version>\n", Program)
		return 1
	}
	switch args[0] {
	case "--version", "-v":
		args[0] = actionVersion
	case "--help", "-h":
		fmt.Fprintf(os.Stdout, "Usage: %s <get|list|store|erase|version>\n", Program)
		return 0
	}
	opts := helperOptions{configPath: os.Getenv(envConfig), logLevel: os.Getenv(envLogLevel)}
	if opts.configPath == "" {
		opts.configPath = defaultConfigPath
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serveHelper(ctx, opts, args[0], os.Stdin, os.Stdout, os.Stderr)
}

// serveHelper runs one protocol action with docker-credential-helpers' own
// server side and returns the exit code: 0, or 1 with the reason on stdout.
// Logs go to stderr. Nothing but get's answer carries a secret.
func serveHelper(ctx context.Context, opts helperOptions, action string, stdin io.Reader, stdout, stderr io.Writer) int {
	fail := func(err error) int {
		fmt.Fprintln(stdout, err)
		return 1
	}
	log.L.Logger.SetOutput(stderr)
	if opts.logLevel == "" {
		opts.logLevel = "warn"
	}
	if err := log.SetLevel(opts.logLevel); err != nil {
		return fail(fmt.Errorf("%s: log level %q: want trace, debug, info, warn or error", Program, opts.logLevel))
	}
	dhcredentials.Name = Program
	dhcredentials.Package = version.Module
	dhcredentials.Version = version.Get()

	switch action {
	case actionStore, actionErase:
		// Refused before the request is read: a store request carries a
		// secret, which no decoding error may quote.
		_, _ = io.Copy(io.Discard, io.LimitReader(stdin, maxListedFile))
		return fail(fmt.Errorf("%s %s: %w", Program, action, errReadOnly))
	case actionGet, actionList:
	case actionVersion:
		if err := dhcredentials.HandleCommand(nil, action, stdin, stdout); err != nil {
			return fail(err)
		}
		return 0
	default:
		// Said here rather than by the helpers module, whose wording
		// differs between the versions containerd 2.1 to 2.4 pull in.
		return fail(fmt.Errorf("unknown action: %s", action))
	}

	if os.Getenv(envRunning) != "" {
		return fail(fmt.Errorf("%s %s: run by one of its own sources (a helper, credsStore or credHelpers entry naming nodecred in %s); refusing to run itself again", Program, action, opts.configPath))
	}
	if err := os.Setenv(envRunning, "1"); err != nil {
		return fail(err)
	}
	defer os.Unsetenv(envRunning)

	h, err := newNodeHelper(ctx, opts.configPath)
	if err != nil {
		return fail(fmt.Errorf("%s: %w", Program, err))
	}
	if err := dhcredentials.HandleCommand(h, action, stdin, stdout); err != nil {
		return fail(err)
	}
	return 0
}
