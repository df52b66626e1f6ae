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

// Package jsonerr turns encoding/json's errors into errors that never
// quote the input, which may hold credentials: a byte offset, a field's
// path, the kind of value found.
package jsonerr

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Scrub drops the parts of a JSON error that can quote input.
func Scrub(err error) error {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Errorf("syntax error at byte %d", syn.Offset)
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		return &TypeError{Field: typ.Field, Value: typ.Value, Offset: typ.Offset}
	}
	// Unknown-field errors name a key, never a value.
	if msg := err.Error(); strings.HasPrefix(msg, "json: unknown field ") {
		return errors.New(strings.TrimPrefix(msg, "json: "))
	}
	return errors.New("malformed JSON")
}

// TypeError is a value of the wrong type: the path of the field it is in,
// the kind of value found and where.
type TypeError struct {
	// Field is encoding/json's dotted path, map keys included.
	Field string
	// Value is the kind of value found: "number", "array".
	Value string
	// Offset is the byte offset of the value in the input.
	Offset int64
}

// Error names the field, the kind of value and where it is.
func (e *TypeError) Error() string {
	return fmt.Sprintf("field %q: wrong type %s at byte %d", e.Field, e.Value, e.Offset)
}
