package credentials

import (
	"os"
	"testing"

	"github.com/nodecred/nodecred/internal/testprog"
)

func TestMain(m *testing.M) { testprog.Main(m) }

// countLines returns the number of lines in path (0 when missing).
func countLines(t testing.TB, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range b {
		if c == '\n' {
			n++
		}
	}
	return n
}
