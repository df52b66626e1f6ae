//go:build !unix

package filewatch

import (
	"io/fs"
	"os"
)

func inode(fs.FileInfo) uint64 { return 0 }

// OpenForRead opens path for reading.
func OpenForRead(path string) (*os.File, error) { return os.Open(path) }
