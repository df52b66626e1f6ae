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

	"github.com/nodecred/nodecred/internal/fielderr"
)

// refuseExec refuses, at startup, a source type that runs programs (helper,
// kubelet) on a system where nodecred cannot kill a program's whole process
// tree at timeout (execprog.CanKillTree, per system): a hung helper's children would
// outlive every timeout there.
func refuseExec(sourceType string, treeKill bool) error {
	if treeKill || (sourceType != TypeHelper && sourceType != TypeKubelet) {
		return nil
	}
	return fielderr.New("type", "%q sources are not supported on %s: nodecred cannot yet kill a credential program's whole process tree at timeout there; use dockerconfig (without credHelpers or credsStore) or static sources", sourceType, runtime.GOOS)
}
