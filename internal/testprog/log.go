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

package testprog

import (
	"bytes"
	"context"
	"sync"
	"testing"

	"github.com/containerd/log"
	"github.com/sirupsen/logrus"
)

// CapturedLog returns a context whose logger writes into the returned buffer.
func CapturedLog(t testing.TB) (context.Context, *LogBuffer) {
	t.Helper()
	var buf LogBuffer
	l := logrus.New()
	l.SetOutput(&buf)
	l.SetLevel(logrus.TraceLevel)
	return log.WithLogger(context.Background(), logrus.NewEntry(l)), &buf
}

// LogBuffer is a bytes.Buffer that reads go on in parallel to goroutines
// that log.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was logged so far.
func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
