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
	"strings"
	"sync/atomic"
)

// ProgramError is a failed run of a helper or provider: how it ended and
// what it said about why, redacted. It never holds the program's answer.
// Sources that run programs return it, wrapped, so that Chain logs a
// failure they return again from a cache once, and Report names the
// program.
type ProgramError struct {
	// Kind and Program name the program where anyone may read it (a
	// pull's error, see Report): "helper" and the helper's file name, or
	// "provider" and the provider's name from its config.
	Kind, Program string
	// Status is how the run ended: "exit status 1", "timed out after 1m0s",
	// "malformed response".
	Status string
	// Said is the reason the program gave on stdout, as the credential
	// helper protocol has helpers do, redacted.
	Said string
	// Stderr is the program's stderr, redacted.
	Stderr string
	// reported is set once the failure has been logged: a cached failure
	// is returned to every lookup until it expires, and logged once.
	reported atomic.Bool
}

// Error is the status, then what the program said.
func (e *ProgramError) Error() string {
	var b strings.Builder
	b.WriteString(e.Status)
	if e.Said != "" {
		b.WriteString(": ")
		b.WriteString(e.Said)
	}
	if e.Stderr != "" {
		b.WriteString(" (stderr: ")
		b.WriteString(e.Stderr)
		b.WriteString(")")
	}
	return b.String()
}

// Unreported reports whether err should be logged: true unless every
// ProgramError in it has been logged already. It marks them logged.
func Unreported(err error) bool {
	var fresh, any bool
	var walk func(error)
	walk = func(err error) {
		switch e := err.(type) {
		case *ProgramError:
			any = true
			if e.reported.CompareAndSwap(false, true) {
				fresh = true
			}
		case interface{ Unwrap() []error }:
			for _, inner := range e.Unwrap() {
				walk(inner)
			}
		default:
			if inner := errors.Unwrap(err); inner != nil {
				walk(inner)
			}
		}
	}
	walk(err)
	return fresh || !any
}
