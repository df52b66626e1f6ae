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

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/containerd/log"
	dhcredentials "github.com/docker/docker-credential-helpers/credentials"
	"github.com/urfave/cli/v3"

	ncconfig "github.com/nodecred/nodecred/config"
	"github.com/nodecred/nodecred/credentials"
	"github.com/nodecred/nodecred/credentials/dockerconfig"
	"github.com/nodecred/nodecred/credentials/kubelet"
	"github.com/nodecred/nodecred/credentials/sourceconfig"
	"github.com/nodecred/nodecred/internal/hostmatch"
	"github.com/nodecred/nodecred/internal/logs"
	"github.com/nodecred/nodecred/version"
)

// The docker credential helper protocol
// (https://github.com/docker/docker-credential-helpers#development): bin/nodecred
// speaks it when run as helperProgram (a symlink `make build` makes) and as
// `nodecred credential-helper ACTION`.
const (
	helperProgram = "docker-credential-nodecred"
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

// helperExit carries the exit code of a helper action whose reason is
// already on stdout, as the protocol has it.
type helperExit struct{ code int }

func (e helperExit) Error() string { return fmt.Sprintf("credential helper exit status %d", e.code) }

// helperOptions are where the helper reads its configuration.
type helperOptions struct {
	configPath string
	logLevel   string
}

func credentialHelperCommand() *cli.Command {
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
				return usageError{fmt.Errorf("credential-helper takes exactly one action (get, list, store, erase, version), got %d arguments", cmd.Args().Len())}
			}
			opts := helperOptions{configPath: cmd.String("config"), logLevel: cmd.String("log-level")}
			if code := serveHelper(ctx, opts, cmd.Args().First(), os.Stdin, os.Stdout, os.Stderr); code != 0 {
				return helperExit{code}
			}
			return nil
		},
	}
}

// credentialHelperMain runs bin/nodecred as docker-credential-nodecred, as
// docker-credential-helpers' Serve does: one action argument, usage and
// failures on stdout, exit 1 on failure. Its configuration comes from the
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

// environment.
func credentialHelperMain(args []string) int {
	if len(args) != 1 {
		fmt.Fprintf(os.Stdout, "Usage: %s <get|list|store|erase|version>\n", helperProgram)
		return 1
	}
	switch args[0] {
	case "--version", "-v":
		args[0] = actionVersion
	case "--help", "-h":
		fmt.Fprintf(os.Stdout, "Usage: %s <get|list|store|erase|version>\n", helperProgram)
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
		return fail(fmt.Errorf("%s: log level %q: want trace, debug, info, warn or error", helperProgram, opts.logLevel))
	}
	dhcredentials.Name = helperProgram
	dhcredentials.Package = version.Module
	dhcredentials.Version = version.Get()

	switch action {
	case actionStore, actionErase:
		// Refused before the request is read: a store request carries a
		// secret, which no decoding error may quote.
		_, _ = io.Copy(io.Discard, io.LimitReader(stdin, maxListedFile))
		return fail(fmt.Errorf("%s %s: %w", helperProgram, action, errReadOnly))
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
		return fail(fmt.Errorf("%s %s: run by one of its own sources (a helper, credsStore or credHelpers entry naming nodecred in %s); refusing to run itself again", helperProgram, action, opts.configPath))
	}
	if err := os.Setenv(envRunning, "1"); err != nil {
		return fail(err)
	}
	defer os.Unsetenv(envRunning)

	h, err := newNodeHelper(ctx, opts.configPath)
	if err != nil {
		return fail(fmt.Errorf("%s: %w", helperProgram, err))
	}
	if err := dhcredentials.HandleCommand(h, action, stdin, stdout); err != nil {
		return fail(err)
	}
	return 0
}

// nodeHelper answers the protocol from the node's source chain, as the
// daemon would for the host the server URL names. It has no namespace:
// namespace scoping and the push setting do not apply.
type nodeHelper struct {
	ctx     context.Context
	chain   credentials.Source
	sources []sourceconfig.Config
}

var _ dhcredentials.Helper = (*nodeHelper)(nil)

// newNodeHelper reads containerd's config and builds its nodecred sources,
// as the plugin does at startup.
func newNodeHelper(ctx context.Context, configPath string) (*nodeHelper, error) {
	node, err := ncconfig.LoadContainerd(ctx, configPath)
	if err != nil {
		return nil, err
	}
	sources := node.Credentials.Sources
	if len(sources) == 0 {
		logs.G(ctx).WithField("config", configPath).Warn("the config has no nodecred sources; no host has credentials")
	}
	chain, err := sourceconfig.Build(sources)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", configPath, err)
	}
	return &nodeHelper{ctx: ctx, chain: chain, sources: sources}, nil
}

// Add refuses: the operator manages the sources.
func (h *nodeHelper) Add(*dhcredentials.Credentials) error { return errReadOnly }

// Delete refuses: the operator manages the sources.
func (h *nodeHelper) Delete(string) error { return errReadOnly }

// Get answers for the host serverURL names: an identity token as user
// "<token>", a miss as the protocol's "credentials not found" error.
func (h *nodeHelper) Get(serverURL string) (string, string, error) {
	host, err := contactedHost(serverURL)
	if err != nil {
		return "", "", err
	}
	c, err := h.lookup(host)
	if err != nil {
		return "", "", err
	}
	if c.IsZero() {
		return "", "", dhcredentials.NewErrCredentialsNotFound()
	}
	if c.IdentityToken != "" {
		return tokenUser, c.IdentityToken.Reveal(), nil
	}
	return c.Username, c.Password.Reveal(), nil
}

// lookup asks the chain about host, as a pull would that contacts it. The
// protocol names no repository, so the reference is the host alone: entries
// scoped to a repository path ("quay.io/team") do not answer.
func (h *nodeHelper) lookup(host string) (credentials.Credential, error) {
	c, err := h.chain.Get(h.ctx, credentials.Request{Host: host, Ref: host + "/"})
	if err != nil {
		return credentials.Credential{}, fmt.Errorf("lookup for %s: %w", host, err)
	}
	fields := log.Fields{"host": host, "kind": c.Kind()}
	if c.Source != "" {
		fields["source"] = c.Source
	}
	logs.With(h.ctx, fields).Debug("credential helper lookup")
	return c, nil
}

// List returns the hosts the helper knows, with the user get would give:
// every host named literally in the sources (a static or helper source's
// hosts, a kubelet provider's matchImages, a docker config's auths and
// credHelpers keys) that the chain answers for now. A pattern with a glob
// or a repository path, a helper with no hosts and a credsStore name no
// host, so the hosts they serve are not listed; get still answers them.
// Listing asks the chain as get does, so it runs the helpers and providers
// that serve the listed hosts.
func (h *nodeHelper) List() (map[string]string, error) {
	out := map[string]string{}
	for _, host := range listCandidates(h.ctx, h.sources) {
		c, err := h.lookup(host)
		if err != nil {
			return nil, err
		}
		if c.IsZero() {
			continue
		}
		user := c.Username
		if c.IdentityToken != "" {
			user = tokenUser
		}
		out[serverKey(host)] = user
	}
	return out, nil
}

// contactedHost turns a protocol server URL ("https://index.docker.io/v1/",
// "registry.example.com", "https://registry.example.com:5000/v2/") into
// the host containerd would contact and ask the node source about: the
// host as docker's ConvertToHostname takes it (scheme and path dropped),
// lower-cased, with Docker Hub's names as registry-1.docker.io. A server
// URL that names no host, or a glob, is refused.
func contactedHost(serverURL string) (string, error) {
	host := serverURL
	if strings.Contains(host, "://") {
		u, err := url.Parse(host)
		if err != nil || u.Host == "" {
			return "", fmt.Errorf("server URL %q names no registry host", serverURL)
		}
		host = u.Host
	}
	host, _, _ = strings.Cut(host, "/")
	host = strings.ToLower(host)
	if !validHost(host) {
		return "", fmt.Errorf("server URL %q names no registry host", serverURL)
	}
	switch host {
	case "docker.io", "index.docker.io", dockerHubHost:
		return dockerHubHost, nil
	}
	return host, nil
}

// validHost reports whether host is "name[:port]" or "[ipv6][:port]", with
// a name of letters, digits, '.', '-' and '_'.
func validHost(host string) bool {
	name, port := host, ""
	if strings.HasPrefix(host, "[") {
		end := strings.IndexByte(host, ']')
		if end < 0 || net.ParseIP(host[1:end]) == nil {
			return false
		}
		rest := host[end+1:]
		if rest != "" && (rest[0] != ':' || len(rest) == 1) {
			return false
		}
		if rest != "" {
			port = rest[1:]
		}
		name = "ip"
	} else if i := strings.LastIndexByte(host, ':'); i >= 0 {
		name, port = host[:i], host[i+1:]
		if port == "" {
			return false
		}
	}
	for _, r := range port {
		if r < '0' || r > '9' {
			return false
		}
	}
	if name == "" || strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".") || strings.Contains(name, "..") {
		return false
	}
	for _, r := range name {
		if !('a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '.' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// serverKey is the server URL list gives for a contacted host: docker's
// key for Docker Hub, the host itself for any other.
func serverKey(host string) string {
	if host == dockerHubHost {
		return dockerHubKey
	}
	return host
}

// listCandidates returns, once each, the contacted hosts that the sources
// name literally, in the order configured. Files it cannot read or parse
// are logged and skipped: the source itself reports them on lookup.
func listCandidates(ctx context.Context, sources []sourceconfig.Config) []string {
	var hosts []string
	seen := map[string]bool{}
	add := func(host string, ok bool) {
		if ok && !seen[host] {
			seen[host] = true
			hosts = append(hosts, host)
		}
	}
	for i, s := range sources {
		var err error
		switch s.Type {
		case sourceconfig.TypeStatic, sourceconfig.TypeHelper:
			for _, p := range s.Hosts {
				add(patternHost(p))
			}
		case sourceconfig.TypeKubelet:
			err = kubeletHosts(s.Config, func(p string) { add(patternHost(p)) })
		case sourceconfig.TypeDockerConfig:
			err = dockerConfigHosts(s.Path, func(k string) { add(authKeyHost(k)) })
		}
		if err != nil {
			logs.G(ctx).WithField("source", fmt.Sprintf("sources[%d]", i)).WithError(err).Warn("cannot list the hosts of a source; they are not listed")
		}
	}
	return hosts
}

// patternHost returns the contacted host a host pattern names literally:
// none for a glob or a repository path. Docker's key for Docker Hub names
// Docker Hub.
func patternHost(pattern string) (string, bool) {
	if _, err := hostmatch.ParsePattern(pattern); err != nil {
		return "", false
	}
	rest := pattern
	if i := strings.Index(rest, "://"); i >= 0 {
		rest = rest[i+3:]
	}
	host, path, _ := strings.Cut(rest, "/")
	h, err := contactedHost(host) // refuses globs: they are not host names
	if err != nil {
		return "", false
	}
	if path != "" && !(h == dockerHubHost && strings.Trim(path, "/") == "v1") {
		return "", false
	}
	return h, true
}

// authKeyHost returns the contacted host of a docker config key: a URL
// key's host, or a bare key without a path.
func authKeyHost(key string) (string, bool) {
	if !strings.Contains(key, "://") && strings.Contains(strings.TrimSuffix(key, "/"), "/") {
		return "", false // scoped to a repository path
	}
	h, err := contactedHost(key)
	return h, err == nil
}

// dockerConfigHosts calls add with each auths and credHelpers key of the
// docker config at path. Only the keys are decoded; errors never quote
// the file.
func dockerConfigHosts(path string, add func(string)) error {
	data, err := readBounded(path)
	if err != nil {
		return err
	}
	if _, err := dockerconfig.Parse(data); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	var keys struct {
		Auths       map[string]json.RawMessage `json:"auths"`
		CredHelpers map[string]json.RawMessage `json:"credHelpers"`
	}
	if err := json.Unmarshal(data, &keys); err != nil {
		return fmt.Errorf("%s: not a docker config", path)
	}
	for k := range keys.Auths {
		add(k)
	}
	for k := range keys.CredHelpers {
		add(k)
	}
	return nil
}

// kubeletHosts calls add with each provider's matchImages entries.
func kubeletHosts(path string, add func(string)) error {
	cfg, err := kubelet.ReadConfig(path) // a file or a directory, as the kubelet reads it
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	for _, p := range cfg.Providers {
		if ta := p.TokenAttributes; ta != nil && ta.RequireServiceAccount != nil && *ta.RequireServiceAccount {
			continue // never runs for the node: no credential from it
		}
		for _, m := range p.MatchImages {
			add(m)
		}
	}
	return nil
}

func readBounded(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxListedFile+1))
	if err != nil {
		return nil, fmt.Errorf("failed to read %s: %w", path, err)
	}
	if len(data) > maxListedFile {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, maxListedFile)
	}
	return data, nil
}
