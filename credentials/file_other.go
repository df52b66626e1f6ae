//go:build !unix

package credentials

import (
	"io/fs"
	"os"
)

func inode(fs.FileInfo) uint64 { return 0 }

func openForRead(path string) (*os.File, error) { return os.Open(path) }
