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

package helper

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nodecred/nodecred/credentials"
	"github.com/nodecred/nodecred/internal/hostmatch"
	"github.com/nodecred/nodecred/internal/testprog"
)

func BenchmarkHelperCacheHit(b *testing.B) {
	helper, _ := testprog.Build(b)
	dir := b.TempDir()
	program := filepath.Join(dir, "docker-credential-bench")
	data, _ := os.ReadFile(helper)
	if err := os.WriteFile(program, data, 0o755); err != nil {
		b.Fatal(err)
	}
	src := New(program, []string{`CREDHELPER_CREDS={"r.io": "u:p"}`}, hostmatch.Patterns{}, 10*time.Second)
	req := credentials.Request{Host: "r.io", Ref: "r.io/app:1"}
	ctx := context.Background()
	testprog.Measure(b, func() { _, _ = src.Get(ctx, req) })
}
