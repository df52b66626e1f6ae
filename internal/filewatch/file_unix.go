//go:build unix

package filewatch

import (
	"io/fs"
	"os"
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

// OpenForRead opens path for reading without blocking: a FIFO swapped in
// after the stat cannot hold the open, and the fstat that follows refuses
// it. O_NOCTTY keeps a terminal from becoming containerd's.
func OpenForRead(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
}
