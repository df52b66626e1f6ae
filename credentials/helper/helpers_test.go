package helper

import (
	"testing"

	"github.com/nodecred/nodecred/internal/testprog"
)

func TestMain(m *testing.M) { testprog.Main(m) }

var (
	capturedLog = testprog.CapturedLog
	countLines  = testprog.CountLines
	writeFile   = testprog.WriteFile
)
