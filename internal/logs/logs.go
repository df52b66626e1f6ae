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
