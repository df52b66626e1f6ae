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

package kubelet

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nodecred/nodecred/internal/testprog"
)

// The heap bounds docs/config.md states for one file, at its size bound:
// what reading and parsing it allocates at most (an upper bound on the heap
// a re-read adds while it runs), and what its parse keeps at most.
const (
	mib                        = testprog.MiB
	kubeletConfigReadHeapBound = 16 * mib
	kubeletConfigKeptHeapBound = 4 * mib
)

// worstFiles are the shapes of kubelet config that cost the most heap per
// byte that we found: many tiny entries, each a map entry or list element
// with its own allocations.
func worstFiles() []string {
	kubeHead := "apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n- name: p\n  apiVersion: credentialprovider.kubelet.k8s.io/v1\n  defaultCacheDuration: 1m\n  matchImages: [a]\n"
	fill, k := testprog.Fill, maxConfigFileSize
	return []string{
		fill(kubeHead+"  args: [", "a]\n", k, func(i int) string { return "a," }),
		fill(kubeHead+"  args:\n", "", k, func(i int) string { return "  - a\n" }),
		fill(kubeHead+"  env: [", "]\n", k, func(i int) string { return fmt.Sprintf("{name: a%x, value: b},", i) }),
		fill(strings.Replace(kubeHead, "  matchImages: [a]\n", "  matchImages:\n", 1), "", k, func(i int) string { return fmt.Sprintf("  - a%x\n", i) }),
		fill(`{"apiVersion":"kubelet.config.k8s.io/v1","kind":"CredentialProviderConfig","providers":[{"name":"p","apiVersion":"credentialprovider.kubelet.k8s.io/v1","defaultCacheDuration":"1m","matchImages":["a"],"args":[`, `"a"]}]}`, k, func(i int) string { return `"a",` }),
	}
}

// TestFileHeapBound holds the heap bounds of docs/config.md: a file at its
// size bound, in the costliest shapes found, allocates no more than the
// stated bound while it is read and parsed, and its parse keeps no more
// than the stated bound.
func TestFileHeapBound(t *testing.T) {
	if testing.Short() {
		t.Skip("reads files of up to 64 KiB many times")
	}
	testprog.CheckHeap(t, "kubelet", worstFiles(), kubeletConfigReadHeapBound, kubeletConfigKeptHeapBound, func(path string) (func() bool, any) {
		f := newSource(path, filepath.Dir(path), 0).file
		f.Wait = time.Hour
		return func() bool { _, ok := f.Load(context.Background()); return ok }, f
	})
}
