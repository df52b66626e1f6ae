package kubelet

import (
	"context"
	"testing"

	"github.com/nodecred/nodecred/credentials"
	"github.com/nodecred/nodecred/internal/testprog"
)

func TestMain(m *testing.M) { testprog.Main(m) }

var (
	capturedLog = testprog.CapturedLog
	countLines  = testprog.CountLines
	guard       = testprog.Guard
	writeFile   = testprog.WriteFile
	writeConfig = testprog.WriteAtomic

	kubeletSetup    = testprog.ProviderSetup
	versionedConfig = testprog.ProviderConfig
)

// sourceFunc adapts a function to a credentials.Source.
type sourceFunc func(ctx context.Context, req credentials.Request) (credentials.Credential, error)

func (f sourceFunc) Get(ctx context.Context, req credentials.Request) (credentials.Credential, error) {
	return f(ctx, req)
}
