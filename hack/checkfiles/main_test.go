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

package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestProblem(t *testing.T) {
	pe := make([]byte, 0x90)
	copy(pe, "MZ")
	pe[0x3c] = 0x80
	copy(pe[0x80:], "PE\x00\x00")
	for _, tc := range []struct {
		name string
		e    entry
		want string // part of the problem; "" for none
	}{
		{"go source", entry{mode: "100644", size: 2000, head: []byte("package main\n")}, ""},
		{"shell script", entry{mode: "100755", size: 300, head: []byte("#!/bin/sh\necho hi\n")}, ""},
		{"exactly 1 MiB", entry{mode: "100644", size: maxSize, head: []byte("a")}, ""},
		{"over 1 MiB", entry{mode: "100644", size: maxSize + 1, head: []byte("a")}, "over the 1048576-byte limit"},
		{"ELF, not executable", entry{mode: "100644", size: 5000, head: []byte("\x7fELF\x02\x01\x01")}, "ELF"},
		{"PE", entry{mode: "100644", size: 5000, head: pe}, "Windows (PE)"},
		{"text starting MZ", entry{mode: "100644", size: 20, head: []byte("MZ is a text file\n")}, ""},
		{"Mach-O 64", entry{mode: "100755", size: 5000, head: []byte("\xcf\xfa\xed\xfe\x07")}, "Mach-O"},
		{"wasm", entry{mode: "100644", size: 50, head: []byte("\x00asm\x01\x00\x00\x00")}, "WebAssembly"},
		{"Go archive", entry{mode: "100644", size: 50, head: []byte("!<arch>\n__.PKGDEF")}, "archive"},
		{"executable with NUL bytes", entry{mode: "100755", size: 50, head: []byte("#!\x00\x01\x02")}, "executable binary"},
		{"binary data, not executable", entry{mode: "100644", size: 50, head: []byte("\x89PNG\r\n\x1a\n\x00")}, ""},
		{"symlink", entry{mode: "120000", size: 8, head: []byte("nodecred")}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := problem(tc.e)
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Errorf("problem = %q, want %q", got, tc.want)
			}
		})
	}
}

// gitIn returns a function that runs git in dir and fails t if it fails.
func gitIn(t *testing.T, dir string) func(args ...string) {
	return func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@example.com"}, args...)...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
}

// In a real repository: the staged content is what counts, including a
// large file, an executable copied in and a file that is only staged.
func TestStagedRepository(t *testing.T) {
	dir := t.TempDir()
	git := gitIn(t, dir)
	write := func(name string, data []byte, mode os.FileMode) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, mode); err != nil {
			t.Fatal(err)
		}
	}
	self, err := os.ReadFile(os.Args[0]) // this test binary: a real executable
	if err != nil {
		t.Fatal(err)
	}
	git("init", "-q")
	write("README.md", []byte("# hello\n"), 0o644)
	write("run.sh", []byte("#!/bin/sh\ntrue\n"), 0o755)
	write("big.txt", bytes.Repeat([]byte("0123456789abcdef\n"), maxSize/17+1), 0o644)
	write("containerd", self, 0o755)
	if err := os.Symlink("run.sh", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	git("add", ".")
	git("commit", "-q", "-m", "x")
	write("README.md", self, 0o644) // changed in the work tree only: not staged
	entries, err := staged(dir)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, e := range entries {
		got[e.path] = problem(e)
	}
	if len(got) != 5 {
		t.Fatalf("entries = %v, want 5", got)
	}
	for path, want := range map[string]string{"README.md": "", "run.sh": "", "link": "", "big.txt": "over the", "containerd": "ELF"} {
		if (want == "") != (got[path] == "") || !strings.Contains(got[path], want) {
			t.Errorf("%s: problem %q, want %q", path, got[path], want)
		}
	}

	git("rm", "-q", "--cached", "containerd", "big.txt")
	entries, err = staged(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if p := problem(e); p != "" {
			t.Errorf("after git rm --cached: %s: %s", e.path, p)
		}
	}
}
