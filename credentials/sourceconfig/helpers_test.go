package sourceconfig

import (
	"testing"

	"github.com/nodecred/nodecred/internal/testprog"
)

func TestMain(m *testing.M) { testprog.Main(m) }

var (
	writeConfig     = testprog.WriteAtomic
	kubeletSetup    = testprog.ProviderSetup
	versionedConfig = testprog.ProviderConfig
)

// testHelper is the test helper program.
type testHelper struct{ program string }

// newTestHelper is the test helper (testprog.NewHelper) with settings.
func newTestHelper(t *testing.T, creds map[string]string, settings ...string) testHelper {
	t.Helper()
	return testHelper{program: testprog.NewHelper(t, creds, settings...).Program}
}
