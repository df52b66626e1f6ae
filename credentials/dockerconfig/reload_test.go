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
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nodecred/nodecred/credentials"
	"github.com/nodecred/nodecred/internal/filewatch"
)

func auths(user, pass string) string {
	return `{"auths": {"r.example.com": {"auth": "` + b64(user+":"+pass) + `"}}}`
}

func lookupUser(t *testing.T, ctx context.Context, src credentials.Source) string {
	t.Helper()
	c, err := src.Get(ctx, credentials.Request{Host: "r.example.com", Ref: "r.example.com/app:1"})
	if err != nil {
		t.Fatal(err)
	}
	return c.Username
}

func TestReloadAfterRenameOver(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "auth.json")
	writeAtomic(t, path, auths("first", "p1"))
	src := New(path, 0)
	ctx := context.Background()
	if got := lookupUser(t, ctx, src); got != "first" {
		t.Fatalf("got %q, want first", got)
	}
	// Same size and, on coarse clocks, the same mtime: the inode tells.
	writeAtomic(t, path, auths("secnd", "p2"))
	if got := lookupUser(t, ctx, src); got != "secnd" {
		t.Fatalf("after rename over: got %q, want secnd", got)
	}
}

// TestDeleteRevokes: a deleted file means no credentials from it, as with
// docker and the kubelet; recreating it serves again.
func TestDeleteRevokes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "auth.json")
	writeAtomic(t, path, auths("first", "p1"))
	src := New(path, 0)
	ctx, logs := capturedLog(t)
	if got := lookupUser(t, ctx, src); got != "first" {
		t.Fatalf("got %q, want first", got)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if got := lookupUser(t, ctx, src); got != "" {
			t.Fatalf("while deleted: got %q, want no credentials", got)
		}
	}
	if n := strings.Count(logs.String(), "credential file is missing"); n != 1 {
		t.Errorf("missing-file warnings = %d, want 1; log:\n%s", n, logs)
	}
	if !strings.Contains(logs.String(), "revoked=true") {
		t.Errorf("the warning does not say credentials were revoked; log:\n%s", logs)
	}
	if err := os.WriteFile(path, []byte(auths("third", "p3")), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := lookupUser(t, ctx, src); got != "third" {
		t.Fatalf("after recreate: got %q, want third", got)
	}
}

func TestMalformedEditKeepsLastGoodAndWarnsOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "auth.json")
	writeAtomic(t, path, auths("first", "p1"))
	src := New(path, 0)
	ctx, logs := capturedLog(t)
	lookupUser(t, ctx, src)
	writeAtomic(t, path, `{"auths": {"r.example.com": {"auth": "secret-half-writ`)
	for range 3 {
		if got := lookupUser(t, ctx, src); got != "first" {
			t.Fatalf("after malformed edit: got %q, want the last good first", got)
		}
	}
	if n := strings.Count(logs.String(), "cannot parse credential file"); n != 1 {
		t.Errorf("parse warnings = %d, want 1; log:\n%s", n, logs)
	}
	if strings.Contains(logs.String(), "secret-half-writ") {
		t.Errorf("log carries file contents:\n%s", logs)
	}
}

func TestUnreadableFileKeepsLastGood(t *testing.T) {
	path := filepath.Join(t.TempDir(), "auth.json")
	writeAtomic(t, path, auths("first", "p1"))
	src := New(path, 0)
	ctx, logs := capturedLog(t)
	lookupUser(t, ctx, src)
	// As a mode of 0 does for anyone but root.
	src.file.Open = func(path string) (*os.File, error) {
		return nil, &fs.PathError{Op: "open", Path: path, Err: syscall.EACCES}
	}
	writeAtomic(t, path, auths("secnd", "p2"))
	if got := lookupUser(t, ctx, src); got != "first" {
		t.Fatalf("unreadable: got %q, want the last good first", got)
	}
	if !strings.Contains(logs.String(), `cannot read credential file, keeping the last good contents" error="permission denied"`) {
		t.Errorf("no warning; log:\n%s", logs)
	}
}

func TestMissingAtStartIsNotFoundAndWarns(t *testing.T) {
	src := New(filepath.Join(t.TempDir(), "later.json"), 0)
	ctx, logs := capturedLog(t)
	if got := lookupUser(t, ctx, src); got != "" {
		t.Fatalf("got %q from a missing file", got)
	}
	if !strings.Contains(logs.String(), "credential file is missing") {
		t.Errorf("no warning; log:\n%s", logs)
	}
}

func TestSecretFileModeWarning(t *testing.T) {
	path := filepath.Join(t.TempDir(), "auth.json")
	if err := os.WriteFile(path, []byte(auths("u", "p")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, logs := capturedLog(t)
	lookupUser(t, ctx, New(path, 0))
	if !strings.Contains(logs.String(), "readable by group or others") {
		t.Errorf("no warning for a 0644 secret file; log:\n%s", logs)
	}
}

// hostile puts something that is not a regular file of bounded size at a
// path, as an attacker or a careless operator would.
type hostile struct {
	name   string
	reason string // in the warning
	make   func(t *testing.T, path string)
}

func hostileFiles() []hostile {
	return []hostile{
		{"FIFO without a writer", "is a FIFO, not a regular file", func(t *testing.T, path string) {
			tmp := path + ".fifo"
			if err := syscall.Mkfifo(tmp, 0o600); err != nil {
				t.Fatal(err)
			}
			rename(t, tmp, path)
		}},
		{"symlink to /dev/zero", "is a character device, not a regular file", func(t *testing.T, path string) {
			symlinkOver(t, "/dev/zero", path)
		}},
		{"directory", "is a directory, not a regular file", func(t *testing.T, path string) {
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			if err := os.Mkdir(path, 0o700); err != nil {
				t.Fatal(err)
			}
		}},
		{"unix socket", "is a socket, not a regular file", func(t *testing.T, path string) {
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			l, err := net.Listen("unix", path)
			if err != nil {
				t.Skip("no unix sockets here:", err)
			}
			t.Cleanup(func() { l.Close() })
		}},
		{"file over the size bound", fmt.Sprintf("is %d bytes, more than the limit of %d", MaxFileSize+1, MaxFileSize), func(t *testing.T, path string) {
			// Valid JSON, so only the size can refuse it.
			big := `{"auths": {}, "x": "` + strings.Repeat("a", MaxFileSize+1-len(`{"auths": {}, "x": ""}`)) + `"}`
			writeAtomic(t, path, big)
		}},
	}
}

// TestHostileFilesKeepLastGoodAndNeverBlock: a FIFO, a device, a
// directory, a socket or a file over the bound is not read. The last good
// contents keep serving, the change is logged once with the path and the
// reason, no lookup blocks, and a regular file put back serves again.
func TestHostileFilesKeepLastGoodAndNeverBlock(t *testing.T) {
	for _, h := range hostileFiles() {
		t.Run(h.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "auth.json")
			writeAtomic(t, path, auths("first", "p1"))
			src := New(path, 0)
			ctx, logs := capturedLog(t)
			if got := lookupUser(t, ctx, src); got != "first" {
				t.Fatalf("got %q, want first", got)
			}
			h.make(t, path)
			guard(t, "a lookup", func() {
				for range 3 {
					if got := lookupUser(t, ctx, src); got != "first" {
						t.Errorf("got %q, want the last good first", got)
					}
				}
			})
			if n := strings.Count(logs.String(), h.reason); n != 1 {
				t.Errorf("warnings naming %q = %d, want 1; log:\n%s", h.reason, n, logs)
			}
			if !strings.Contains(logs.String(), "path="+path) {
				t.Errorf("the warning does not name the path; log:\n%s", logs)
			}
			os.RemoveAll(path)
			writeAtomic(t, path, auths("again", "p2"))
			if got := lookupUser(t, ctx, src); got != "again" {
				t.Fatalf("regular file put back: got %q, want again", got)
			}
		})
	}
}

// TestRotationWithoutGap: the rotations a secret syncer and the kubelet do
// never leave a lookup without credentials. Lookups run all through each
// rotation; every answer is the old or the new credential.
func TestRotationWithoutGap(t *testing.T) {
	t.Run("rename over", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "auth.json")
		writeAtomic(t, path, auths("user0", "p"))
		checkNoGap(t, path, func(i int) { writeAtomic(t, path, auths(fmt.Sprintf("user%d", i), "p")) })
	})
	t.Run("kubelet ..data symlink swap", func(t *testing.T) {
		dir := t.TempDir()
		secret := projectedVolume(t, dir)
		secret.write(t, auths("user0", "p"))
		checkNoGap(t, filepath.Join(dir, "auth.json"), func(i int) { secret.write(t, auths(fmt.Sprintf("user%d", i), "p")) })
	})
}

// checkNoGap rotates the file at path 50 times with rotate while lookups
// run, and fails if a lookup finds no credential.
func checkNoGap(t *testing.T, path string, rotate func(i int)) {
	t.Helper()
	src := New(path, 0)
	ctx, logs := capturedLog(t)
	var stop atomic.Bool
	var lookups, gaps atomic.Int64
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				c, err := src.Get(ctx, credentials.Request{Host: "r.example.com", Ref: "r.example.com/app:1"})
				lookups.Add(1)
				if err != nil || c.IsZero() {
					gaps.Add(1)
				}
			}
		}()
	}
	for i := 1; i <= 50; i++ {
		rotate(i)
		for n := lookups.Load(); lookups.Load() < n+2; {
			// let lookups see each state of the rotation
		}
	}
	stop.Store(true)
	wg.Wait()
	if gaps.Load() > 0 {
		t.Fatalf("%d of %d lookups found no credential during rotation; log:\n%s", gaps.Load(), lookups.Load(), logs)
	}
	if got := lookupUser(t, context.Background(), src); got != "user50" {
		t.Fatalf("after rotation: got %q, want user50", got)
	}
	for _, bad := range []string{"credential file is missing", "cannot read credential file", "cannot parse credential file", "credential file not read"} {
		if strings.Contains(logs.String(), bad) {
			t.Errorf("rotation logged %q:\n%s", bad, logs)
		}
	}
}

// projected is a directory laid out as the kubelet lays out a secret
// volume (pkg/volume/util/atomic_writer.go): the file is a symlink to
// ..data/NAME, ..data a symlink to a timestamped directory, and an update
// writes a new directory and renames a new ..data symlink over the old one.
type projected struct {
	dir string
	n   int
}

func projectedVolume(t *testing.T, dir string) *projected {
	t.Helper()
	if err := os.Symlink(filepath.Join("..data", "auth.json"), filepath.Join(dir, "auth.json")); err != nil {
		t.Fatal(err)
	}
	return &projected{dir: dir}
}

func (p *projected) write(t *testing.T, content string) {
	t.Helper()
	p.n++
	ts := fmt.Sprintf("..2026_11_27_00_00_%02d.%d", p.n%60, p.n)
	if err := os.Mkdir(filepath.Join(p.dir, ts), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(p.dir, ts, "auth.json"), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	old, _ := os.Readlink(filepath.Join(p.dir, "..data"))
	if err := os.Symlink(ts, filepath.Join(p.dir, "..data_tmp")); err != nil {
		t.Fatal(err)
	}
	rename(t, filepath.Join(p.dir, "..data_tmp"), filepath.Join(p.dir, "..data"))
	if old != "" {
		if err := os.RemoveAll(filepath.Join(p.dir, old)); err != nil {
			t.Fatal(err)
		}
	}
}

// TestInPlaceTruncateKeepsLastGood: a writer that truncates and then
// writes (a shell's >) shows an empty file for a moment; it keeps the last
// good contents instead of revoking.
func TestInPlaceTruncateKeepsLastGood(t *testing.T) {
	path := filepath.Join(t.TempDir(), "auth.json")
	writeAtomic(t, path, auths("first", "p1"))
	src := New(path, 0)
	ctx := context.Background()
	lookupUser(t, ctx, src)
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	if got := lookupUser(t, ctx, src); got != "first" {
		t.Fatalf("truncated: got %q, want the last good first", got)
	}
}

// TestSlowReadBlocksNoOtherLookup holds a read open, as a stuck network
// file system would: lookups of other hosts and of other sources answer
// at once with what they have, so no lock is held while reading; a lookup
// whose context ends stops waiting; the read, once it returns, serves.
func TestSlowReadBlocksNoOtherLookup(t *testing.T) {
	dir := t.TempDir()
	slowPath := filepath.Join(dir, "slow.json")
	writeAtomic(t, slowPath, `{"auths": {"a.example.com": {"auth": "`+b64("a1:p")+`"}, "b.example.com": {"auth": "`+b64("b1:p")+`"}}}`)
	slow := New(slowPath, 0)
	otherPath := filepath.Join(dir, "other.json")
	writeAtomic(t, otherPath, `{"auths": {"c.example.com": {"auth": "`+b64("c1:p")+`"}}}`)
	chain := credentials.Chain{{Name: "slow", Source: slow}, {Name: "other", Source: New(otherPath, 0)}}
	ctx := context.Background()
	get := func(ctx context.Context, host string) string {
		c, _ := chain.Get(ctx, credentials.Request{Host: host, Ref: host + "/app:1"})
		return c.Username
	}
	if get(ctx, "a.example.com") != "a1" || get(ctx, "c.example.com") != "c1" {
		t.Fatal("not served before the test")
	}

	// hold makes the next read stop in open until release is closed, and
	// returns the read once it is in flight.
	hold := func() (entered, release chan struct{}) {
		entered, release = make(chan struct{}), make(chan struct{})
		slow.file.Open = func(path string) (*os.File, error) {
			close(entered)
			<-release
			return filewatch.OpenForRead(path)
		}
		return entered, release
	}
	version := func(n int) string {
		return fmt.Sprintf(`{"auths": {"a.example.com": {"auth": "%s"}, "b.example.com": {"auth": "%s"}}}`, b64(fmt.Sprintf("a%d:p", n)), b64(fmt.Sprintf("b%d:p", n)))
	}

	// No lookup waits (wait 0): each serves what it has while the read is stuck.
	entered, release := hold()
	slow.file.Wait = 0
	writeAtomic(t, slowPath, version(2))
	guard(t, "lookups during a stuck read", func() {
		if got := get(ctx, "a.example.com"); got != "a1" {
			t.Errorf("a.example.com: got %q, want the last good a1", got)
		}
		<-entered
		if got := get(ctx, "b.example.com"); got != "b1" {
			t.Errorf("another host of the same source: got %q, want the last good b1", got)
		}
		if got := get(ctx, "c.example.com"); got != "c1" {
			t.Errorf("another source: got %q, want c1", got)
		}
	})
	close(release)
	// Lookups do not wait for this read (its wait is 0): they serve a1
	// until it returns, then a2.
	guard(t, "the read", func() {
		got := get(ctx, "a.example.com")
		for got == "a1" {
			time.Sleep(time.Millisecond)
			got = get(ctx, "a.example.com")
		}
		if got != "a2" {
			t.Errorf("after the read returned: got %q, want a2", got)
		}
	})

	// A lookup that would wait an hour stops when its context ends.
	entered, release = hold()
	slow.file.Wait = time.Hour
	writeAtomic(t, slowPath, version(3))
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	guard(t, "a cancelled lookup during a stuck read", func() {
		if got := get(cctx, "b.example.com"); got != "b2" {
			t.Errorf("cancelled lookup: got %q, want the last good b2", got)
		}
	})
	<-entered
	close(release)
	// This lookup waits for the read the cancelled one started.
	guard(t, "the read", func() {
		if got := get(ctx, "b.example.com"); got != "b3" {
			t.Errorf("after the read returned: got %q, want b3", got)
		}
	})
}
