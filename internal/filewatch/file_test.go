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

package filewatch

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestReadAtMostStopsAtTheBound: an endless stream (what /dev/zero gives)
// costs limit+1 bytes, never more.
func TestReadAtMostStopsAtTheBound(t *testing.T) {
	const limit = 100 << 10
	var read countingZero
	data, err := readAtMost(&read, 0, limit)
	var nr *NotReadError
	if !errors.As(err, &nr) || data != nil {
		t.Fatalf("got %d bytes, %v; want a refusal", len(data), err)
	}
	if read.n > limit+1 {
		t.Fatalf("read %d bytes from an endless stream, limit %d", read.n, limit)
	}
	for _, size := range []int{0, 1, 511, 512, 513, limit} {
		got, err := readAtMost(strings.NewReader(strings.Repeat("x", size)), 0, limit)
		if err != nil || len(got) != size {
			t.Errorf("%d bytes: got %d, %v", size, len(got), err)
		}
	}
}

type countingZero struct{ n int }

func (z *countingZero) Read(p []byte) (int, error) {
	clear(p)
	z.n += len(p)
	return len(p), nil
}

var _ io.Reader = (*countingZero)(nil)

func TestCheckFileAtStart(t *testing.T) {
	dir := t.TempDir()
	regular := filepath.Join(dir, "regular")
	writeAtomic(t, regular, "x")
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big")
	writeAtomic(t, big, strings.Repeat("x", 11))
	tests := []struct{ path, want string }{
		{regular, ""},
		{filepath.Join(dir, "missing"), ""},
		{dir, `is a directory, not a regular file`},
		{fifo, `is a FIFO, not a regular file`},
		{"/dev/zero", `"/dev/zero" is a character device, not a regular file`},
		{big, `is 11 bytes, more than the limit of 10`},
	}
	for _, tt := range tests {
		err := CheckAtStart(tt.path, 10)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.path, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: err = %v, want %q", tt.path, err, tt.want)
		}
	}
}

func writeAtomic(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	rename(t, tmp, path)
}

func rename(t *testing.T, from, to string) {
	t.Helper()
	if err := os.Rename(from, to); err != nil {
		t.Fatal(err)
	}
}

// TestSameContentsAreNotParsedAgain: a file rewritten or touched with the
// same contents keeps its value; it is not even parsed again.
func TestSameContentsAreNotParsedAgain(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	writeAtomic(t, path, "one")
	parses := 0
	f := New(path, 1<<10, false, func(b []byte) (string, error) { parses++; return string(b), nil })
	ctx := context.Background()
	for i := range 50 {
		if i%2 == 0 {
			writeAtomic(t, path, "one") // a rename over it: a new inode
		} else {
			when := time.Now().Add(time.Duration(i) * time.Second)
			if err := os.Chtimes(path, when, when); err != nil { // a touch
				t.Fatal(err)
			}
		}
		if v, ok := f.Load(ctx); !ok || v != "one" {
			t.Fatalf("rewrite %d: %q, %v", i, v, ok)
		}
	}
	if parses != 1 {
		t.Fatalf("parsed %d times for 50 rewrites of the same contents, want 1", parses)
	}
	writeAtomic(t, path, "two")
	if v, _ := f.Load(ctx); v != "two" || parses != 2 {
		t.Fatalf("a change: %q after %d parses, want two after 2", v, parses)
	}
}
