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

// Package helper runs docker credential helpers
// (https://github.com/docker/docker-credential-helpers) as the docker CLI
// runs them, with a timeout, a cache of their answers and renewal ahead of
// expiry: a source for the hosts a config names, and the client a docker
// config's credHelpers and credsStore run through.
package helper

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

	"github.com/nodecred/nodecred/credentials"
	"github.com/nodecred/nodecred/internal/answercache"
	"github.com/nodecred/nodecred/internal/execprog"
	"github.com/nodecred/nodecred/internal/hostmatch"
	"github.com/nodecred/nodecred/internal/logs"
	"github.com/nodecred/nodecred/internal/redact"
	"github.com/nodecred/nodecred/metrics"
)

const (
	// helperAnswerTTL is how long a helper's credential is reused. Helpers
	// for short-lived tokens (ecr-login, gcr) cache and refresh on their
	// own; this only spares a node starting many pods from running the
	// helper for each one.
	helperAnswerTTL = time.Minute
	// DockerHubServerURL is the server URL docker passes helpers for Docker
	// Hub, whichever of its names was contacted.
	DockerHubServerURL = "https://index.docker.io/v1/"
	// tokenUsername marks a helper answer whose secret is an identity token.
	tokenUsername = "<token>"
)

// Client runs one docker credential helper program with the `get`
// action of the credential helper protocol
// (https://github.com/docker/docker-credential-helpers), through that
// project's client package, adding a timeout, a cache and one run per
// server URL at a time. It runs the helper as the docker CLI does: with the
// caller's (containerd's) whole environment, here overlaid by env.
type Client struct {
	program string // absolute path
	env     []string
	timeout time.Duration
	cache   *answercache.Cache[helperAnswer]
	misses  changeLog // the last reason a helper gave for a miss
}

// helperAnswer is a cached answer: a credential, a miss (zero credential),
// or the failure of the run.
type helperAnswer struct {
	cred credentials.Credential
	err  error
}

func newClient(program string, env []string, timeout time.Duration, clock func() time.Time) *Client {
	c := &Client{program: program, env: env, timeout: timeout,
		cache: answercache.New[helperAnswer]("helper", program, clock, true)}
	c.cache.SetRejectBackoff(answercache.FailureTTL(timeout))
	return c
}

// NewClient returns a client for program (an absolute path), each run
// bounded by timeout, with containerd's environment overlaid by env
// ("NAME=value").
func NewClient(program string, env []string, timeout time.Duration) *Client {
	return newClient(program, env, timeout, nil)
}

// SetRenew turns renewal of the client's answers ahead of expiry on or off.
func (h *Client) SetRenew(on bool) { h.cache.SetRenew(on) }

// Close stops the client's renewals; it runs the helper no more.
func (h *Client) Close() { h.cache.Close() }

// Get returns the helper's credential for the server URL of host. A miss is
// a zero credential; a helper that failed is an error naming it, the same
// one for every lookup until the failure expires.
func (h *Client) Get(ctx context.Context, host string) (credentials.Credential, error) {
	serverURL := host
	if hostmatch.CanonicalHost(host) == "docker.io" {
		serverURL = DockerHubServerURL
	}
	if a, ok := h.cache.Lookup(serverURL); ok {
		metrics.Cache("helper", h.program, true)
		return h.rejectable(a.cred, serverURL), a.err
	}
	metrics.Cache("helper", h.program, false)
	detached := context.WithoutCancel(ctx)
	a, err := h.cache.Flight(ctx, serverURL, func() helperAnswer {
		if h.cache.Closed() {
			return helperAnswer{} // removed from the config since the lookup began: no answer
		}
		a, ttl := h.exec(detached, serverURL)
		h.store(detached, serverURL, a, ttl, true)
		return a
	})
	if err != nil {
		return credentials.Credential{}, err
	}
	return h.rejectable(a.cred, serverURL), a.err
}

// rejectable lets the one who uses cred drop the cached answer it came
// from when the registry refuses it, at most once per failure lifetime.
func (h *Client) rejectable(cred credentials.Credential, serverURL string) credentials.Credential {
	if !cred.IsZero() {
		cred = cred.WithReject(h.cache, serverURL)
	}
	return cred
}

// store caches an answer; a credential is renewed ahead of expiry while it
// is in use, and replaced only by another credential.
func (h *Client) store(ctx context.Context, serverURL string, a helperAnswer, ttl time.Duration, used bool) {
	var renew func() bool
	if !a.cred.IsZero() {
		renew = func() bool {
			b, ttl := h.exec(ctx, serverURL)
			if b.cred.IsZero() {
				return false
			}
			h.store(ctx, serverURL, b, ttl, false)
			return true
		}
	}
	h.cache.Store(serverURL, a, ttl, renew, used)
}

// exec runs the helper once and returns its answer and how long to keep it.
func (h *Client) exec(ctx context.Context, serverURL string) (helperAnswer, time.Duration) {
	p := &helperProgram{ctx: ctx, h: h}
	start := time.Now()
	resp, err := client.Get(func(args ...string) client.Program {
		p.args = args
		return p
	}, serverURL)
	notFound := helpercreds.IsErrCredentialsNotFound(err)
	metrics.Exec("helper", h.program, err == nil || notFound, time.Since(start))
	switch {
	case err == nil:
		c := credentials.Credential{Username: resp.Username, Password: credentials.Secret(resp.Secret)}
		if resp.Username == tokenUsername {
			c = credentials.Credential{IdentityToken: credentials.Secret(resp.Secret)}
		}
		return helperAnswer{cred: c}, helperAnswerTTL
	case notFound:
		// The program's own word, and still a miss. ecr-login and pass say
		// it for every failure too, so what they add on stderr is logged
		// once per change, and the miss kept no longer than a failure.
		reason := redact.String(string(p.stdout))
		if stderr := execprog.StderrReason(p.stderr); stderr != "" {
			reason += " (stderr: " + stderr + ")"
		}
		if h.misses.changed(reason) {
			logs.With(ctx, log.Fields{
				"helper": h.program,
				"server": serverURL,
				"reason": reason,
			}).Info("credential helper has no credentials for the server")
		}
		return helperAnswer{}, min(helperAnswerTTL, answercache.FailureTTL(h.timeout))
	}
	// client.Get's own error quotes the helper's whole output, which may
	// hold a secret: build one from the parts, redacted.
	pe := &credentials.ProgramError{Kind: "helper", Program: filepath.Base(h.program), Status: "malformed response", Stderr: execprog.StderrReason(p.stderr)}
	if p.err != nil {
		pe.Status = p.err.Error()
		pe.Said = redact.String(string(p.stdout))
	}
	return helperAnswer{err: fmt.Errorf("failed to run credential helper %q: %w", h.program, pe)}, answercache.FailureTTL(h.timeout)
}

// helperProgram is a client.Program that runs through execprog.Run.
type helperProgram struct {
	ctx    context.Context
	h      *Client
	args   []string
	stdin  []byte
	stdout []byte
	stderr []byte
	err    error
}

func (p *helperProgram) Input(in io.Reader) { p.stdin, _ = io.ReadAll(in) }

func (p *helperProgram) Output() ([]byte, error) {
	p.stdout, p.stderr, p.err = execprog.Run(p.ctx, execprog.Command{
		Path: p.h.program, Args: p.args, Env: execprog.Env(p.h.env), Stdin: p.stdin, Timeout: p.h.timeout,
	})
	return p.stdout, p.err
}

// Source asks a docker credential helper for the hosts it matches.
type Source struct {
	hosts  hostmatch.Patterns // empty: every host
	helper *Client
}

var (
	_ credentials.Source = (*Source)(nil)
	_ io.Closer          = (*Source)(nil)
)

// New returns a source that runs program (an absolute path) for hosts matching hosts,
// or for every host when hosts is empty, each run bounded by timeout, with
// containerd's environment overlaid by env ("NAME=value").
func New(program string, env []string, hosts hostmatch.Patterns, timeout time.Duration, opts ...credentials.Option) *Source {
	h := newClient(program, env, timeout, nil)
	h.cache.SetRenew(credentials.Renewal(opts...))
	return &Source{hosts: hosts, helper: h}
}

// Close stops the helper's renewals; it is not run again.
func (s *Source) Close() error {
	s.helper.Close()
	return nil
}

// Get asks the helper for the contacted host.
func (s *Source) Get(ctx context.Context, req credentials.Request) (credentials.Credential, error) {
	if s.hosts.Len() > 0 && !s.hosts.Match(req.Host, req.RepoPath()) {
		return credentials.Credential{}, nil
	}
	return s.helper.Get(ctx, req.Host)
}

// Resolve returns the program for a helper: an absolute path as is,
// or docker-credential-NAME looked up on PATH.
func Resolve(helper string) (string, error) {
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
	if err := CheckName(helper); err != nil {
		return "", err
	}
	program, err := exec.LookPath("docker-credential-" + helper)
	if err != nil {
		return "", fmt.Errorf("helper %q: docker-credential-%s not found in PATH", helper, helper)
	}
	return program, nil
}

// CheckName accepts the NAME of docker-credential-NAME.
func CheckName(name string) error {
	if name == "" || strings.ContainsAny(name, `/\ `) || name == "." || name == ".." {
		return fmt.Errorf("%q is not a credential helper name", name)
	}
	return nil
}

// changeLog remembers the last reason it was told of, so that a reason that
// repeats on every lookup is logged once, and each change of it again.
type changeLog struct {
	mu   sync.Mutex
	last string
}

// changed records reason and reports whether it differs from the last one.
func (l *changeLog) changed(reason string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if reason == l.last {
		return false
	}
	l.last = reason
	return true
}
