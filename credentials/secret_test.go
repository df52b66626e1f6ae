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

package credentials

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestSecretNeverPrints(t *testing.T) {
	const value = "hunter2-secret"
	s := Secret(value)
	c := Credential{Username: "robot", Password: s, IdentityToken: s}
	j, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	outputs := []string{
		s.String(), fmt.Sprint(s), fmt.Sprintf("%s %v %q %x %X %+v %#v %10s", s, s, s, s, s, s, s, s),
		fmt.Sprintf("%v %+v %#v", c, c, c), string(j),
		fmt.Errorf("login with %s failed", s).Error(),
		errors.New(fmt.Sprint(&c)).Error(),
	}
	for _, out := range outputs {
		if strings.Contains(out, value) {
			t.Errorf("output carries the secret: %s", out)
		}
	}
	if !strings.Contains(outputs[0], "redacted") {
		t.Errorf("String() = %q, want a placeholder", outputs[0])
	}
	if s.Reveal() != value {
		t.Errorf("Reveal() lost the value")
	}
}

func TestRequestRepoPath(t *testing.T) {
	tests := map[string]string{
		"docker.io/library/pause:3.10":                                         "library/pause",
		"registry.example.com:5000/team/app@sha256:" + strings.Repeat("a", 64): "team/app",
		"127.0.0.1:5000/private/pause:3.10":                                    "private/pause",
		"not a ref":                                                            "",
	}
	for ref, want := range tests {
		if got := (Request{Ref: ref}).RepoPath(); got != want {
			t.Errorf("RepoPath(%q) = %q, want %q", ref, got, want)
		}
	}
}

func TestRequestImageAt(t *testing.T) {
	tests := map[string]string{
		"upstream.io/lib/app:1":                                 "mirror.io:5000/lib/app:1",
		"upstream.io/lib/app@sha256:" + strings.Repeat("b", 64): "mirror.io:5000/lib/app@sha256:" + strings.Repeat("b", 64),
		"upstream.io/lib/app":                                   "mirror.io:5000/lib/app",
		"noslash":                                               "",
	}
	for ref, want := range tests {
		if got := (Request{Ref: ref}).ImageAt("mirror.io:5000"); got != want {
			t.Errorf("ImageAt(%q) = %q, want %q", ref, got, want)
		}
	}
}
