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

package fielderr

import (
	"errors"
	"io"
	"testing"

	"github.com/containerd/errdefs"
)

func TestFieldPaths(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"one field", New("type", "required"), "type: required"},
		{"nested field", In("sources[1]", New("type", "unknown source type %q", "foo")), `sources[1].type: unknown source type "foo"`},
		{"index follows its parent", In("sources[0]", In("hosts", New("[2]", "bad"))), "sources[0].hosts[2]: bad"},
		{"plain error becomes the parent's reason", In("sources[3]", errors.New("want a table")), "sources[3]: want a table"},
		{"empty parent", In("", New("path", "required")), "path: required"},
		{"the section as a whole", New("", "unknown key %q (value not shown)", "pushh"), `unknown key "pushh" (value not shown)`},
		{"a key of a nested table", In("sources[1]", New("", "unknown key %q (value not shown)", "pasword")), `sources[1]: unknown key "pasword" (value not shown)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("Error() = %q, want %q", got, tc.want)
			}
			if !errdefs.IsInvalidArgument(tc.err) {
				t.Errorf("%q is not errdefs.ErrInvalidArgument", tc.err)
			}
		})
	}
}

func TestKeepsTheReasonsChain(t *testing.T) {
	err := In("sources[0]", New("path", "cannot read: %w", io.ErrUnexpectedEOF))
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("%v does not wrap io.ErrUnexpectedEOF", err)
	}
	var fe *Error
	if !errors.As(err, &fe) || fe.Field != "sources[0].path" {
		t.Errorf("errors.As gives field %q, want sources[0].path", fe.Field)
	}
}

func TestNilStaysNil(t *testing.T) {
	if err := In("sources[0]", nil); err != nil {
		t.Errorf("In(nil) = %v, want nil", err)
	}
}
