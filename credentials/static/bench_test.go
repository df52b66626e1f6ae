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
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/nodecred/nodecred/credentials"
	"github.com/nodecred/nodecred/internal/hostmatch"
	"github.com/nodecred/nodecred/internal/testprog"
)

func BenchmarkStaticFileLookup(b *testing.B) {
	hosts, _ := hostmatch.ParsePatterns([]string{"registry.example.com"})
	pw := filepath.Join(b.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte("secret"), 0o600); err != nil {
		b.Fatal(err)
	}
	src := NewFile(hosts, "robot", pw)
	req := credentials.Request{Host: "registry.example.com", Ref: "registry.example.com/team/app:1"}
	ctx := context.Background()
	testprog.Measure(b, func() { _, _ = src.Get(ctx, req) })
}

func BenchmarkStaticLookup1000Patterns(b *testing.B) {
	ps := make([]string, 1000)
	for i := range ps {
		ps[i] = fmt.Sprintf("*.team%d.example.com", i)
	}
	hosts, err := hostmatch.ParsePatterns(ps)
	if err != nil {
		b.Fatal(err)
	}
	src := New(hosts, "robot", "pw")
	// The last pattern matches: the worst case.
	req := credentials.Request{Host: "registry.team999.example.com", Ref: "registry.team999.example.com/app:1"}
	ctx := context.Background()
	testprog.Measure(b, func() {
		if c, _ := src.Get(ctx, req); c.IsZero() {
			b.Fatal("no match")
		}
	})
}
