//go:build unix

package credentials

import (
	"io/fs"
	"syscall"
)

// inode tells a file renamed over the old one from the old one, even when
// size and mtime happen to agree.
func inode(info fs.FileInfo) uint64 {
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Ino)
	}
	return 0
}
