//go:build unix

package credentials

// canKillTree is true: exec_unix.go and exec_linux.go kill a program's
// process group and, on Linux, every descendant, so every source type runs.
const canKillTree = true
