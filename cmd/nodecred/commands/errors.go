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

// Package commands holds what the nodecred commands share: the errors that
// choose the exit status, and the reading of an image reference argument.
// Each command lives in a package of its own below this one; package main
// wires them.
package commands

import (
	"fmt"

	"github.com/urfave/cli/v3"

	"github.com/nodecred/nodecred/cripull"
)

// The exit statuses of nodecred; 0 is success.
const (
	// ExitFailed: the check or pull ran and failed.
	ExitFailed = 1
	// ExitUsage: bad usage or configuration.
	ExitUsage = 2
	// ExitCRILocal: explain or check in CRI's namespace, where CRI pulls
	// locally and so gets no node credentials.
	ExitCRILocal = 3
)

// UsageError marks errors in arguments or configuration (exit 2).
type UsageError struct{ Err error }

// Error returns the message of the error marked.
func (e UsageError) Error() string { return e.Err.Error() }

// Unwrap returns the error marked.
func (e UsageError) Unwrap() error { return e.Err }

// CRILocalError marks an explain or check in CRI's namespace where CRI
// pulls without the transfer service (exit 3): what was printed holds for
// transfer API clients, not for CRI.
type CRILocalError struct{ Verdict *cripull.Verdict }

// Error names the setting that makes CRI pull locally.
func (e CRILocalError) Error() string {
	return fmt.Sprintf("CRI pulls locally (%s): CRI pulls get no node credentials", e.Verdict.Setting())
}

// FailedError marks a check or pull that ran and failed (exit 1).
type FailedError struct{ Err error }

// Error returns the message of the error marked.
func (e FailedError) Error() string { return e.Err.Error() }

// Unwrap returns the error marked.
func (e FailedError) Unwrap() error { return e.Err }

// RefArg returns the one image reference cmd takes, or a usage error.
func RefArg(cmd *cli.Command) (string, error) {
	if cmd.Args().Len() != 1 {
		return "", UsageError{fmt.Errorf("%s takes exactly one image reference, got %d arguments", cmd.Name, cmd.Args().Len())}
	}
	return cmd.Args().First(), nil
}
