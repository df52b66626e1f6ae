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

package version

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
)

// hack/version.sh, which make build and make dist stamp Version with, run
// in a repository of its own through a project's life.
func TestVersionScript(t *testing.T) {
	script, err := os.ReadFile(filepath.Join("..", "hack", "version.sh"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "hack"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "hack", "version.sh"), script, 0o755); err != nil {
		t.Fatal(err)
	}
	version := func() string {
		t.Helper()
		out, err := exec.Command(filepath.Join(dir, "hack", "version.sh")).Output()
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	}
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@example.com"}, args...)...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	write := func(content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, "f"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	check := func(when, pattern string) {
		t.Helper()
		if got := version(); !regexp.MustCompile(`^` + pattern + `\n$`).MatchString(got) {
			t.Errorf("%s: version %q, want %s", when, got, pattern)
		}
	}

	check("outside git", `0\.0\.0-dev`)
	git("init", "-q")
	write("1")
	git("add", ".")
	git("commit", "-q", "-m", "one")
	check("no tag", `0\.0\.0-dev\+[0-9a-f]{12}`)
	write("2")
	check("no tag, changed", `0\.0\.0-dev\+[0-9a-f]{12}\.dirty`)
	git("commit", "-q", "-am", "two")
	git("tag", "v0.1.0")
	check("at a tag", `0\.1\.0`)
	git("tag", "nightly") // not a version tag: ignored
	check("at a tag", `0\.1\.0`)
	write("3")
	check("at a tag, changed", `0\.1\.0\+dirty`)
	git("commit", "-q", "-am", "three")
	check("after a tag", `0\.1\.0-1-g[0-9a-f]{12}`)
}
