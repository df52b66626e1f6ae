package dockerconfig

import (
	"testing"

	"github.com/nodecred/nodecred/internal/testprog"
)

func TestMain(m *testing.M) { testprog.Main(m) }

var (
	capturedLog = testprog.CapturedLog
	countLines  = testprog.CountLines
	guard       = testprog.Guard
	rename      = testprog.Rename
	symlinkOver = testprog.SymlinkOver
	writeAtomic = testprog.WriteAtomic
	writeConfig = testprog.WriteAtomic
)

// testHelper is the test helper program with the environment that
// configures it.
type testHelper struct {
	program string
	count   string   // one line per run
	env     []string // CREDHELPER_* settings
}

// newTestHelper is the test helper (testprog.NewHelper) with settings:
// creds (server URL to "user:secret") and further CREDHELPER_* variables.
func newTestHelper(t *testing.T, creds map[string]string, settings ...string) testHelper {
	t.Helper()
	h := testprog.NewHelper(t, creds, settings...)
	return testHelper{program: h.Program, count: h.Count, env: h.Env}
}
