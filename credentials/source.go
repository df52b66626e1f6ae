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

// Package credentials is the core of nodecred's credential sources: what a
// source is asked (Request) and answers (Credential, Secret), and their
// composition (Chain, Report). The sources themselves are in its
// subpackages (dockerconfig, helper, kubelet, static), and sourceconfig
// builds a Chain from nodecred's config.
package credentials

import "context"

// Request names the registry host a pull is about to contact and what for.
type Request struct {
	// Host is the host actually contacted, with its port when it has one
	// (a mirror from hosts.toml is its own host).
	Host string
	// Ref is the image reference being pulled or pushed.
	Ref string
	// Namespace is the containerd namespace of the operation.
	Namespace string
}

// Credential is what a source answers. The zero value means "not found".
type Credential struct {
	// Username goes with Password for basic auth.
	Username string
	// Password is the basic-auth password.
	Password Secret
	// IdentityToken is an OAuth2 refresh token, sent in place of a password.
	IdentityToken Secret
	// Source names the source that answered, for logs; it is set by Chain.
	Source string
	// rejecter drops the cached answer rejectKey the credential came
	// from; nil when it came from no cache of a program's answers.
	rejecter  Rejecter
	rejectKey string
}

// Rejecter drops the cached answer named key after a registry refused the
// credential it held, and reports whether it dropped one. A cache of a
// program's answers is one; a credential carries it and its key rather than
// a closure, which would cost an allocation on every lookup.
type Rejecter interface {
	Reject(key string) bool
}

// Reject tells the source that a registry refused c (401 or 403), so that a
// cached answer it came from is dropped and the next lookup runs the
// program again; a source does so at most once per failure lifetime per
// answer. It reports whether an answer was dropped.
func (c Credential) Reject() bool {
	return c.rejecter != nil && c.rejecter.Reject(c.rejectKey)
}

// WithReject returns c with what Reject calls: a source that serves c from
// a cache of a program's answers passes that cache and the answer's key.
func (c Credential) WithReject(r Rejecter, key string) Credential {
	c.rejecter, c.rejectKey = r, key
	return c
}

// IsZero reports whether c carries no credential.
func (c Credential) IsZero() bool {
	return c.Username == "" && c.Password == "" && c.IdentityToken == ""
}

// Kind names the kind of credential, never its value: "basic",
// "identitytoken" or "none".
func (c Credential) Kind() string {
	switch {
	case c.IdentityToken != "":
		return "identitytoken"
	case c.Username != "" || c.Password != "":
		return "basic"
	default:
		return "none"
	}
}

// Source answers credential requests. Not found is a zero Credential and a
// nil error; an error means the source itself is at fault.
type Source interface {
	Get(ctx context.Context, req Request) (Credential, error)
}
