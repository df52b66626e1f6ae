package logs

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/containerd/log"
	"github.com/sirupsen/logrus"
)

func TestEntriesCarryTheIdentityField(t *testing.T) {
	var buf bytes.Buffer
	l := logrus.New()
	l.SetOutput(&buf)
	l.SetFormatter(&logrus.TextFormatter{DisableTimestamp: true})
	ctx := log.WithLogger(context.Background(), logrus.NewEntry(l))

	G(ctx).Info("credential sources configured")

	if got := buf.String(); !strings.Contains(got, "plugin=nodecred") || !strings.Contains(got, `msg="credential sources configured"`) {
		t.Errorf("log line %q lacks plugin=nodecred or the message", got)
	}
}
