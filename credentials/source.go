// Package credentials holds nodecred's credential sources and their
// composition: the one place a node's registry credentials come from.
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

// SourceFunc adapts a function to a Source.
type SourceFunc func(ctx context.Context, req Request) (Credential, error)

// Get calls f.
func (f SourceFunc) Get(ctx context.Context, req Request) (Credential, error) {
	return f(ctx, req)
}
