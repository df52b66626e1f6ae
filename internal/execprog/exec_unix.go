//go:build unix

package execprog

import (
	"os/exec"
	"syscall"
)

// ownProcessGroup starts cmd as the leader of a new process group, so that
// killGroup reaches every child that did not leave it.
func ownProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// killGroup kills what is left of the process group pid leads. The group
// outlives its leader while any member runs.
func killGroup(pid int) { _ = syscall.Kill(-pid, syscall.SIGKILL) }
