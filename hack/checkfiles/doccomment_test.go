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
	"reflect"
	"testing"
)

func TestUndocumented(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files []goFile
		want  []string
	}{
		{"documented", []goFile{{"a/a.go", []byte(`// Package a does a.
package a

// F does f.
func F() {}

// T is t.
type T struct{}

// M does m.
func (T) M() {}

// Limits of a.
const (
	Max = 1
	Min = 0
)

var (
	// V is v.
	V = 1
	W = 2 // W is w.
)

// Generic is generic.
type Generic[K comparable, V any] struct{}

// Get gets.
func (*Generic[K, V]) Get() {}

func f()                {}
func (T) m()            {}
type t struct{}
func (t) Exported()     {}
var unexported = 1
`)}}, nil},
		{"undocumented", []goFile{{"a/a.go", []byte(`package a

func F() {}

type T struct{}

func (*T) M() {}

type G[K any] struct{}

func (G[K]) Get() {}

const Max, min = 1, 0

var V, W = 1, 2
`)}}, []string{
			"a/a.go:1: package a has no package doc comment",
			"a/a.go:3: func F has no doc comment",
			"a/a.go:5: type T has no doc comment",
			"a/a.go:7: method T.M has no doc comment",
			"a/a.go:9: type G has no doc comment",
			"a/a.go:11: method G.Get has no doc comment",
			"a/a.go:13: const Max has no doc comment",
			"a/a.go:15: var V has no doc comment",
			"a/a.go:15: var W has no doc comment",
		}},
		{"package doc in one file of two", []goFile{
			{"b/one.go", []byte("package b\n")},
			{"b/doc.go", []byte("// Package b does b.\npackage b\n")},
		}, nil},
		{"main: package doc only", []goFile{{"cmd/x/main.go", []byte("package main\n\nfunc Run() {}\n")}},
			[]string{"cmd/x/main.go:1: package main has no package doc comment"}},
		{"tests and testdata are not looked at", []goFile{
			{"c/c.go", []byte("// Package c does c.\npackage c\n")},
			{"c/c_test.go", []byte("package c_test\n\nfunc Helper() {}\n")},
			{"c/testdata/x.go", []byte("package x\n\nfunc X() {}\n")},
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := undocumented(tc.files)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("undocumented =\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}
