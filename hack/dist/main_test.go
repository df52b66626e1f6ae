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
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// The same files given in any order make the same bytes, sorted, owned by
// 0:0 and dated at the given time, whatever the source files' own times.
func TestWriteTarballIsDeterministic(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "tool")
	if err := os.WriteFile(bin, []byte("\x7fELF binary"), 0o700); err != nil {
		t.Fatal(err)
	}
	date := time.Date(2026, 11, 27, 5, 0, 0, 0, time.UTC)
	files := []file{
		{name: "bin/", mode: 0o755 | fs.ModeDir},
		{name: "bin/tool", mode: 0o755, src: bin},
		{name: "bin/alias", mode: fs.ModeSymlink | 0o777, link: "tool"},
	}
	var outs [][]byte
	for i, order := range [][]int{{0, 1, 2}, {2, 1, 0}} {
		var in []file
		for _, j := range order {
			in = append(in, files[j])
		}
		if i == 1 {
			if err := os.Chtimes(bin, time.Now(), time.Now().Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
		path := filepath.Join(dir, "out.tar.gz")
		sum, err := writeTarball(path, in, date)
		if err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if want := sha256.Sum256(data); !bytes.Equal(sum, want[:]) {
			t.Errorf("returned sum %x, file's %x", sum, want)
		}
		outs = append(outs, data)
	}
	if !bytes.Equal(outs[0], outs[1]) {
		t.Fatal("two writes of the same files differ")
	}

	gz, err := gzip.NewReader(bytes.NewReader(outs[0]))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		if !h.ModTime.Equal(date) || h.Uid != 0 || h.Gid != 0 || h.Uname != "" {
			t.Errorf("%s: time %v, owner %d:%d %q", h.Name, h.ModTime, h.Uid, h.Gid, h.Uname)
		}
		switch h.Name {
		case "bin/tool":
			if h.Mode != 0o755 || h.Typeflag != tar.TypeReg {
				t.Errorf("bin/tool: mode %o type %c", h.Mode, h.Typeflag)
			}
		case "bin/alias":
			if h.Typeflag != tar.TypeSymlink || h.Linkname != "tool" {
				t.Errorf("bin/alias: type %c to %q", h.Typeflag, h.Linkname)
			}
		}
	}
	if want := []string{"bin/", "bin/alias", "bin/tool"}; !slices.Equal(names, want) {
		t.Errorf("entries %v, want %v", names, want)
	}
}

func TestServesHelper(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("main.go", "package main\n\n// docker-credential-nodecred in a comment does not count\nfunc main() {}\n")
	write("main_test.go", "package main\n\nconst name = \"docker-credential-nodecred\"\n")
	if ok, err := servesHelper(dir); err != nil || ok {
		t.Fatalf("without the name in code: %v, %v", ok, err)
	}
	write("helper.go", "package main\n\nconst helperProgram = \"docker-credential-nodecred\"\n")
	if ok, err := servesHelper(dir); err != nil || !ok {
		t.Fatalf("with the name in code: %v, %v", ok, err)
	}
	nested := t.TempDir()
	for _, sub := range []string{"testdata", "credhelper"} {
		if err := os.MkdirAll(filepath.Join(nested, sub), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(nested, sub, "helper.go"), []byte("package credhelper\n\nconst Program = \"docker-credential-nodecred\"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		want := sub != "testdata"
		if ok, err := servesHelper(nested); err != nil || ok != want {
			t.Fatalf("with the name in %s/: %v, %v; want %v", sub, ok, err, want)
		}
	}
	if ok, err := servesHelper(filepath.Join("..", "..", "cmd", "nodecred")); err != nil || !ok {
		t.Errorf("cmd/nodecred serves as %s, but servesHelper says %v, %v", helperName, ok, err)
	}
}
