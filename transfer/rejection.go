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
	"net/http"
	"net/url"

	"github.com/containerd/containerd/v2/core/remotes/docker"
	remoteerrors "github.com/containerd/containerd/v2/core/remotes/errors"
	"github.com/containerd/log"

	"github.com/nodecred/nodecred/internal/logs"
)

// refusal is what a failed transfer's error says a registry refused.
type refusal struct {
	// hosts are the hosts that refused the credential they were sent.
	hosts map[*hostRecord]bool
	// sure is false when the error did not say which of several hosts
	// refused: then every host that was sent a credential is in hosts.
	sure bool
	// status is what the registry answered: "401 Unauthorized", "403
	// Forbidden", or "authorization failed" when the error has no status.
	status string
	// statusHost is the host whose request got status; "" when that was
	// none of the hosts sent a credential (a token endpoint on another
	// host): then status is every refusing host's.
	statusHost string
}

// refusals works out, from a failed transfer's error and what its
// registries were told, which hosts refused the credential they were sent.
// A host refused when:
//   - the error is a 401 or 403 from a request to it, or
//   - containerd asked for its credentials again after it had been sent
//     one: containerd asks again when the registry answers 401 to the
//     credential (basic auth) or the token it got with it (a bearer
//     challenge with an error), or
//   - the error says a registry refused credentials and only this host
//     was sent any (a token endpoint on another host refused them).
//
// With basic auth, requests answered 401 before the first credential
// arrived ask again too (concurrent uploads of a push); a second ask counts
// only when the transfer failed with a refusal.
//
// When the error says a registry refused credentials and none of these
// tells which of several hosts did, every host that was sent one is
// counted, and sure is false. Nothing is refused when the error is not a
// refusal (see refused).
func (r *record) refusals(err error) refusal {
	out := refusal{hosts: map[*hostRecord]bool{}, sure: true, status: "authorization failed"}
	if !refused(err) {
		return out
	}
	var st remoteerrors.ErrUnexpectedStatus
	if errors.As(err, &st) && (st.StatusCode == http.StatusUnauthorized || st.StatusCode == http.StatusForbidden) {
		out.status = fmt.Sprintf("%d %s", st.StatusCode, http.StatusText(st.StatusCode))
		if u, perr := url.Parse(st.RequestURL); perr == nil {
			out.statusHost = u.Host
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var sent []*hostRecord
	named := false // the status is from a request to a host that was sent a credential
	for _, h := range r.hosts {
		if !h.sent() {
			continue
		}
		sent = append(sent, h)
		named = named || h.host == out.statusHost
		if h.host == out.statusHost || h.reasked > 0 {
			out.hosts[h] = true
		}
	}
	if !named {
		out.statusHost = ""
	}
	if len(out.hosts) == 0 && len(sent) > 0 {
		for _, h := range sent {
			out.hosts[h] = true
		}
		out.sure = len(sent) == 1
	}
	return out
}

// statusOf is what host h was answered when it refused.
func (f refusal) statusOf(h *hostRecord) string {
	if f.statusHost == "" || f.statusHost == h.host {
		return f.status
	}
	return "authorization failed"
}

// reject tells the sources of the node credentials that the hosts in f
// refused, so that a cached answer of a helper or provider is dropped and
// the next pull runs the program again. Answers lent to other hosts in the
// same transfer stay. Sources drop an answer at most once per failure
// lifetime, so a plainly wrong credential costs one run per that time.
func (r *record) reject(ctx context.Context, f refusal) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, h := range r.hosts {
		if !f.hosts[h] || h.answer != answerNode {
			continue
		}
		if h.cred.Reject() {
			logs.With(ctx, log.Fields{"host": h.host, "source": h.cred.Source, "effect": "answer dropped; the next pull runs the program again"}).
				Info("registry refused a cached credential")
		}
	}
}

// refused reports whether err from a transfer says that a registry refused
// the credentials it was sent. containerd's docker resolver says so in two
// ways (core/remotes/docker in containerd 2.x):
//   - docker.ErrInvalidAuthorization ("authorization failed"), wrapped when
//     the registry or its token endpoint answers a request that carried
//     credentials with an error challenge (invalidAuthorization in
//     authorizer.go), and when no credentials were found at all (then none
//     were lent, and nothing is dropped);
//   - remoteerrors.ErrUnexpectedStatus with status 401 or 403, from the
//     registry itself (resolver.go) or from its token endpoint
//     (auth/fetch.go).
//
// A 403 can also mean that a valid credential lacks access to a repository;
// dropping the answer then costs one program run per failure lifetime.
func refused(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, docker.ErrInvalidAuthorization) {
		return true
	}
	var status remoteerrors.ErrUnexpectedStatus
	return errors.As(err, &status) && (status.StatusCode == http.StatusUnauthorized || status.StatusCode == http.StatusForbidden)
}
