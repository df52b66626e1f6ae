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
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// Measure runs lookup b.N times, timing each call, and reports the median
// and 99th percentile next to Go's ns/op and allocations.
func Measure(b *testing.B, lookup func()) {
	b.Helper()
	lookup() // warm caches and file state
	durations := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		lookup()
		durations = append(durations, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(durations)
	b.ReportMetric(float64(durations[len(durations)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(durations[len(durations)*99/100].Nanoseconds()), "p99-ns")
}

// MiB is a mebibyte, the unit of the heap bounds.
const MiB = 1 << 20

// Fill returns head, then as many items as fit in limit bytes, then tail.
func Fill(head, tail string, limit int, item func(i int) string) string {
	var b strings.Builder
	b.WriteString(head)
	for i := 0; ; i++ {
		it := item(i)
		if b.Len()+len(it)+len(tail) > limit {
			break
		}
		b.WriteString(it)
	}
	b.WriteString(tail)
	return b.String()
}

// CheckHeap holds a heap bound of docs/config.md for one kind of file:
// each of files, written to a file and loaded once by the function that
// newLoad returns for its path (which reports whether it loaded),
// allocates no more than readBound bytes while it is read and parsed, and
// its parse keeps no more than keptBound. Allocations are counted with
// runtime.MemStats' TotalAlloc, which bounds from above the heap the read
// adds.
func CheckHeap(t *testing.T, kind string, files []string, readBound, keptBound uint64, newLoad func(path string) (load func() bool, keep any)) {
	t.Helper()
	dir := t.TempDir()
	for i, content := range files {
		path := filepath.Join(dir, fmt.Sprintf("%s-%d", kind, i))
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		load, keep := newLoad(path)
		var before, after, kept runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		ok := load()
		runtime.ReadMemStats(&after)
		runtime.GC()
		runtime.ReadMemStats(&kept)
		runtime.KeepAlive(keep) // what the parse kept must still be held when kept is read
		if !ok {
			t.Fatalf("%s shape %d (%d bytes) did not load", kind, i, len(content))
		}
		allocated := after.TotalAlloc - before.TotalAlloc
		held := int64(kept.HeapAlloc) - int64(before.HeapAlloc)
		t.Logf("%s shape %d: %d bytes, %.1f MiB allocated, %.1f MiB kept", kind, i, len(content), float64(allocated)/MiB, float64(held)/MiB)
		if allocated > readBound || held > int64(keptBound) {
			t.Errorf("%s shape %d: %.1f MiB allocated (bound %d MiB), %.1f MiB kept (bound %d MiB)",
				kind, i, float64(allocated)/MiB, readBound/MiB, float64(held)/MiB, keptBound/MiB)
		}
	}
}
