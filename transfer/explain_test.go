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

package transfer

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/containerd/containerd/v2/core/remotes/docker"
	remoteerrors "github.com/containerd/containerd/v2/core/remotes/errors"
	"github.com/containerd/containerd/v2/core/transfer/registry"
	"github.com/containerd/errdefs"

	"github.com/nodecred/nodecred/credentials"
	"github.com/nodecred/nodecred/credentials/static"
	"github.com/nodecred/nodecred/internal/hostmatch"
)

const (
	nodeSecret   = "node-pw-0f3c9a"
	callerSecret = "caller-pw-77b1e2"
)

// testChain is a dockerconfig-named source that fails, then a static
// source for r.io and m.io.
func testChain(t *testing.T) credentials.Chain {
	t.Helper()
	hosts, err := hostmatch.ParsePatterns([]string{"r.io", "m.io"})
	if err != nil {
		t.Fatal(err)
	}
	broken := sourceFunc(func(context.Context, credentials.Request) (credentials.Credential, error) {
		return credentials.Credential{}, errors.New("read /etc/containerd/auth.json: " + nodeSecret)
	})
	return credentials.Chain{
		{Name: "dockerconfig:/etc/containerd/auth.json", Type: "dockerconfig", Source: broken},
		{Name: "static:r.io,m.io", Type: "static", Source: static.New(hosts, "robot", nodeSecret)},
	}
}

// asks is one request containerd makes for a host's credentials; caller
// is what the caller's own helper answers ("" none, "fail" an error).
type ask struct{ host, caller string }

func runAsks(t *testing.T, node credentials.Source, asks []ask) *record {
	t.Helper()
	rec := &record{}
	for _, a := range asks {
		h := &credentialHelper{ctx: context.Background(), node: node, namespace: "k8s.io", record: rec}
		switch a.caller {
		case "fail":
			h.caller = callerFunc(func(host string) (registry.Credentials, error) {
				return registry.Credentials{}, fmt.Errorf("host %s: the caller's credential helper failed", host)
			})
		case "creds":
			h.caller = callerFunc(func(host string) (registry.Credentials, error) {
				return registry.Credentials{Host: host, Username: "kubelet", Secret: callerSecret}, nil
			})
		}
		_, _ = h.GetCredentials(context.Background(), "r.io/app:1", a.host)
	}
	return rec
}

func unexpectedStatus(code int, u string) error {
	return fmt.Errorf("failed to resolve image: %w", remoteerrors.ErrUnexpectedStatus{
		Status: fmt.Sprintf("%d x", code), StatusCode: code, RequestURL: u, RequestMethod: "HEAD",
	})
}

var (
	errNoBasicAuth  = fmt.Errorf("failed to resolve image: pull access denied, repository does not exist or may require authorization: %w", fmt.Errorf("%w: no basic auth credentials", docker.ErrInvalidAuthorization))
	errInvalidToken = fmt.Errorf("failed to resolve image: %w", fmt.Errorf("server message: invalid_token: %w", docker.ErrInvalidAuthorization))
	errNotFoundPull = fmt.Errorf("failed to resolve image: r.io/app:1: %w", errdefs.ErrNotFound)
	failedSources   = " (dockerconfig sources[0] failed; reasons in containerd's log)"
)

func TestExplainClauses(t *testing.T) {
	tests := []struct {
		name    string
		asks    []ask
		err     error
		notLent string
		want    string // the clauses after the error's own text
	}{
		{
			name: "no node source has credentials",
			asks: []ask{{host: "other.io"}},
			err:  errNoBasicAuth,
			want: "node credentials: no node source has credentials for other.io" + failedSources,
		},
		{
			name: "registry refused the node credential, asked again",
			asks: []ask{{host: "r.io"}, {host: "r.io"}},
			err:  unexpectedStatus(401, "http://r.io/v2/app/manifests/1"),
			want: "node credentials: r.io refused the credential from static sources[1] (401 Unauthorized)" + failedSources,
		},
		{
			name: "token endpoint on another host refused the only host's credential",
			asks: []ask{{host: "r.io"}},
			err:  unexpectedStatus(401, "https://auth.r.io/token?scope=x"),
			want: "node credentials: r.io refused the credential from static sources[1] (401 Unauthorized)" + failedSources,
		},
		{
			name: "403 from the registry",
			asks: []ask{{host: "r.io"}},
			err:  unexpectedStatus(403, "http://r.io/v2/app/manifests/1"),
			want: "node credentials: r.io refused the credential from static sources[1] (403 Forbidden)" + failedSources,
		},
		{
			name: "of two hosts, the one the error names refused",
			asks: []ask{{host: "m.io"}, {host: "r.io"}},
			err:  unexpectedStatus(401, "http://r.io/v2/app/manifests/1"),
			want: "node credentials: m.io was sent the credential from static sources[1]" + failedSources +
				"; node credentials: r.io refused the credential from static sources[1] (401 Unauthorized)" + failedSources,
		},
		{
			name: "of two hosts, the one asked again refused",
			asks: []ask{{host: "m.io"}, {host: "r.io"}, {host: "r.io"}},
			err:  errInvalidToken,
			want: "node credentials: m.io was sent the credential from static sources[1]" + failedSources +
				"; node credentials: r.io refused the credential from static sources[1] (authorization failed)" + failedSources,
		},
		{
			name: "two hosts and the error does not say which refused",
			asks: []ask{{host: "m.io"}, {host: "r.io"}},
			err:  errInvalidToken,
			want: "node credentials: m.io was sent the credential from static sources[1]; a registry refused credentials (authorization failed)" + failedSources +
				"; node credentials: r.io was sent the credential from static sources[1]; a registry refused credentials (authorization failed)" + failedSources,
		},
		{
			name: "node credential sent, pull failed otherwise",
			asks: []ask{{host: "r.io"}},
			err:  errNotFoundPull,
			want: "node credentials: r.io was sent the credential from static sources[1]" + failedSources,
		},
		{
			name: "the caller's credentials were used",
			asks: []ask{{host: "r.io", caller: "creds"}},
			err:  errNotFoundPull,
			want: "node credentials: the caller's credentials were used for r.io, not node credentials",
		},
		{
			name: "the registry refused the caller's credentials",
			asks: []ask{{host: "r.io", caller: "creds"}, {host: "r.io", caller: "creds"}},
			err:  unexpectedStatus(401, "http://r.io/v2/app/manifests/1"),
			want: "node credentials: r.io refused the caller's credentials (401 Unauthorized); node credentials were not used",
		},
		{
			name: "the caller's helper failed",
			asks: []ask{{host: "r.io", caller: "fail"}},
			err:  errors.New("failed to resolve image: host r.io: the caller's credential helper failed"),
			want: "node credentials: the caller's credentials for r.io could not be read; node credentials were not used",
		},
		{
			name:    "not lent to the namespace",
			err:     errNoBasicAuth,
			notLent: `not lent to namespace "default"`,
			want:    `node credentials: not lent to namespace "default"`,
		},
		{
			name:    "not lent to pushes",
			err:     unexpectedStatus(401, "http://r.io/v2/app/blobs/uploads/"),
			notLent: "not lent to pushes (push = false)",
			want:    "node credentials: not lent to pushes (push = false)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := runAsks(t, testChain(t), tt.asks)
			got := rec.explain(context.Background(), tt.err, tt.notLent)
			want := tt.err.Error() + "; " + tt.want
			if got.Error() != want {
				t.Errorf("error\n got: %s\nwant: %s", got, want)
			}
			if !errors.Is(got, tt.err) {
				t.Errorf("the explained error does not wrap the transfer's error")
			}
			for _, secret := range []string{nodeSecret, callerSecret, "/etc/containerd/auth.json"} {
				if strings.Contains(got.Error(), secret) {
					t.Errorf("error carries %q: %s", secret, got)
				}
			}
		})
	}
}

// A failed transfer nodecred took no part in keeps its error as it was:
// not lent, and not refused; or nothing asked for credentials.
func TestExplainLeavesOtherErrorsAlone(t *testing.T) {
	for _, tt := range []struct {
		name    string
		err     error
		notLent string
	}{
		{"not lent, not refused", errNotFoundPull, `not lent to namespace "default"`},
		{"nothing asked", errors.New("dial tcp 127.0.0.1:1: connect: connection refused"), ""},
		{"nothing asked, refused", errNoBasicAuth, ""},
	} {
		got := (&record{}).explain(context.Background(), tt.err, tt.notLent)
		if got != tt.err {
			t.Errorf("%s: error became %q", tt.name, got)
		}
	}
}

// The clause changes only the text: errdefs sees the same class, so
// containerd's gRPC status code for the error is unchanged.
func TestExplainedKeepsErrdefsClass(t *testing.T) {
	rec := runAsks(t, testChain(t), []ask{{host: "r.io"}})
	got := rec.explain(context.Background(), errNotFoundPull, "")
	if !errdefs.IsNotFound(got) || errdefs.Resolve(got) != errdefs.ErrNotFound {
		t.Errorf("explained not-found error is %v to errdefs", errdefs.Resolve(got))
	}
}

// Only the hosts that refused are rejected; which ones is told by the
// error's request URL, by a second ask, or by being the only host sent a
// credential.
func TestRefusalsPerHost(t *testing.T) {
	tests := []struct {
		name string
		asks []ask
		err  error
		want []string
		sure bool
	}{
		{"status names the host", []ask{{host: "m.io"}, {host: "r.io"}}, unexpectedStatus(401, "http://r.io/v2/"), []string{"r.io"}, true},
		{"asked again", []ask{{host: "m.io"}, {host: "m.io"}, {host: "r.io"}}, errInvalidToken, []string{"m.io"}, true},
		{"only host sent one", []ask{{host: "other.io"}, {host: "r.io"}}, errInvalidToken, []string{"r.io"}, true},
		{"cannot tell", []ask{{host: "m.io"}, {host: "r.io"}}, errInvalidToken, []string{"m.io", "r.io"}, false},
		{"not a refusal", []ask{{host: "r.io"}, {host: "r.io"}}, errNotFoundPull, nil, true},
		{"a host that was sent nothing", []ask{{host: "other.io"}}, errNoBasicAuth, nil, true},
	}
	for _, tt := range tests {
		rec := runAsks(t, testChain(t), tt.asks)
		f := rec.refusals(tt.err)
		var got []string
		for _, h := range rec.hosts {
			if f.hosts[h] {
				got = append(got, h.host)
			}
		}
		if strings.Join(got, ",") != strings.Join(tt.want, ",") || f.sure != tt.sure {
			t.Errorf("%s: refused %v (sure %v), want %v (sure %v)", tt.name, got, f.sure, tt.want, tt.sure)
		}
	}
}

// sourceFunc adapts a function to a credentials.Source.
type sourceFunc func(ctx context.Context, req credentials.Request) (credentials.Credential, error)

func (f sourceFunc) Get(ctx context.Context, req credentials.Request) (credentials.Credential, error) {
	return f(ctx, req)
}
