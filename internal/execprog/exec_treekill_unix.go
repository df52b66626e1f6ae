//go:build unix

package execprog

// CanKillTree is true: exec_unix.go and exec_linux.go kill a program's
// process group and, on Linux, every descendant, so every source type runs.
const CanKillTree = true
