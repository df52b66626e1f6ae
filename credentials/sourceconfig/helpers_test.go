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
