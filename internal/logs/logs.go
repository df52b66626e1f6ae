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

// Package logs gives nodecred's log entries their identity. containerd
// keeps a message short and says who speaks in fields; every nodecred entry
// carries plugin=nodecred, so `grep plugin=nodecred` finds all of them.
package logs

import (
	"context"

	"github.com/containerd/log"
)

// Field and Name are the field every nodecred log entry carries.
const (
	Field = "plugin"
	Name  = "nodecred"
)

// G returns ctx's logger with nodecred's identity field.
func G(ctx context.Context) *log.Entry {
	return log.G(ctx).WithField(Field, Name)
}

// With returns ctx's logger with nodecred's identity field and fields, in
// one step: G(ctx).WithFields(fields) would copy the fields twice, an
// allocation that a pull's hot path pays on every lookup.
// It adds the identity to fields itself, so pass a map of your own.
func With(ctx context.Context, fields log.Fields) *log.Entry {
	fields[Field] = Name
	return log.G(ctx).WithFields(fields)
}
