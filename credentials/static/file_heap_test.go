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
	"strings"
	"testing"
	"time"

	"github.com/nodecred/nodecred/internal/filewatch"
	"github.com/nodecred/nodecred/internal/testprog"
)

// The heap bounds docs/config.md states for one file, at its size bound:
// what reading and parsing it allocates at most (an upper bound on the heap
// a re-read adds while it runs), and what its parse keeps at most.
const (
	mib                       = testprog.MiB
	passwordFileReadHeapBound = 1 * mib
	passwordFileKeptHeapBound = 1 * mib
)

// TestFileHeapBound holds the heap bounds of docs/config.md: a file at its
// size bound, in the costliest shapes found, allocates no more than the
// stated bound while it is read and parsed, and its parse keeps no more
// than the stated bound.
func TestFileHeapBound(t *testing.T) {
	if testing.Short() {
		t.Skip("reads files of up to 64 KiB many times")
	}
	testprog.CheckHeap(t, "password", []string{strings.Repeat("x", MaxPasswordFileSize)}, passwordFileReadHeapBound, passwordFileKeptHeapBound, func(path string) (func() bool, any) {
		f := filewatch.New(path, MaxPasswordFileSize, false, parsePasswordFile)
		f.Wait = time.Hour
		return func() bool { _, ok := f.Load(context.Background()); return ok }, f
	})
}
