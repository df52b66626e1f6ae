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

	"github.com/containerd/containerd/v2/core/transfer/registry"
	"github.com/containerd/log"

	"github.com/nodecred/nodecred/credentials"
	"github.com/nodecred/nodecred/internal/logs"
)

// credentialHelper is the registry.CredentialHelper of a re-homed registry:
// the caller's credentials first, the node source only when the caller had
// none for the host.
type credentialHelper struct {
	// ctx is the transfer's: containerd's resolver asks for credentials with
	// context.Background(), and the lookup must end with the transfer.
	ctx       context.Context
	caller    registry.CredentialHelper // nil when the caller sent none
	node      credentials.Source
	namespace string
	// record records the answers given; nil records nothing.
	record *record
}

var _ registry.CredentialHelper = (*credentialHelper)(nil)

func (h *credentialHelper) GetCredentials(_ context.Context, ref, host string) (registry.Credentials, error) {
	logger := logs.With(h.ctx, log.Fields{"host": host, "ref": ref, "namespace": h.namespace})
	if h.caller != nil {
		c, err := h.caller.GetCredentials(h.ctx, ref, host)
		if err != nil {
			h.record.add(host, answerCallerFailed, credentials.Credential{}, credentials.Report{})
			return registry.Credentials{}, err
		}
		if c.Username != "" || c.Secret != "" || c.Header != "" {
			logger.WithField("source", "caller").Debug("credential decision")
			h.record.add(host, answerCaller, credentials.Credential{}, credentials.Report{})
			return c, nil
		}
	}
	req := credentials.Request{Host: host, Ref: ref, Namespace: h.namespace}
	var (
		cred   credentials.Credential
		report credentials.Report
		err    error
	)
	if r, ok := h.node.(credentials.Reporter); ok {
		cred, report, err = r.GetReport(h.ctx, req)
	} else {
		cred, err = h.node.Get(h.ctx, req)
	}
	if err != nil {
		h.record.add(host, answerCancelled, credentials.Credential{}, credentials.Report{})
		return registry.Credentials{}, err
	}
	if cred.IsZero() {
		logger.WithField("source", "none").Debug("credential decision")
		h.record.add(host, answerNone, cred, report)
		return registry.Credentials{Host: host}, nil
	}
	logger.WithFields(log.Fields{"source": cred.Source, "kind": cred.Kind()}).Debug("credential decision")
	h.record.add(host, answerNode, cred, report)
	if cred.IdentityToken != "" {
		// An empty username tells containerd's authorizer the secret is an
		// OAuth2 refresh token.
		return registry.Credentials{Host: host, Secret: cred.IdentityToken.Reveal()}, nil
	}
	return registry.Credentials{Host: host, Username: cred.Username, Secret: cred.Password.Reveal()}, nil
}
