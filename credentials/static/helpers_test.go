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

package static

import (
	"context"
	"testing"

	"github.com/nodecred/nodecred/credentials"
	"github.com/nodecred/nodecred/internal/testprog"
)

var (
	capturedLog = testprog.CapturedLog
	guard       = testprog.Guard
	writeAtomic = testprog.WriteAtomic
	symlinkOver = testprog.SymlinkOver
)

func lookupUser(t *testing.T, ctx context.Context, src credentials.Source) string {
	t.Helper()
	c, err := src.Get(ctx, credentials.Request{Host: "r.example.com", Ref: "r.example.com/app:1"})
	if err != nil {
		t.Fatal(err)
	}
	return c.Username
}
