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

package nodecred

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestMakefileFuzzesEveryTarget: `make test` runs `make fuzz` briefly, and
// `make fuzz` runs the targets its list names, so a fuzz target left out of
// the list would never run. Every Fuzz function in the module must be in
// the list, with its package.
func TestMakefileFuzzesEveryTarget(t *testing.T) {
	makefile, err := os.ReadFile("Makefile")
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	line := regexp.MustCompile(`(?m)^\t\$\(GO\) test (\./\S*/) -run '\^\$\$' -fuzz '\^(Fuzz\w+)\$\$' -fuzztime \$\(FUZZTIME\)$`)
	for _, m := range line.FindAllStringSubmatch(string(makefile), -1) {
		listed[m[1]+" "+m[2]] = true
	}
	if len(listed) == 0 {
		t.Fatal("no fuzz lines found in the Makefile; has their form changed?")
	}
	decl := regexp.MustCompile(`(?m)^func (Fuzz\w+)\(`)
	found := 0
	err = filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "bin") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range decl.FindAllStringSubmatch(string(src), -1) {
			found++
			key := "./" + filepath.ToSlash(filepath.Dir(path)) + "/ " + m[1]
			if !listed[key] {
				t.Errorf("%s: %s is not in the Makefile's fuzz list; add\n\t$(GO) test %s -run '^$$' -fuzz '^%s$$' -fuzztime $(FUZZTIME)",
					path, m[1], strings.Fields(key)[0], m[1])
			}
			delete(listed, key)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for key := range listed {
		t.Errorf("the Makefile fuzzes %s, which is no fuzz target", key)
	}
	if found == 0 {
		t.Fatal("no fuzz targets found")
	}
}
