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
	"bytes"
	"strings"
)

// licenceHeader is the Apache License 2.0 notice every Go file starts
// with, in containerd's form. A build constraint goes above it, as in
// containerd and as gofmt keeps it.
const licenceHeader = `/*
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
`

// splitConstraints splits src into its leading build constraint lines
// (//go:build, // +build) with the blank lines around them, and the rest.
func splitConstraints(src []byte) (constraints, rest []byte) {
	i := 0
	sawConstraint := false
	for i < len(src) {
		end := bytes.IndexByte(src[i:], '\n')
		if end < 0 {
			end = len(src) - i
		} else {
			end++
		}
		line := strings.TrimSpace(string(src[i : i+end]))
		switch {
		case strings.HasPrefix(line, "//go:build") || strings.HasPrefix(line, "// +build"):
			sawConstraint = true
		case line == "" && sawConstraint:
		default:
			if !sawConstraint {
				return nil, src
			}
			return src[:i], src[i:]
		}
		i += end
	}
	if !sawConstraint {
		return nil, src
	}
	return src, nil
}

// licenceProblem says what is wrong with the header of the Go source src,
// or "".
func licenceProblem(src []byte) string {
	_, rest := splitConstraints(src)
	if bytes.HasPrefix(rest, []byte(licenceHeader)) {
		return ""
	}
	if hasOtherNotice(rest) {
		return "its licence header differs from the Apache 2.0 one (hack/checkfiles/licence.go); fix it by hand"
	}
	return "no Apache 2.0 licence header (go run ./hack/checkfiles -fix adds it)"
}

// hasOtherNotice reports a copyright or licence notice at the top of rest
// that is not the expected one; -fix leaves such a file alone.
func hasOtherNotice(rest []byte) bool {
	top := rest
	if i := bytes.Index(append([]byte("\n"), top...), []byte("\npackage ")); i >= 0 {
		top = top[:i]
	}
	return bytes.Contains(top, []byte("Copyright")) || bytes.Contains(top, []byte("Licensed under"))
}

// addLicence returns src with the header added after its build
// constraints, and whether it changed src. A file that has the header, or
// another notice, is returned as it is.
func addLicence(src []byte) ([]byte, bool) {
	if licenceProblem(src) == "" || hasOtherNotice(src) {
		return src, false
	}
	constraints, rest := splitConstraints(src)
	var b bytes.Buffer
	if len(constraints) > 0 {
		b.Write(bytes.TrimRight(constraints, "\n"))
		b.WriteString("\n\n")
	}
	b.WriteString(licenceHeader)
	b.WriteString("\n")
	b.Write(bytes.TrimLeft(rest, "\n"))
	return b.Bytes(), true
}
