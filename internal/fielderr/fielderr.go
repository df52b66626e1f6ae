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

// Package fielderr is the error for a bad value in one field of nodecred's
// config: it names the field, as in `sources[1].hosts[0]: ...`, and wraps
// errdefs.ErrInvalidArgument so that containerd and callers can tell a
// config fault from a runtime one with errdefs.IsInvalidArgument.
package fielderr

import (
	"errors"
	"fmt"
	"strings"

	"github.com/containerd/errdefs"
)

// Error is a bad value in the field Field. Err says what is wrong; it never
// holds the value of a secret.
type Error struct {
	// Field is the field's path, e.g. "sources[1].hosts[0]".
	Field string
	// Err says what is wrong with the field's value.
	Err error
}

// Error returns "FIELD: REASON", or REASON alone when Field is empty (an
// error about the section as a whole, such as an unknown key in it).
func (e *Error) Error() string {
	if e.Field == "" {
		return e.Err.Error()
	}
	return e.Field + ": " + e.Err.Error()
}

// Unwrap returns the reason and errdefs.ErrInvalidArgument.
func (e *Error) Unwrap() []error {
	return []error{e.Err, errdefs.ErrInvalidArgument}
}

// New returns an error for field, its reason formatted as fmt.Errorf does
// (so %w wraps).
func New(field, format string, args ...any) error {
	return &Error{Field: field, Err: fmt.Errorf(format, args...)}
}

// In puts the field parent in front of err's field: In("sources[1]",
// New("type", "required")) reads "sources[1].type: required", and
// In("hosts", New("[0]", ...)) reads "hosts[0]: ...". An err that is not
// an *Error becomes the reason of parent itself. A nil err stays nil.
func In(parent string, err error) error {
	if err == nil {
		return nil
	}
	var fe *Error
	if errors.As(err, &fe) && fe == err {
		return &Error{Field: join(parent, fe.Field), Err: fe.Err}
	}
	return &Error{Field: parent, Err: err}
}

// join joins two field paths: an index follows its parent directly.
func join(parent, child string) string {
	switch {
	case parent == "":
		return child
	case child == "":
		return parent
	case strings.HasPrefix(child, "["):
		return parent + child
	default:
		return parent + "." + child
	}
}
