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

// Package repro checks the release `make dist` builds: two clones of the
// same commit, at different paths, built one after the other, give
// byte-identical files, and those files are what docs/operations.md
// installs. It runs as `make repro`, part of `make test`, on the commit
// checked out (uncommitted changes are not in the clones).
//
// Both builds share the Go build cache, so a path that -trimpath failed to
// remove could come out of the cache identical twice; the test looks for
// the build paths in the binaries instead. REPRO_COLD=1 gives the second
// build a cache of its own: a full second compile, for release time.
package repro

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

var platforms = []string{"linux/amd64", "linux/arm64"}

func TestDistIsReproducible(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	commit := git(t, root, "rev-parse", "HEAD")
	tmp := t.TempDir()
	srcs := []string{filepath.Join(tmp, "a"), filepath.Join(tmp, "second-build", "at-a-longer-path", "nodecred")}
	var dists []string
	for i, src := range srcs {
		git(t, root, "clone", "-q", "--shared", "--no-checkout", root, src)
		git(t, src, "checkout", "-q", "--detach", commit)
		env := os.Environ()
		if i == 1 && os.Getenv("REPRO_COLD") == "1" {
			env = append(env, "GOCACHE="+filepath.Join(tmp, "gocache"))
		}
		start := time.Now()
		cmd := exec.Command("make", "--no-print-directory", "dist")
		cmd.Dir, cmd.Env = src, env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("make dist in %s: %v\n%s", src, err, out)
		}
		t.Logf("make dist in %s: %s", src, time.Since(start).Round(time.Second))
		dists = append(dists, filepath.Join(src, "dist"))
	}

	names := listDir(t, dists[0])
	if other := listDir(t, dists[1]); !slices.Equal(names, other) {
		t.Fatalf("the two builds made different files:\n%v\n%v", names, other)
	}
	for _, name := range names {
		a, b := read(t, filepath.Join(dists[0], name)), read(t, filepath.Join(dists[1], name))
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between the two builds (%d and %d bytes)", name, len(a), len(b))
		}
	}

	v := run(t, srcs[0], filepath.Join(srcs[0], "hack", "version.sh"))
	date := time.Unix(mustInt(t, git(t, srcs[0], "log", "-1", "--format=%ct")), 0)
	want := []string{"nodecred.conf", "nodecred-config.toml"}
	for _, p := range platforms {
		tarball := "nodecred-" + v + "-" + strings.ReplaceAll(p, "/", "-") + ".tar.gz"
		want = append(want, tarball, tarball+".sha256sum")
		t.Run(p, func(t *testing.T) {
			checkRelease(t, filepath.Join(dists[0], tarball), p, v, date, []string{tmp, goEnv(t, "GOMODCACHE"), goEnv(t, "GOROOT")})
		})
	}
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Errorf("dist holds %v, want %v", names, want)
	}
	for _, ex := range [][2]string{{"nodecred.conf", "deploy/systemd/nodecred.conf"}, {"nodecred-config.toml", "deploy/nodecred-config.toml"}} {
		if !bytes.Equal(read(t, filepath.Join(dists[0], ex[0])), read(t, filepath.Join(srcs[0], ex[1]))) {
			t.Errorf("dist/%s is not %s", ex[0], ex[1])
		}
	}
}

// checkRelease looks inside one tarball: its layout, owners and times, its
// sha256sum file, and its binaries (platform, no build paths, and on this
// machine's platform what they print).
func checkRelease(t *testing.T, tarball, platform, version string, date time.Time, buildPaths []string) {
	data := read(t, tarball)
	sum := sha256.Sum256(data)
	if got, want := string(read(t, tarball+".sha256sum")), hex.EncodeToString(sum[:])+"  "+filepath.Base(tarball)+"\n"; got != want {
		t.Errorf("sha256sum file = %q, want %q", got, want)
	}
	gz, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if gz.Name != "" || !gz.ModTime.IsZero() {
		t.Errorf("gzip header carries name %q and time %v", gz.Name, gz.ModTime)
	}
	type entry struct {
		mode int64
		link string
		data []byte
	}
	entries := map[string]entry{}
	var order []string
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" {
			t.Errorf("%s: owner %d:%d (%q:%q), want 0:0 without names", h.Name, h.Uid, h.Gid, h.Uname, h.Gname)
		}
		if !h.ModTime.Equal(date) {
			t.Errorf("%s: time %v, want the commit's %v", h.Name, h.ModTime, date)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		entries[h.Name] = entry{mode: h.Mode, link: h.Linkname, data: b}
		order = append(order, h.Name)
	}
	want := []string{"bin/", "bin/containerd", "bin/docker-credential-nodecred", "bin/nodecred",
		"share/", "share/doc/", "share/doc/nodecred/", "share/doc/nodecred/LICENSE"}
	if !slices.Equal(order, want) {
		t.Fatalf("entries %v, want %v in that order", order, want)
	}
	if e := entries["bin/docker-credential-nodecred"]; e.link != "nodecred" {
		t.Errorf("bin/docker-credential-nodecred links to %q, want nodecred", e.link)
	}
	goos, goarch, _ := strings.Cut(platform, "/")
	machine := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[goarch]
	dir := t.TempDir()
	for _, name := range []string{"containerd", "nodecred"} {
		e := entries["bin/"+name]
		if e.mode != 0o755 {
			t.Errorf("bin/%s mode %o, want 755", name, e.mode)
		}
		f, err := elf.NewFile(bytes.NewReader(e.data))
		if err != nil {
			t.Fatalf("bin/%s: %v", name, err)
		}
		if f.Machine != machine {
			t.Errorf("bin/%s is for %v, want %v", name, f.Machine, machine)
		}
		for _, p := range buildPaths {
			if bytes.Contains(e.data, []byte(p)) {
				t.Errorf("bin/%s contains the build path %s", name, p)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, name), e.data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if goos != runtime.GOOS || goarch != runtime.GOARCH {
		return
	}
	line := run(t, dir, filepath.Join(dir, "containerd"), "--version")
	if f := strings.Fields(line); len(f) < 4 || f[0] != "containerd" || f[1] != "github.com/containerd/containerd/v2" || f[3] != "nodecred/"+version {
		t.Errorf("containerd --version = %q, want containerd's line with nodecred/%s appended", line, version)
	}
	containerd := run(t, ".", "go", "list", "-m", "-f", "{{.Version}}", "github.com/containerd/containerd/v2")
	out := run(t, dir, filepath.Join(dir, "nodecred"), "version")
	wantOut := "nodecred    " + version + "\ncontainerd  " + containerd + "\ngo          " + runtime.Version() + " " + platform
	if out != wantOut {
		t.Errorf("nodecred version = %q, want %q", out, wantOut)
	}
}

func goEnv(t *testing.T, name string) string {
	t.Helper()
	return run(t, ".", "go", "env", name)
}

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	return run(t, dir, "git", args...)
}

func run(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("%s %v: %v\n%s", name, args, err, stderr)
	}
	return strings.TrimSpace(string(out))
}

func read(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func mustInt(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
