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
