package credentials

import "github.com/nodecred/nodecred/internal/testprog"

var capturedLog = testprog.CapturedLog
