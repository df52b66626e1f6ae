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
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/nodecred/nodecred/credentials"
	"github.com/nodecred/nodecred/internal/hostmatch"
)

// TestDeleteRevokesEverySource: the password file revokes too (the kubelet
// config: kubelet.TestDeleteRevokesEverySource).
func TestDeleteRevokesEverySource(t *testing.T) {
	hosts, _ := hostmatch.ParsePatterns([]string{"r.example.com"})
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte("hunter2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	static := NewFile(hosts, "robot", pw)
	ctx := context.Background()
	if got := lookupUser(t, ctx, static); got != "robot" {
		t.Fatalf("static: got %q", got)
	}
	if err := os.Remove(pw); err != nil {
		t.Fatal(err)
	}
	if got := lookupUser(t, ctx, static); got != "" {
		t.Fatalf("static with its password file deleted: got %q, want no credentials", got)
	}
}

// TestHostilePasswordFiles: the same for a static source's password file,
// whose bound is smaller.
func TestHostilePasswordFiles(t *testing.T) {
	hosts, _ := hostmatch.ParsePatterns([]string{"r.example.com"})
	for _, name := range []string{"FIFO", "/dev/zero", "too large"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "pw")
			writeAtomic(t, path, "hunter2\n")
			src := NewFile(hosts, "robot", path)
			ctx, logs := capturedLog(t)
			lookupUser(t, ctx, src)
			switch name {
			case "FIFO":
				os.Remove(path)
				if err := syscall.Mkfifo(path, 0o600); err != nil {
					t.Fatal(err)
				}
			case "/dev/zero":
				symlinkOver(t, "/dev/zero", path)
			case "too large":
				writeAtomic(t, path, strings.Repeat("x", MaxPasswordFileSize+1))
			}
			guard(t, "a lookup", func() {
				c, err := src.Get(ctx, credentials.Request{Host: "r.example.com"})
				if err != nil || c.Password.Reveal() != "hunter2" {
					t.Errorf("got %v, %v; want the last good password", c.Username, err)
				}
			})
			if !strings.Contains(logs.String(), "credential file not read") {
				t.Errorf("no warning; log:\n%s", logs)
			}
		})
	}
}
