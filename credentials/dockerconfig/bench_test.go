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

package dockerconfig

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/nodecred/nodecred/credentials"
	"github.com/nodecred/nodecred/internal/testprog"
)

// dockerConfig10k is a docker config with 10 000 hosts, registryN.example.com
// with userN:passwordN.
func dockerConfig10k() []byte {
	var sb strings.Builder
	sb.WriteString(`{"auths": {`)
	for i := range 10_000 {
		if i > 0 {
			sb.WriteString(",")
		}
		fmt.Fprintf(&sb, `"registry%d.example.com": {"auth": "%s"}`, i, b64(fmt.Sprintf("user%d:password%d", i, i)))
	}
	sb.WriteString("}}")
	return []byte(sb.String())
}

func BenchmarkDockerConfigLookup10kHosts(b *testing.B) {
	path := filepath.Join(b.TempDir(), "config.json")
	if err := os.WriteFile(path, dockerConfig10k(), 0o600); err != nil {
		b.Fatal(err)
	}
	src := New(path, 0)
	req := credentials.Request{Host: "registry7777.example.com", Ref: "registry7777.example.com/team/app:1"}
	ctx := context.Background()
	testprog.Measure(b, func() {
		if c, _ := src.Get(ctx, req); c.Username != "user7777" {
			b.Fatal("wrong credential")
		}
	})
}

// BenchmarkDockerConfigHeap10kHosts reports the heap a parsed docker config
// with 10 000 host entries holds.
func BenchmarkDockerConfigHeap10kHosts(b *testing.B) {
	data := dockerConfig10k()
	var held []Config
	for range b.N {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		cfg, err := Parse(data)
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		held = append(held[:0], cfg)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "heap-MiB")
	}
	runtime.KeepAlive(held)
}
