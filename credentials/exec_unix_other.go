//go:build unix && !linux

package credentials

import "os"

// killTree kills pid and its process group; without /proc, children that
// left the group (setsid) are out of reach.
func killTree(pid int) { killGroup(pid) }

// killPipeHolders has no /proc to find holders outside the group with.
func killPipeHolders(...*os.File) {}
