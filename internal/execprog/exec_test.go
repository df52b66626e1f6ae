package execprog

import (
	"fmt"
	"testing"
)

func TestTailBufferKeepsTheLastBytes(t *testing.T) {
	b := &tailBuffer{limit: 8}
	for _, w := range []string{"0123", "4567", "89ab"} {
		fmt.Fprint(b, w)
	}
	if got := string(b.Bytes()); got != "456789ab" {
		t.Fatalf("tail = %q, want 456789ab", got)
	}
}
