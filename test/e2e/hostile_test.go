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

package e2e

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/nodecred/nodecred/test/e2e/harness"
)

// hostileRSSBound is the most containerd with nodecred may reach (VmHWM, its
// peak resident set) while fed a FIFO, /dev/zero and a 100 MB file as
// credential files. containerd itself takes about 40 MiB here; before
// nodecred bounded its reads, /dev/zero took it to 2.8 GiB and a 100 MB
// auth.json to 918 MiB. BENCHMARKS.md has the measured figures.
const hostileRSSBound = 160 << 20

// hostileSetup is three registries, each holding app:1 to app:4, and the
// files of the three sources that serve them: a docker config for a, a
// password file for b, a password file for c.
type hostileSetup struct {
	a, b, c              testRegistry
	hostsDir             string
	authA, pwB, pwC, dir string
}

func newHostileSetup(t testing.TB) hostileSetup {
	tags := []string{"app:1", "app:2", "app:3", "app:4"}
	s := hostileSetup{a: startRegistry(t, "a", tags...), b: startRegistry(t, "b", tags...), c: startRegistry(t, "c", tags...)}
	s.hostsDir = t.TempDir()
	for _, r := range []testRegistry{s.a, s.b, s.c} {
		if err := harness.WriteHostsToml(s.hostsDir, r.Host, r.Host); err != nil {
			t.Fatal(err)
		}
	}
	s.dir = t.TempDir()
	s.authA = s.write(t, "auth.json", dockerConfig(map[string][2]string{s.a.Host: {s.a.user, s.a.password}}))
	s.pwB = s.write(t, "password-b", s.b.password+"\n")
	s.pwC = s.write(t, "password-c", s.c.password+"\n")
	return s
}

// write writes a 0600 file in s.dir and returns its path.
func (s hostileSetup) write(t testing.TB, name, content string) string {
	t.Helper()
	p := filepath.Join(s.dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// config has the FIFO-to-be and the /dev/zero-to-be ahead of the source
// that serves c, so that a lookup for c passes both.
func (s hostileSetup) config() harness.ContainerdConfig {
	return harness.ContainerdConfig{
		HostsDir: s.hostsDir,
		Nodecred: nodecredSection("",
			dockerconfigSource(s.authA),
			staticSource(s.b.Host, s.b.user, s.pwB),
			staticSource(s.c.Host, s.c.user, s.pwC)),
	}
}

// replace puts what make creates at path in place of the file there, by
// a rename, as an attacker with write access to the directory would.
func replace(t testing.TB, path string, make func(tmp string) error) {
	t.Helper()
	tmp := path + ".new"
	if err := make(tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func fifo(tmp string) error    { return syscall.Mkfifo(tmp, 0o600) }
func devZero(tmp string) error { return os.Symlink("/dev/zero", tmp) }

// sparse100MB makes a file of 100 MB that takes no disk: nodecred must
// refuse it by its size, without reading it.
func sparse100MB(tmp string) error {
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Truncate(100_000_000)
}

// pullWithin pulls ref by CRI and fails the test instead of hanging when
// the pull does not return: the deadline is generous and times nothing.
func pullWithin(t testing.TB, c *harness.Containerd, ref string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	_, err := c.Images().PullImage(ctx, &runtime.PullImageRequest{Image: &runtime.ImageSpec{Image: ref}})
	if ctx.Err() != nil {
		t.Fatalf("pull of %s did not return: %v", ref, err)
	}
	return err
}

// TestHostileFilesNeverWedgePulls replaces the docker config with a FIFO no
// one writes to and the password file with a symlink to /dev/zero, then a
// 100 MB file, while containerd runs. A pull of another host, whose source
// comes after both, completes; the hosts of the hostile files keep their
// last good credentials; each change is logged once with its path and
// reason; containerd's peak RSS stays under hostileRSSBound. Then deleting
// a password file revokes its credentials, and recreating it restores
// them.
func TestHostileFilesNeverWedgePulls(t *testing.T) {
	s := newHostileSetup(t)
	c := startContainerd(t, bins.Containerd, s.config())
	for _, r := range []testRegistry{s.a, s.b, s.c} {
		if err := pullWithin(t, c, r.Host+"/app:1"); err != nil {
			t.Fatalf("pull from %s before the files turn hostile: %v", r.user, err)
		}
	}

	replace(t, s.authA, fifo)
	replace(t, s.pwB, devZero)
	if err := pullWithin(t, c, s.c.Host+"/app:2"); err != nil {
		t.Fatalf("pull of another host while a FIFO and /dev/zero are configured: %v", err)
	}
	if err := pullWithin(t, c, s.a.Host+"/app:2"); err != nil {
		t.Fatalf("pull of the FIFO's host (want the last good credential): %v", err)
	}
	if err := pullWithin(t, c, s.b.Host+"/app:2"); err != nil {
		t.Fatalf("pull of /dev/zero's host (want the last good credential): %v", err)
	}

	replace(t, s.authA, sparse100MB)
	replace(t, s.pwB, sparse100MB)
	if err := pullWithin(t, c, s.c.Host+"/app:3"); err != nil {
		t.Fatalf("pull of another host while 100 MB files are configured: %v", err)
	}
	if err := pullWithin(t, c, s.a.Host+"/app:3"); err != nil {
		t.Fatalf("pull of the 100 MB docker config's host (want the last good credential): %v", err)
	}
	if err := pullWithin(t, c, s.b.Host+"/app:3"); err != nil {
		t.Fatalf("pull of the 100 MB password file's host (want the last good credential): %v", err)
	}

	logs := c.Log()
	for _, want := range []struct{ path, reason string }{
		{s.authA, "is a FIFO, not a regular file"},
		{s.pwB, "is a character device, not a regular file"},
		{s.authA, "is 100000000 bytes, more than the limit of 1048576"},
		{s.pwB, "is 100000000 bytes, more than the limit of 65536"},
	} {
		if n := countLines(logs, "path="+want.path, want.reason); n != 1 {
			t.Errorf("%d log lines name %s and %q, want 1", n, want.path, want.reason)
		}
	}
	if hwm := peakRSS(t, c); hwm > hostileRSSBound {
		t.Errorf("containerd's peak RSS is %d MiB, more than the bound of %d MiB", hwm>>20, hostileRSSBound>>20)
	} else {
		t.Logf("containerd's peak RSS: %.1f MiB", float64(hwm)/(1<<20))
	}

	// Deleting a file revokes what it held; recreating it restores it.
	if err := os.Remove(s.pwC); err != nil {
		t.Fatal(err)
	}
	if err := pullWithin(t, c, s.c.Host+"/app:4"); err == nil || !isAuthError(err) {
		t.Fatalf("pull after the password file was deleted: err = %v, want an authorization failure", err)
	}
	s.write(t, "password-c", s.c.password+"\n")
	if err := pullWithin(t, c, s.c.Host+"/app:4"); err != nil {
		t.Fatalf("pull after the password file was recreated: %v", err)
	}
}

// countLines counts the lines of text that hold every one of parts.
func countLines(text string, parts ...string) int {
	n := 0
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(sc.Text(), p)
		}
		if all {
			n++
		}
	}
	return n
}

// peakRSS returns containerd's peak resident set size so far (VmHWM).
func peakRSS(t testing.TB, c *harness.Containerd) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", containerdPID(t, c)))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("VmHWM %q: %v", v, err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc/PID/status")
	return 0
}

// containerdPID finds the process running c: the one whose command line
// names c's config file.
func containerdPID(t testing.TB, c *harness.Containerd) int {
	t.Helper()
	config := filepath.Join(c.Dir, "config.toml")
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
		for i, a := range args {
			if a == "--config" && i+1 < len(args) && args[i+1] == config {
				return pid
			}
		}
	}
	t.Fatalf("no process runs containerd with %s", config)
	return 0
}

// TestHostileConfigStopsContainerd: what the config names must be what it
// says at startup, and keys must belong to their source's type.
func TestHostileConfigStopsContainerd(t *testing.T) {
	dir := t.TempDir()
	fifoPath := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifoPath, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, source, want string }{
		{"FIFO as a docker config", dockerconfigSource(fifoPath), fmt.Sprintf(`sources[0].path: \"%s\" is a FIFO, not a regular file`, fifoPath)},
		{"/dev/zero as a password file", staticSource("r.io", "u", "/dev/zero"), `sources[0].password_file: \"/dev/zero\" is a character device, not a regular file`},
		{"kubelet config directory without config files", fmt.Sprintf("type = \"kubelet\"\nconfig = %q\nbin_dir = %q", dir, dir), fmt.Sprintf(`sources[0].config: \"%s\": no configuration files (*.json, *.yaml, *.yml) in the directory`, dir)},
		{"hosts on a dockerconfig source", dockerconfigSource("/etc/containerd/auth.json") + "\nhosts = [\"r.io\"]", `sources[0].hosts: type \"dockerconfig\" does not take hosts`},
		{"a port that is not one", staticSource("r.io:notaport", "u", "/pw"), `sources[0].hosts[0]: host pattern \"r.io:notaport\" has a port that is not a number from 1 to 65535`},
		{"timeout over the bound", dockerconfigSource("/etc/containerd/auth.json") + "\ntimeout = \"876000h\"", `sources[0].timeout: \"876000h\" is more than 5m0s`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cdir, err := os.MkdirTemp("", "nc")
			if err != nil {
				t.Fatal(err)
			}
			defer os.RemoveAll(cdir)
			out, err := harness.RunContainerd(context.Background(), bins.Containerd, cdir, harness.ContainerdConfig{Nodecred: nodecredSection("", tt.source)}, 2*time.Minute)
			if err == nil || strings.Contains(out, "containerd successfully booted") {
				t.Fatalf("containerd started with a bad config:\n%s", out)
			}
			if !strings.Contains(out, tt.want) {
				t.Fatalf("containerd output does not name the mistake %s:\n%s", tt.want, out)
			}
		})
	}
}

// BenchmarkHostileFilesRSS reports the peak RSS (VmHWM) of a real
// containerd with nodecred fed hostile credential files, each in a fresh
// containerd so that each peak is its own: none (start and three pulls), a
// 100 MB auth.json of valid JSON renamed over the docker config, the
// password file made a symlink to /dev/zero, and the docker config made a
// FIFO no one writes to. After each change it pulls from the changed
// file's host and from another host, and reports how long those pulls
// took. With HOSTILE_CONTAINERD set to another containerd binary (one
// built from before nodecred bounded its reads, say), it measures that one.
// A pull gives up after HOSTILE_PULL_TIMEOUT (default 1m): a pull that
// hangs is reported as taking that long. Against a containerd that reads
// /dev/zero, keep it short: such a containerd grows by gigabytes a minute.
// HOSTILE_PHASES (none,100MB,devzero,fifo) picks phases.
//
//	go test ./test/e2e/ -run '^$' -bench HostileFilesRSS -benchtime 1x
func BenchmarkHostileFilesRSS(b *testing.B) {
	bin := bins.Containerd
	if alt := os.Getenv("HOSTILE_CONTAINERD"); alt != "" {
		bin = alt
	}
	pullTimeout := time.Minute
	if v := os.Getenv("HOSTILE_PULL_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			b.Fatal(err)
		}
		pullTimeout = d
	}
	s := newHostileSetup(b)
	big := s.write(b, "big.json", bigDockerConfig(s.a, 100_000_000))
	type phase struct {
		name   string
		change func()
		pulls  []testRegistry
	}
	phases := []phase{
		{"none", func() {}, []testRegistry{s.a, s.b, s.c}},
		{"100MB", func() { replace(b, s.authA, func(tmp string) error { return os.Link(big, tmp) }) }, []testRegistry{s.a, s.c}},
		{"devzero", func() { replace(b, s.pwB, devZero) }, []testRegistry{s.b, s.c}},
		{"fifo", func() { replace(b, s.authA, fifo) }, []testRegistry{s.a, s.c}},
	}
	if only := os.Getenv("HOSTILE_PHASES"); only != "" {
		phases = slices.DeleteFunc(phases, func(p phase) bool { return !slices.Contains(strings.Split(only, ","), p.name) })
	}
	peak := map[string]int64{}
	slowest := map[string]time.Duration{}
	for range b.N {
		for _, p := range phases {
			// Fresh files (a FIFO or a symlink is removed, not written
			// through) and a fresh containerd per phase.
			os.Remove(s.authA)
			os.Remove(s.pwB)
			s.write(b, "auth.json", dockerConfig(map[string][2]string{s.a.Host: {s.a.user, s.a.password}}))
			s.write(b, "password-b", s.b.password+"\n")
			dir, err := os.MkdirTemp("", "nc")
			if err != nil {
				b.Fatal(err)
			}
			c, err := harness.StartContainerd(context.Background(), bin, dir, s.config())
			if err != nil {
				b.Fatal(err)
			}
			// The image is there after the first pull; each later pull
			// resolves a new tag, which needs the credential.
			for _, r := range []testRegistry{s.a, s.b, s.c} {
				if err := benchPull(c, r.Host+"/app:1", pullTimeout); err != nil {
					b.Fatalf("%s: first pull from %s: %v", p.name, r.user, err)
				}
			}
			p.change()
			for _, r := range p.pulls {
				start := time.Now()
				err := benchPull(c, r.Host+"/app:2", pullTimeout)
				d := time.Since(start)
				if err != nil && !strings.Contains(err.Error(), "DeadlineExceeded") {
					b.Errorf("%s: pull from %s: %v", p.name, r.user, err)
				}
				if d > slowest[p.name+"-"+r.user] {
					slowest[p.name+"-"+r.user] = d
				}
			}
			if hwm := peakRSS(b, c); hwm > peak[p.name] {
				peak[p.name] = hwm
			}
			c.Stop()
			if leaks := secrets.Leaks(c.Log()); len(leaks) > 0 {
				b.Errorf("%s: containerd log %s carries %d secret form(s)", p.name, c.LogPath, len(leaks))
			} else {
				os.RemoveAll(dir)
			}
		}
	}
	for _, p := range phases {
		b.ReportMetric(float64(peak[p.name])/(1<<20), "MiB-peak-"+p.name)
		for _, r := range p.pulls {
			if p.name != "none" {
				b.ReportMetric(float64(slowest[p.name+"-"+r.user].Milliseconds()), "ms-pull-"+p.name+"-"+r.user)
			}
		}
	}
}

// benchPull pulls ref by CRI, giving up after timeout.
func benchPull(c *harness.Containerd, ref string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	_, err := c.Images().PullImage(ctx, &runtime.PullImageRequest{Image: &runtime.ImageSpec{Image: ref}})
	return err
}

// bigDockerConfig is a valid docker config of about size bytes: r's real
// credential, then filler hosts.
func bigDockerConfig(r testRegistry, size int) string {
	var sb strings.Builder
	sb.Grow(size + 200)
	fmt.Fprintf(&sb, `{"auths": {%q: {"auth": %q}`, r.Host, b64(r.user+":"+r.password))
	for i := 0; sb.Len() < size; i++ {
		fmt.Fprintf(&sb, `, "filler%d.example.com": {"auth": "ZmlsbGVyOmZpbGxlcg=="}`, i)
	}
	sb.WriteString("}}")
	return sb.String()
}
