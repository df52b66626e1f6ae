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

package sourceconfig

import (
	"runtime"
	"strings"
	"testing"

	"github.com/nodecred/nodecred/internal/execprog"
)

func TestRefuseExec(t *testing.T) {
	for _, typ := range []string{TypeHelper, TypeKubelet} {
		err := refuseExec(typ, false)
		if err == nil {
			t.Fatalf("%s refused nowhere", typ)
		}
		for _, want := range []string{`type: "` + typ + `"`, "not supported on " + runtime.GOOS, "process tree"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("refusal %q does not say %q", err, want)
			}
		}
		if err := refuseExec(typ, true); err != nil {
			t.Errorf("%s refused where trees can be killed: %v", typ, err)
		}
	}
	for _, typ := range []string{TypeDockerConfig, TypeStatic} {
		if err := refuseExec(typ, false); err != nil {
			t.Errorf("%s runs no program but was refused: %v", typ, err)
		}
	}
	if runtime.GOOS == "linux" && !execprog.CanKillTree {
		t.Error("Linux can kill a program's process tree")
	}
}
