/*
   Copyright The nodecred Authors.

   Licensed under the Apache License, Version 2.0 (the "License");
   you may not use this file except in compliance with the License.
   You may obtain a copy of the License at

       http://www.apache.org/licenses/LICENSE-2.0

   Unless required by applicable law or agreed to in writing, software
   distributed under the License is distributed on an "AS IS" BASIS,
   WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
   See the License for the specific language governing permissions and
   limitations under the License.
*/

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
