package static

import (
	"context"
	"testing"

	"github.com/nodecred/nodecred/credentials"
	"github.com/nodecred/nodecred/internal/testprog"
)

var (
	capturedLog = testprog.CapturedLog
	guard       = testprog.Guard
	writeAtomic = testprog.WriteAtomic
	symlinkOver = testprog.SymlinkOver
)

func lookupUser(t *testing.T, ctx context.Context, src credentials.Source) string {
	t.Helper()
	c, err := src.Get(ctx, credentials.Request{Host: "r.example.com", Ref: "r.example.com/app:1"})
	if err != nil {
		t.Fatal(err)
	}
	return c.Username
}
