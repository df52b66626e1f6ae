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
	"go/build/constraint"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLicence(t *testing.T) {
	const pkg = "// Package x does x.\npackage x\n"
	const cons = "//go:build linux && !nodecred_mergedconfig\n\n"
	for _, tc := range []struct {
		name    string
		src     string
		problem string // part of licenceProblem; "" for none
		fixed   string // addLicence's result; "" for unchanged
	}{
		{"header", licenceHeader + "\n" + pkg, "", ""},
		{"none", pkg, "no Apache 2.0 licence header", licenceHeader + "\n" + pkg},
		{"none, blank lines first", "\n\n" + pkg, "no Apache 2.0 licence header", licenceHeader + "\n" + pkg},
		{"constraint, then header", cons + licenceHeader + "\n" + pkg, "", ""},
		{"constraint, no header", cons + pkg, "no Apache 2.0 licence header", cons + licenceHeader + "\n" + pkg},
		{"old-style constraints", "//go:build linux\n// +build linux\n\n" + pkg, "no Apache 2.0 licence header",
			"//go:build linux\n// +build linux\n\n" + licenceHeader + "\n" + pkg},
		// Go takes it, and gofmt, which lint runs, moves the constraint up.
		{"header, then constraint", licenceHeader + "\n" + cons + pkg, "", ""},
		{"another notice", "// Copyright 2020 Someone.\n// Licensed under the MIT licence.\n\n" + pkg, "differs", ""},
		{"header text changed", strings.Replace(licenceHeader, "nodecred", "someone", 1) + "\n" + pkg, "differs", ""},
		{"package doc mentions a licence below the clause", "package x\n\n// Licensed under ...\nvar X = 1\n", "no Apache 2.0 licence header",
			licenceHeader + "\npackage x\n\n// Licensed under ...\nvar X = 1\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := licenceProblem([]byte(tc.src))
			if (tc.problem == "") != (got == "") || !strings.Contains(got, tc.problem) {
				t.Errorf("licenceProblem = %q, want %q", got, tc.problem)
			}
			fixed, changed := addLicence([]byte(tc.src))
			want := tc.fixed
			if want == "" {
				want = tc.src
			}
			if string(fixed) != want || changed != (tc.fixed != "") {
				t.Fatalf("addLicence changed=%v:\n%s\nwant:\n%s", changed, fixed, want)
			}
			if !changed {
				return
			}
			if p := licenceProblem(fixed); p != "" {
				t.Errorf("after addLicence: %s", p)
			}
			if again, changed := addLicence(fixed); changed || string(again) != string(fixed) {
				t.Errorf("addLicence is not idempotent:\n%s", again)
			}
			if formatted, err := format.Source(fixed); err != nil || string(formatted) != string(fixed) {
				t.Errorf("gofmt changes the fixed file (%v):\n%s", err, formatted)
			}
			// The build constraint still governs the file.
			f, err := parser.ParseFile(token.NewFileSet(), "x.go", fixed, parser.ParseComments|parser.PackageClauseOnly)
			if err != nil {
				t.Fatal(err)
			}
			wantConstraint := strings.HasPrefix(tc.src, "//go:build")
			gotConstraint := false
			for _, g := range f.Comments {
				if g.Pos() >= f.Package {
					break
				}
				for _, c := range g.List {
					if constraint.IsGoBuild(c.Text) {
						gotConstraint = true
					}
				}
			}
			if gotConstraint != wantConstraint {
				t.Errorf("build constraint before the package clause: %v, want %v", gotConstraint, wantConstraint)
			}
		})
	}
}

// In a real repository: -fix adds the header to the tracked Go files that
// lack it, leaves untracked files and symlinks alone, and
// the staged Go files carry their whole content for the checks.
func TestFixLicences(t *testing.T) {
	dir := t.TempDir()
	git := gitIn(t, dir)
	write := func(name, data string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	read := func(name string) string {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	const src = "// Package a does a.\npackage a\n"
	const tagged = "//go:build linux\n\npackage a\n"
	write("a/a.go", src)
	write("a/linux.go", tagged)
	write("a/done.go", licenceHeader+"\n"+src)
	git("init", "-q")
	git("add", ".")
	git("commit", "-q", "-m", "x")
	write("a/untracked.go", src)
	if err := os.Symlink("a.go", filepath.Join(dir, "a", "link.go")); err != nil {
		t.Fatal(err)
	}
	git("add", "a/link.go")

	for range 2 { // the second run changes nothing
		if err := fixLicences(dir); err != nil {
			t.Fatal(err)
		}
		for name, want := range map[string]string{
			"a/a.go":         licenceHeader + "\n" + src,
			"a/linux.go":     "//go:build linux\n\n" + licenceHeader + "\npackage a\n",
			"a/done.go":      licenceHeader + "\n" + src,
			"a/untracked.go": src,
		} {
			if got := read(name); got != want {
				t.Errorf("%s =\n%s\nwant\n%s", name, got, want)
			}
		}
	}
	if target, err := os.Readlink(filepath.Join(dir, "a", "link.go")); err != nil || target != "a.go" {
		t.Errorf("symlink: %q, %v", target, err)
	}

	entries, err := staged(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.path == "a/a.go" && string(e.body) != src { // staged, not the work tree
			t.Errorf("staged a/a.go body = %q", e.body)
		}
		if e.path == "a/link.go" && e.body != nil {
			t.Errorf("a symlink has a body: %q", e.body)
		}
	}
}
