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
	"testing"
	"time"
)

// WriteAtomic replaces the file at path by renaming a new one over it.
func WriteAtomic(t testing.TB, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	Rename(t, tmp, path)
}

// SymlinkOver replaces path by a symlink to target, renamed over it.
func SymlinkOver(t testing.TB, target, path string) {
	t.Helper()
	tmp := path + ".link"
	if err := os.Symlink(target, tmp); err != nil {
		t.Fatal(err)
	}
	Rename(t, tmp, path)
}

// Rename renames from to to.
func Rename(t testing.TB, from, to string) {
	t.Helper()
	if err := os.Rename(from, to); err != nil {
		t.Fatal(err)
	}
}

// WriteFile writes content to path in place, mode 0600.
func WriteFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// ContainerdConfig writes, in a new temporary directory, a containerd
// config.toml whose CRI registry config_path is hostsDir, with section
// after it, and returns its path.
func ContainerdConfig(t testing.TB, hostsDir, section string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.toml")
	WriteFile(t, p, fmt.Sprintf("version = 3\n[plugins.\"io.containerd.cri.v1.images\".registry]\n  config_path = %q\n%s", hostsDir, section))
	return p
}

// CountLines returns the number of lines in path (0 when missing): the
// test programs write one line per run to their count file.
func CountLines(t testing.TB, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range b {
		if c == '\n' {
			n++
		}
	}
	return n
}

// Guard fails the test instead of hanging it when f does not return: the
// deadline is generous, and only tells a hang from an answer.
func Guard(t testing.TB, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatalf("%s did not return", what)
	}
}
