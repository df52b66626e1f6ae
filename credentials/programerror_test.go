package credentials

import (
	"errors"
	"fmt"
	"testing"
)

// TestUnreportedOncePerFailure: a failure returned again from a cache is
// logged once; other errors each time; a join is logged while any part of
// it is new.
func TestUnreportedOncePerFailure(t *testing.T) {
	first := fmt.Errorf("failed to run provider %q: %w", "p", &ProgramError{Status: "exit status 1"})
	if !Unreported(first) || Unreported(first) {
		t.Fatal("a program failure must be reported once")
	}
	plain := errors.New("file unreadable")
	if firstTime, secondTime := Unreported(plain), Unreported(plain); !firstTime || !secondTime {
		t.Fatal("an error that is not a program failure must be reported each time")
	}
	second := &ProgramError{Status: "timed out after 1m0s"}
	if !Unreported(errors.Join(first, second)) || Unreported(errors.Join(first, second)) {
		t.Fatal("a join with a new failure must be reported once")
	}
}
