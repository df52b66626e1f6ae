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

func TestWithAddsTheIdentityToTheFields(t *testing.T) {
	var buf bytes.Buffer
	l := logrus.New()
	l.SetOutput(&buf)
	l.SetFormatter(&logrus.TextFormatter{DisableTimestamp: true})
	ctx := log.WithLogger(context.Background(), logrus.NewEntry(l))

	With(ctx, log.Fields{"host": "registry.example.com"}).Info("credential decision")

	got := buf.String()
	for _, want := range []string{"plugin=nodecred", "host=registry.example.com", `msg="credential decision"`} {
		if !strings.Contains(got, want) {
			t.Errorf("log line %q lacks %s", got, want)
		}
	}
}
