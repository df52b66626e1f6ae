package transfer

import (
	"context"
	"errors"
	"net/http"
	"sync"

	"github.com/containerd/containerd/v2/core/remotes/docker"
	remoteerrors "github.com/containerd/containerd/v2/core/remotes/errors"
	"github.com/containerd/log"

	"github.com/nodecred/nodecred/credentials"
)

// lent records the node credentials one transfer's registries were given,
// so that the source can drop a cached answer the registry refused.
type lent struct {
	mu    sync.Mutex
	creds []lentCredential
}

type lentCredential struct {
	host string
	cred credentials.Credential
}

func (l *lent) add(host string, c credentials.Credential) {
	if l == nil {
		return
	}
	l.mu.Lock()
	l.creds = append(l.creds, lentCredential{host: host, cred: c})
	l.mu.Unlock()
}

// rejectIfRefused tells the sources of the credentials lent to a transfer
// that failed with err when err says a registry refused credentials, so
// that a cached answer of a helper or provider is dropped and the next pull
// runs the program again. Sources drop an answer at most once per failure
// lifetime, so a plainly wrong credential costs one run per that time.
func (l *lent) rejectIfRefused(ctx context.Context, err error) {
	if l == nil || !refused(err) {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.creds {
		if c.cred.Reject() {
			log.G(ctx).WithFields(log.Fields{"host": c.host, "source": c.cred.Source}).
				Info("nodecred: registry refused a credential from a program's cached answer; dropped it, the next pull runs the program again")
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
