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
