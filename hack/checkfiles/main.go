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

// Command checkfiles fails when git tracks a file over 1 MiB or an
// executable binary (a build output committed by mistake), a Go file
// without the Apache 2.0 licence header, or a package or exported name
// without a doc comment (listed as file:line). It reads what is staged,
// the content the next commit records, for every tracked path:
//
//	go run ./hack/checkfiles
//
// With -fix it first adds the licence header to the tracked Go files in
// the work tree that lack it (after their build constraints), then checks.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// maxSize is the largest file the repository takes.
const maxSize = 1 << 20

// sniffLen is how much of a file is looked at for binary content, as git
// itself decides whether a file is binary.
const sniffLen = 8000

// magics are the leading bytes of executable and object formats.
var magics = []struct {
	prefix string
	name   string
}{
	{"\x7fELF", "an ELF executable or object"},
	{"\xfe\xed\xfa\xce", "a Mach-O executable"},
	{"\xfe\xed\xfa\xcf", "a Mach-O executable"},
	{"\xce\xfa\xed\xfe", "a Mach-O executable"},
	{"\xcf\xfa\xed\xfe", "a Mach-O executable"},
	{"\xca\xfe\xba\xbe", "a universal Mach-O executable"},
	{"\x00asm", "a WebAssembly module"},
	{"!<arch>\n", "an object archive"},
}

// entry is one tracked file: its mode as git records it (100644, 100755,
// 120000 for a symlink), its size and its first sniffLen bytes; for a Go
// file, body is its whole content.
type entry struct {
	path string
	mode string
	size int64
	head []byte
	body []byte
}

// problem says what is wrong with e, or "".
func problem(e entry) string {
	if e.mode == "120000" { // a symlink: its content is the target's name
		return ""
	}
	if isPE(e.head) {
		return "a Windows (PE) executable"
	}
	for _, m := range magics {
		if bytes.HasPrefix(e.head, []byte(m.prefix)) {
			return m.name
		}
	}
	if e.mode == "100755" && bytes.IndexByte(e.head, 0) >= 0 {
		return "an executable binary"
	}
	if e.size > maxSize {
		return fmt.Sprintf("%d bytes, over the %d-byte limit", e.size, maxSize)
	}
	return ""
}

// isPE reports a DOS header whose e_lfanew points at a PE signature; "MZ"
// alone is too common a start for a text file.
func isPE(b []byte) bool {
	if len(b) < 0x40 || string(b[:2]) != "MZ" {
		return false
	}
	off := int(b[0x3c]) | int(b[0x3d])<<8 | int(b[0x3e])<<16 | int(b[0x3f])<<24
	return off >= 0 && off+4 <= len(b) && string(b[off:off+4]) == "PE\x00\x00"
}

func main() {
	fix := flag.Bool("fix", false, "add the licence header to the tracked Go files in the work tree that lack it, then check")
	flag.Parse()
	if *fix {
		if err := fixLicences("."); err != nil {
			fmt.Fprintln(os.Stderr, "checkfiles:", err)
			os.Exit(2)
		}
	}
	entries, err := staged(".")
	if err != nil {
		fmt.Fprintln(os.Stderr, "checkfiles:", err)
		os.Exit(2)
	}
	failed := false
	bad := 0
	for _, e := range entries {
		if p := problem(e); p != "" {
			fmt.Fprintf(os.Stderr, "%s: %s; build outputs belong in bin/ or dist/, which git ignores\n", e.path, p)
			bad++
		}
	}
	if bad > 0 {
		fmt.Fprintf(os.Stderr, "checkfiles: %d tracked file(s) refused (git rm --cached them)\n", bad)
		failed = true
	}
	var sources []goFile
	unlicensed := 0
	for _, e := range entries {
		if e.body == nil {
			continue
		}
		sources = append(sources, goFile{e.path, e.body})
		if p := licenceProblem(e.body); p != "" {
			fmt.Fprintf(os.Stderr, "%s: %s\n", e.path, p)
			unlicensed++
		}
	}
	if unlicensed > 0 {
		fmt.Fprintf(os.Stderr, "checkfiles: %d Go file(s) without the licence header\n", unlicensed)
		failed = true
	}
	undoc, err := undocumented(sources)
	if err != nil {
		fmt.Fprintln(os.Stderr, "checkfiles:", err)
		os.Exit(2)
	}
	for _, u := range undoc {
		fmt.Fprintln(os.Stderr, u)
	}
	if len(undoc) > 0 {
		fmt.Fprintf(os.Stderr, "checkfiles: %d missing doc comment(s): say what each is for\n", len(undoc))
		failed = true
	}
	if failed {
		os.Exit(1)
	}
}

// isGo reports a Go source file, which the licence and doc comment checks
// read.
func isGo(path, mode string) bool {
	return strings.HasSuffix(path, ".go") && mode != "120000"
}

// fixLicences adds the licence header to every tracked Go file under dir,
// as it is in the work tree, that lacks it, and names each file changed.
func fixLicences(dir string) error {
	cmd := exec.Command("git", "ls-files", "-z", "--", "*.go")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("git ls-files: %w", err)
	}
	for _, p := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		if p == "" {
			continue
		}
		name := filepath.Join(dir, p)
		info, err := os.Lstat(name)
		if err != nil || !info.Mode().IsRegular() {
			continue // deleted in the work tree, or a symlink
		}
		src, err := os.ReadFile(name)
		if err != nil {
			return err
		}
		if fixed, changed := addLicence(src); changed {
			if err := os.WriteFile(name, fixed, info.Mode().Perm()); err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "%s: licence header added (git add it: the check reads what is staged)\n", p)
		}
	}
	return nil
}

// staged lists every tracked path in the repository at dir with the mode,
// size and leading bytes of its staged content, read through one git
// cat-file process. Submodules are left out: they have no content here.
func staged(dir string) ([]entry, error) {
	git := func(args ...string) *exec.Cmd {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		return cmd
	}
	out, err := git("ls-files", "--stage", "-z").Output()
	if err != nil {
		return nil, fmt.Errorf("git ls-files: %w", err)
	}
	var entries []entry
	var ids bytes.Buffer
	for _, rec := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		if rec == "" {
			continue
		}
		// <mode> <object> <stage>\t<path>
		meta, path, ok := strings.Cut(rec, "\t")
		f := strings.Fields(meta)
		if !ok || len(f) != 3 {
			return nil, fmt.Errorf("git ls-files: unexpected line %q", rec)
		}
		if f[0] == "160000" {
			continue
		}
		entries = append(entries, entry{path: path, mode: f[0]})
		ids.WriteString(f[1] + "\n")
	}
	cmd := git("cat-file", "--batch")
	cmd.Stdin = &ids
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	r := bufio.NewReader(stdout)
	for i := range entries {
		header, err := r.ReadString('\n')
		if err != nil {
			return nil, fmt.Errorf("git cat-file: %w", err)
		}
		// <object> <type> <size>
		f := strings.Fields(header)
		if len(f) != 3 {
			return nil, fmt.Errorf("git cat-file: %s: %q", entries[i].path, header)
		}
		size, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil {
			return nil, err
		}
		entries[i].size = size
		n := min(size, sniffLen)
		if isGo(entries[i].path, entries[i].mode) {
			n = size
		}
		data := make([]byte, n)
		if _, err := io.ReadFull(r, data); err != nil {
			return nil, fmt.Errorf("git cat-file: %s: %w", entries[i].path, err)
		}
		entries[i].head = data[:min(n, sniffLen)]
		if isGo(entries[i].path, entries[i].mode) {
			entries[i].body = data
		}
		// The rest of the content, and the newline cat-file adds.
		if _, err := io.CopyN(io.Discard, r, size-n+1); err != nil {
			return nil, fmt.Errorf("git cat-file: %s: %w", entries[i].path, err)
		}
	}
	return entries, cmd.Wait()
}
