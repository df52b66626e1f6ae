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
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path"
	"sort"
	"strconv"
	"strings"
)

// goFile is one tracked Go file's path and staged content.
type goFile struct {
	path string
	src  []byte
}

// undocumented lists, as "file:line: what", every package in files without
// a package doc comment and, outside main packages, every exported
// top-level name without a doc comment: funcs, methods on exported types,
// types, consts and vars (a comment on a const or var group covers the
// group). Test files and testdata are not looked at.
func undocumented(files []goFile) ([]string, error) {
	type pkg struct {
		name     string
		first    string // the first file, where a missing package doc is reported
		hasDoc   bool
		problems []string
	}
	pkgs := map[string]*pkg{}
	fset := token.NewFileSet()
	for _, f := range files {
		if !strings.HasSuffix(f.path, ".go") || strings.HasSuffix(f.path, "_test.go") || inTestdata(f.path) {
			continue
		}
		af, err := parser.ParseFile(fset, f.path, f.src, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		dir := path.Dir(f.path)
		p := pkgs[dir]
		if p == nil {
			p = &pkg{name: af.Name.Name, first: f.path}
			pkgs[dir] = p
		}
		if af.Doc != nil {
			p.hasDoc = true
		}
		if af.Name.Name != "main" {
			p.problems = append(p.problems, undocumentedNames(fset, af)...)
		}
	}
	var out []string
	for _, p := range pkgs {
		if !p.hasDoc {
			out = append(out, fmt.Sprintf("%s:1: package %s has no package doc comment", p.first, p.name))
		}
		out = append(out, p.problems...)
	}
	sort.Slice(out, func(i, j int) bool { return byFileLine(out[i], out[j]) })
	return out, nil
}

// byFileLine orders "file:line: ..." reports by file, then line number.
func byFileLine(a, b string) bool {
	fa, la, _ := fileLine(a)
	fb, lb, _ := fileLine(b)
	if fa != fb {
		return fa < fb
	}
	if la != lb {
		return la < lb
	}
	return a < b
}

// fileLine splits a "file:line: ..." report.
func fileLine(s string) (string, int, bool) {
	file, rest, ok := strings.Cut(s, ":")
	if !ok {
		return s, 0, false
	}
	num, _, _ := strings.Cut(rest, ":")
	n, err := strconv.Atoi(num)
	return file, n, err == nil
}

// undocumentedNames lists the exported top-level names of f without a doc
// comment.
func undocumentedNames(fset *token.FileSet, f *ast.File) []string {
	var out []string
	report := func(pos token.Pos, what string) {
		p := fset.Position(pos)
		out = append(out, fmt.Sprintf("%s:%d: %s has no doc comment", p.Filename, p.Line, what))
	}
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if !d.Name.IsExported() || d.Doc != nil {
				continue
			}
			if d.Recv == nil {
				report(d.Pos(), "func "+d.Name.Name)
			} else if recv := receiverType(d.Recv); ast.IsExported(recv) {
				report(d.Pos(), "method "+recv+"."+d.Name.Name)
			}
		case *ast.GenDecl:
			if d.Tok == token.IMPORT {
				continue
			}
			for _, s := range d.Specs {
				switch s := s.(type) {
				case *ast.TypeSpec:
					if s.Name.IsExported() && s.Doc == nil && d.Doc == nil {
						report(s.Pos(), "type "+s.Name.Name)
					}
				case *ast.ValueSpec:
					if s.Doc != nil || d.Doc != nil || (d.Lparen.IsValid() && s.Comment != nil) {
						continue
					}
					for _, n := range s.Names {
						if n.IsExported() {
							report(n.Pos(), d.Tok.String()+" "+n.Name)
						}
					}
				}
			}
		}
	}
	return out
}

// receiverType is the name of the type of a method's receiver, without a
// pointer or type parameters.
func receiverType(recv *ast.FieldList) string {
	if len(recv.List) == 0 {
		return ""
	}
	t := recv.List[0].Type
	if s, ok := t.(*ast.StarExpr); ok {
		t = s.X
	}
	switch x := t.(type) {
	case *ast.IndexExpr:
		t = x.X
	case *ast.IndexListExpr:
		t = x.X
	}
	if id, ok := t.(*ast.Ident); ok {
		return id.Name
	}
	return ""
}

// inTestdata reports a path under a testdata directory, which the go
// command ignores.
func inTestdata(p string) bool {
	return strings.HasPrefix(p, "testdata/") || strings.Contains(p, "/testdata/")
}
