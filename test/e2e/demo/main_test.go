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

import "testing"

func TestField(t *testing.T) {
	line := `time="2026-11-27T00:00:00Z" level=debug msg="credential decision" host="127.0.0.1:5000" kind=basic namespace=k8s.io plugin=nodecred source="dockerconfig:/tmp/a b/auth.json"`
	for key, want := range map[string]string{
		"host":    "127.0.0.1:5000",
		"kind":    "basic",
		"source":  "dockerconfig:/tmp/a b/auth.json",
		"missing": "",
	} {
		if got := field(line, key); got != want {
			t.Errorf("field(%q) = %q, want %q", key, got, want)
		}
	}
}
