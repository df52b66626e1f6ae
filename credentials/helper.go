package credentials

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/containerd/log"
	"github.com/docker/docker-credential-helpers/client"
	helpercreds "github.com/docker/docker-credential-helpers/credentials"
	"golang.org/x/sync/singleflight"

	"github.com/nodecred/nodecred/metrics"
)

const (
	// helperAnswerTTL is how long a helper's answer, found or not found, is
	// reused. Helpers for short-lived tokens (ecr-login, gcr) cache and
	// refresh on their own; this only spares a node starting many pods
	// from running the helper for each one.
	helperAnswerTTL = time.Minute
	// failureTTL is how long a failing helper or provider is left alone.
	failureTTL = 5 * time.Second
	// dockerHubServerURL is the server URL docker passes helpers for Docker
	// Hub, whichever of its names was contacted.
	dockerHubServerURL = "https://index.docker.io/v1/"
	// tokenUsername marks a helper answer whose secret is an identity token.
	tokenUsername = "<token>"
)

// helperClient runs one docker credential helper program with the `get`
// action of the credential helper protocol
// (https://github.com/docker/docker-credential-helpers), through that
// project's client package, adding a timeout, a clean environment, a cache
// and one run per server URL at a time.
type helperClient struct {
	program string // absolute path
	timeout time.Duration
	run     runner
	cache   *expiring[helperAnswer]
	group   singleflight.Group
}

// helperAnswer is a cached answer; a failure was logged once when it
// happened and is a miss until it expires.
type helperAnswer struct {
	cred   Credential
	failed bool
}

func newHelperClient(program string, timeout time.Duration, run runner, clock func() time.Time) *helperClient {
	if run == nil {
		run = execRunner{}
	}
	return &helperClient{program: program, timeout: timeout, run: run, cache: newExpiring[helperAnswer](clock)}
}

// get returns the helper's credential for the server URL of host; a failing
// helper is a miss, logged once per run.
func (h *helperClient) get(ctx context.Context, host string) Credential {
	serverURL := host
	if canonicalHost(host) == "docker.io" {
		serverURL = dockerHubServerURL
	}
	if a, ok := h.cache.Get(serverURL); ok {
		metrics.Cache("helper", h.program, true)
		return a.cred
	}
	metrics.Cache("helper", h.program, false)
	v, _, _ := h.group.Do(serverURL, func() (any, error) {
		// Detached from the first caller: others share this run, which its
		// own timeout bounds.
		a := h.exec(context.WithoutCancel(ctx), serverURL)
		ttl := helperAnswerTTL
		if a.failed {
			ttl = failureTTL
		}
		h.cache.Set(serverURL, a, ttl)
		return a, nil
	})
	return v.(helperAnswer).cred
}

func (h *helperClient) exec(ctx context.Context, serverURL string) helperAnswer {
	p := &helperProgram{ctx: ctx, h: h}
	start := time.Now()
	resp, err := client.Get(func(args ...string) client.Program {
		p.args = args
		return p
	}, serverURL)
	metrics.Exec("helper", h.program, err == nil || helpercreds.IsErrCredentialsNotFound(err), time.Since(start))
	switch {
	case err == nil:
		c := Credential{Username: resp.Username, Password: Secret(resp.Secret)}
		if resp.Username == tokenUsername {
			c = Credential{IdentityToken: Secret(resp.Secret)}
		}
		return helperAnswer{cred: c}
	case helpercreds.IsErrCredentialsNotFound(err):
		return helperAnswer{}
	}
	// client.Get's own error quotes the helper's output, which may hold a
	// secret: log the exit status and a redacted stderr instead.
	reason := "malformed response"
	if p.err != nil {
		reason = p.err.Error()
	}
	log.G(ctx).WithFields(log.Fields{
		"helper": h.program,
		"error":  reason,
		"stderr": redactOutput(p.stderr),
	}).Warn("nodecred: credential helper failed; treating it as a miss")
	return helperAnswer{failed: true}
}

// helperProgram is a client.Program that runs through our runner.
type helperProgram struct {
	ctx    context.Context
	h      *helperClient
	args   []string
	stdin  []byte
	stderr []byte
	err    error
}

func (p *helperProgram) Input(in io.Reader) { p.stdin, _ = io.ReadAll(in) }

func (p *helperProgram) Output() ([]byte, error) {
	var out []byte
	out, p.stderr, p.err = p.h.run.Run(p.ctx, command{
		Path: p.h.program, Args: p.args, Env: execEnv(), Stdin: p.stdin, Timeout: p.h.timeout,
	})
	return out, p.err
}

// HelperSource asks a docker credential helper for the hosts it matches.
type HelperSource struct {
	hosts  Patterns // empty: every host
	helper *helperClient
}

var _ Source = (*HelperSource)(nil)

// NewHelperSource runs program (an absolute path) for hosts matching hosts,
// or for every host when hosts is empty, each run bounded by timeout.
func NewHelperSource(program string, hosts Patterns, timeout time.Duration) *HelperSource {
	return &HelperSource{hosts: hosts, helper: newHelperClient(program, timeout, nil, nil)}
}

// Get asks the helper for the contacted host.
func (s *HelperSource) Get(ctx context.Context, req Request) (Credential, error) {
	if s.hosts.Len() > 0 && !s.hosts.Match(req.Host, req.RepoPath()) {
		return Credential{}, nil
	}
	return s.helper.get(ctx, req.Host), nil
}

// helperSet resolves helper names from a docker config to programs on PATH
// and keeps one helperClient (and so one cache) per program.
type helperSet struct {
	timeout time.Duration
	mu      sync.Mutex
	clients map[string]*helperClient
	missing *expiring[bool] // names not found on PATH, not looked up again for a while
}

func newHelperSet(timeout time.Duration) *helperSet {
	return &helperSet{timeout: timeout, clients: map[string]*helperClient{}, missing: newExpiring[bool](nil)}
}

// get returns the client for helper name, or nil (logged) when
// docker-credential-NAME is not on PATH.
func (s *helperSet) get(ctx context.Context, name string) *helperClient {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.clients[name]; ok {
		return c
	}
	if _, ok := s.missing.Get(name); ok {
		return nil
	}
	program, err := ResolveHelper(name)
	if err != nil {
		log.G(ctx).WithError(err).Warn("nodecred: credential helper named in docker config not found")
		s.missing.Set(name, true, failureTTL)
		return nil
	}
	c := newHelperClient(program, s.timeout, nil, nil)
	s.clients[name] = c
	return c
}

// ResolveHelper returns the program for a helper: an absolute path as is,
// or docker-credential-NAME looked up on PATH.
func ResolveHelper(helper string) (string, error) {
	if filepath.IsAbs(helper) {
		info, err := os.Stat(helper)
		if err != nil {
			return "", fmt.Errorf("helper %q: %w", helper, err)
		}
		if info.IsDir() || info.Mode().Perm()&0o111 == 0 {
			return "", fmt.Errorf("helper %q is not an executable file", helper)
		}
		return helper, nil
	}
	if err := checkHelperName(helper); err != nil {
		return "", err
	}
	program, err := exec.LookPath("docker-credential-" + helper)
	if err != nil {
		return "", fmt.Errorf("helper %q: docker-credential-%s not found in PATH", helper, helper)
	}
	return program, nil
}

// checkHelperName accepts the NAME of docker-credential-NAME.
func checkHelperName(name string) error {
	if name == "" || strings.ContainsAny(name, `/\ `) || name == "." || name == ".." {
		return fmt.Errorf("%q is not a credential helper name", name)
	}
	return nil
}
