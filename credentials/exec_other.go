//go:build !unix

package credentials

import (
	"os"
	"os/exec"
)

// ownProcessGroup does nothing here: there are no process groups.
func ownProcessGroup(*exec.Cmd) {}

// killTree kills the program itself; its children are out of reach.
func killTree(pid int) {
	if p, err := os.FindProcess(pid); err == nil {
		_ = p.Kill()
	}
}

// killGroup has no group to kill.
func killGroup(int) {}

// killPipeHolders cannot find the holders here.
func killPipeHolders(...*os.File) {}
