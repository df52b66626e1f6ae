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

// Command dist builds nodecred's release: for each platform a tarball laid
// out as containerd's own release tarballs are, to unpack over /usr/local
// or into a directory of its own,
//
//	bin/containerd                  containerd with nodecred built in
//	bin/nodecred                    the operator CLI
//	bin/docker-credential-nodecred  -> nodecred, when the CLI serves as a docker credential helper
//	share/doc/nodecred/LICENSE
//
// with a sha256sum file next to each, plus the systemd drop-in and the
// config snippet from deploy/. `make dist` runs it:
//
//	go run ./hack/dist -version 0.1.0 -out dist linux/amd64 linux/arm64
//
// Two runs on the same commit give byte-identical files: binaries are built
// with -trimpath, without cgo and with the platform's baseline instruction
// set whatever the environment says; archive entries are sorted, owned by
// 0:0 and dated at the commit's time (or SOURCE_DATE_EPOCH), and the gzip
// header carries no name or time. The Go version is part of the input: the
// same Go gives the same bytes.
package main

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// helperName is the name docker and other clients run a credential helper
// by; the tarball links it to nodecred when cmd/nodecred answers to it.
const helperName = "docker-credential-nodecred"

// examples are copied from deploy/ into the output directory: source, name.
var examples = [][2]string{
	{"deploy/systemd/nodecred.conf", "nodecred.conf"},
	{"deploy/nodecred-config.toml", "nodecred-config.toml"},
}

func main() {
	version := flag.String("version", "", "nodecred's version, as hack/version.sh prints it (required)")
	out := flag.String("out", "dist", "output directory")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: dist -version VERSION [-out DIR] GOOS/GOARCH...")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *version == "" || flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*version, *out, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "dist:", err)
		os.Exit(1)
	}
}

func run(version, out string, platforms []string) error {
	date, err := sourceDate()
	if err != nil {
		return err
	}
	if dirty() {
		fmt.Fprintln(os.Stderr, "dist: warning: the work tree has uncommitted changes; these files cannot be rebuilt from a commit")
	}
	helper, err := servesHelper("cmd/nodecred")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	for _, p := range platforms {
		goos, goarch, ok := strings.Cut(p, "/")
		if !ok {
			return fmt.Errorf("platform %q is not GOOS/GOARCH", p)
		}
		name := fmt.Sprintf("nodecred-%s-%s-%s.tar.gz", version, goos, goarch)
		if err := release(filepath.Join(out, name), version, goos, goarch, date, helper); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		fmt.Println(filepath.Join(out, name))
		fmt.Println(filepath.Join(out, name+".sha256sum"))
	}
	for _, ex := range examples {
		src, dst := ex[0], ex[1]
		data, err := os.ReadFile(src)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(out, dst), data, 0o644); err != nil {
			return err
		}
		fmt.Println(filepath.Join(out, dst))
	}
	return nil
}

// release builds the binaries for one platform and writes their tarball
// and its sha256sum file.
func release(tarball, version, goos, goarch string, date time.Time, helper bool) error {
	stage, err := os.MkdirTemp("", "nodecred-dist-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(stage)
	files := []file{{name: "bin/", mode: 0o755 | fs.ModeDir}}
	for _, cmd := range []string{"containerd", "nodecred"} {
		bin := filepath.Join(stage, cmd)
		if err := build(bin, "./cmd/"+cmd, version, goos, goarch); err != nil {
			return err
		}
		files = append(files, file{name: "bin/" + cmd, mode: 0o755, src: bin})
	}
	if helper {
		files = append(files, file{name: "bin/" + helperName, mode: fs.ModeSymlink | 0o777, link: "nodecred"})
	}
	files = append(files,
		file{name: "share/", mode: 0o755 | fs.ModeDir},
		file{name: "share/doc/", mode: 0o755 | fs.ModeDir},
		file{name: "share/doc/nodecred/", mode: 0o755 | fs.ModeDir},
		file{name: "share/doc/nodecred/LICENSE", mode: 0o644, src: "LICENSE"},
	)
	sum, err := writeTarball(tarball, files, date)
	if err != nil {
		return err
	}
	line := hex.EncodeToString(sum) + "  " + filepath.Base(tarball) + "\n"
	return os.WriteFile(tarball+".sha256sum", []byte(line), 0o644)
}

// build compiles pkg for goos/goarch into bin. The environment is set
// wholly for what reaches the binary: no cgo, baseline instruction sets,
// no GOFLAGS or GOEXPERIMENT from the caller.
func build(bin, pkg, version, goos, goarch string) error {
	ldflags := "-s -w -X github.com/nodecred/nodecred/version.Version=" + version
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", ldflags, "-o", bin, pkg)
	cmd.Env = append(os.Environ(),
		"GOOS="+goos, "GOARCH="+goarch, "CGO_ENABLED=0",
		"GOAMD64=v1", "GOARM64=v8.0", "GOARM=7",
		"GOFLAGS=", "GOEXPERIMENT=",
	)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build %s for %s/%s: %w", pkg, goos, goarch, err)
	}
	return nil
}

// file is one archive entry: a directory (name ends in /), a regular file
// copied from src, or a symlink to link.
type file struct {
	name string
	mode fs.FileMode
	src  string
	link string
}

// writeTarball writes files, sorted by name, to a gzipped tar at path and
// returns the SHA-256 of what it wrote. Nothing of the build machine gets
// in: owner 0:0 without names, every time date, USTAR headers, no gzip name
// or time.
func writeTarball(path string, files []file, date time.Time) ([]byte, error) {
	sort.Slice(files, func(i, j int) bool { return files[i].name < files[j].name })
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	gz, err := gzip.NewWriterLevel(io.MultiWriter(f, h), gzip.DefaultCompression)
	if err != nil {
		return nil, err
	}
	tw := tar.NewWriter(gz)
	for _, e := range files {
		hdr := &tar.Header{Name: e.name, Mode: int64(e.mode.Perm()), ModTime: date, Format: tar.FormatUSTAR}
		var data []byte
		switch {
		case e.mode.IsDir():
			hdr.Typeflag = tar.TypeDir
		case e.mode&fs.ModeSymlink != 0:
			hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, e.link
		default:
			if data, err = os.ReadFile(e.src); err != nil {
				return nil, err
			}
			hdr.Typeflag, hdr.Size = tar.TypeReg, int64(len(data))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if _, err := tw.Write(data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	return h.Sum(nil), f.Close()
}

// sourceDate is the time every archive entry carries: SOURCE_DATE_EPOCH
// when set (reproducible-builds.org), else the commit's time.
func sourceDate() (time.Time, error) {
	s := os.Getenv("SOURCE_DATE_EPOCH")
	if s == "" {
		out, err := exec.Command("git", "log", "-1", "--format=%ct").Output()
		if err != nil {
			return time.Time{}, fmt.Errorf("no SOURCE_DATE_EPOCH and no git commit to date the files with: %w", err)
		}
		s = strings.TrimSpace(string(out))
	}
	sec, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("source date %q: %w", s, err)
	}
	return time.Unix(sec, 0).UTC(), nil
}

// dirty reports uncommitted changes to tracked files.
func dirty() bool {
	return exec.Command("git", "diff", "--quiet", "HEAD", "--").Run() != nil
}

// servesHelper reports whether the command in dir, or a package below it,
// names helperName in its code (a string literal outside tests and
// testdata): the CLI then runs as a docker credential helper when started
// by that name, and the tarball carries the link.
func servesHelper(dir string) (bool, error) {
	found := false
	fset := token.NewFileSet()
	err := filepath.WalkDir(dir, func(name string, d fs.DirEntry, err error) error {
		if err != nil || found {
			return err
		}
		if d.IsDir() {
			if d.Name() == "testdata" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if s, err := strconv.Unquote(lit.Value); err == nil && s == helperName {
					found = true
				}
			}
			return !found
		})
		return nil
	})
	return found, err
}
