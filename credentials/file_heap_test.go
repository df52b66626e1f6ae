package credentials

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/nodecred/nodecred/internal/filewatch"
)

// The heap bounds docs/config.md states for one file, at its size bound:
// what reading and parsing it allocates at most (an upper bound on the heap
// a re-read adds while it runs), and what its parse keeps at most.
const (
	mib                        = 1 << 20
	dockerConfigReadHeapBound  = 48 * mib
	dockerConfigKeptHeapBound  = 12 * mib
	kubeletConfigReadHeapBound = 16 * mib
	kubeletConfigKeptHeapBound = 4 * mib
	passwordFileReadHeapBound  = 1 * mib
	passwordFileKeptHeapBound  = 1 * mib
)

// fill returns head, then as many items as fit in limit bytes, then tail.
func fill(head, tail string, limit int, item func(i int) string) string {
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

// worstFiles are, per kind of file, the shapes that cost the most heap per
// byte that we found: many tiny entries, each a map entry or list element
// with its own allocations.
func worstFiles() map[string][]string {
	kubeHead := "apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n- name: p\n  apiVersion: credentialprovider.kubelet.k8s.io/v1\n  defaultCacheDuration: 1m\n  matchImages: [a]\n"
	d, k := maxDockerConfigSize, maxKubeletConfigSize
	return map[string][]string{
		"dockerconfig": {
			fill(`{"auths":{`, `"z":{}}}`, d, func(i int) string { return fmt.Sprintf(`"%x":{"auth":"dTpw"},`, i) }),
			fill(`{"auths":{`, `"z":{}}}`, d, func(i int) string { return fmt.Sprintf(`"a/%x":{"auth":"dTpw"},`, i) }),
			fill(`{"auths":{`, `"z":{}}}`, d, func(i int) string { return fmt.Sprintf(`"%x":{"username":"u","password":"p"},`, i) }),
			fill(`{"credHelpers":{`, `"z":"a"}}`, d, func(i int) string { return fmt.Sprintf(`"%x":"a",`, i) }),
			fill(`{"auths":{"r":{"auth":"`, `"}}}`, d, func(i int) string { return "dTpw" }),
			fill(`{"x":[`, `0]}`, d, func(i int) string { return `0,` }),
		},
		"kubelet": {
			fill(kubeHead+"  args: [", "a]\n", k, func(i int) string { return "a," }),
			fill(kubeHead+"  args:\n", "", k, func(i int) string { return "  - a\n" }),
			fill(kubeHead+"  env: [", "]\n", k, func(i int) string { return fmt.Sprintf("{name: a%x, value: b},", i) }),
			fill(strings.Replace(kubeHead, "  matchImages: [a]\n", "  matchImages:\n", 1), "", k, func(i int) string { return fmt.Sprintf("  - a%x\n", i) }),
			fill(`{"apiVersion":"kubelet.config.k8s.io/v1","kind":"CredentialProviderConfig","providers":[{"name":"p","apiVersion":"credentialprovider.kubelet.k8s.io/v1","defaultCacheDuration":"1m","matchImages":["a"],"args":[`, `"a"]}]}`, k, func(i int) string { return `"a",` }),
		},
		"password": {strings.Repeat("x", maxPasswordFileSize)},
	}
}

var heapSink any

// TestFileHeapBound holds the heap bounds of docs/config.md: a file at its
// size bound, in the costliest shapes found, allocates no more than the
// stated bound while it is read and parsed, and its parse keeps no more
// than the stated bound. Allocations are counted with runtime.MemStats'
// TotalAlloc, which bounds from above the heap the read adds.
func TestFileHeapBound(t *testing.T) {
	if testing.Short() {
		t.Skip("reads files of up to 1 MiB many times")
	}
	bounds := map[string][2]uint64{
		"dockerconfig": {dockerConfigReadHeapBound, dockerConfigKeptHeapBound},
		"kubelet":      {kubeletConfigReadHeapBound, kubeletConfigKeptHeapBound},
		"password":     {passwordFileReadHeapBound, passwordFileKeptHeapBound},
	}
	dir := t.TempDir()
	for kind, files := range worstFiles() {
		for i, content := range files {
			path := filepath.Join(dir, fmt.Sprintf("%s-%d", kind, i))
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			var load func() bool
			switch kind {
			case "dockerconfig":
				f := filewatch.New(path, maxDockerConfigSize, false, ParseDockerConfig)
				f.Wait = time.Hour // however busy the machine
				load = func() bool { heapSink = f; _, ok := f.Load(context.Background()); return ok }
			case "kubelet":
				f := newKubeletSource(path, dir, 0).file
				f.Wait = time.Hour
				load = func() bool { heapSink = f; _, ok := f.Load(context.Background()); return ok }
			case "password":
				f := filewatch.New(path, maxPasswordFileSize, false, parsePasswordFile)
				f.Wait = time.Hour
				load = func() bool { heapSink = f; _, ok := f.Load(context.Background()); return ok }
			}
			var before, after, kept runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			ok := load()
			runtime.ReadMemStats(&after)
			runtime.GC()
			runtime.ReadMemStats(&kept)
			heapSink = nil
			if !ok {
				t.Fatalf("%s shape %d (%d bytes) did not load", kind, i, len(content))
			}
			allocated := after.TotalAlloc - before.TotalAlloc
			held := int64(kept.HeapAlloc) - int64(before.HeapAlloc)
			t.Logf("%s shape %d: %d bytes, %.1f MiB allocated, %.1f MiB kept", kind, i, len(content), float64(allocated)/mib, float64(held)/mib)
			if b := bounds[kind]; allocated > b[0] || held > int64(b[1]) {
				t.Errorf("%s shape %d: %.1f MiB allocated (bound %d MiB), %.1f MiB kept (bound %d MiB)",
					kind, i, float64(allocated)/mib, b[0]/mib, float64(held)/mib, b[1]/mib)
			}
		}
	}
}
