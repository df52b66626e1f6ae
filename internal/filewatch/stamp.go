/*
   Copyright The nodecred Authors.

   Licensed under the Apache License, Version 2.0 (the "License");
   you may not use this file except in compliance with the License.
   You may obtain a copy of the License at

       http://www.apache.org/licenses/LICENSE-2.0

   Unless required by applicable law or agreed to in writing, software
   distributed under the License is distributed on an "AS IS" BASIS,
   WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
   See the License for the specific language governing permissions and
   limitations under the License.
*/

package filewatch

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Stamp is what a stat says of a path, compared to tell a change: a
// rename over the file, a delete and recreate, an in-place write, a swap
// of a symlink on the way.
type Stamp struct {
	exists bool
	size   int64
	mtime  time.Time
	ino    uint64
	mode   fs.FileMode
	fault  string // why stat failed, other than a missing file
	dir    string // a directory's entries (see StampDir)
}

func stampOf(info fs.FileInfo, err error) Stamp {
	if errors.Is(err, fs.ErrNotExist) {
		return Stamp{}
	}
	if err != nil {
		// Told apart from missing, so that a file that goes from
		// unreadable to missing is revoked.
		return Stamp{fault: PathError(err).Error()}
	}
	return Stamp{exists: true, size: info.Size(), mtime: info.ModTime(), ino: inode(info), mode: info.Mode()}
}

// Stamp is what a stat says of a path: a change of it is a change of the
// file. It is comparable.

// StampDir stamps the directory dir, whose stat is info, with each of its
// entries that include accepts: its name and stat stamp. So a file added,
// removed, renamed or written in place changes it.
func StampDir(info fs.FileInfo, dir string, include func(fs.DirEntry) bool) Stamp {
	st := stampOf(info, nil)
	st.dir = dirStamp(dir, include)
	return st
}

// dirStamp describes the entries of dir that include accepts: each one's
// name and stat stamp.
func dirStamp(dir string, include func(fs.DirEntry) bool) string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "unreadable: " + PathError(err).Error()
	}
	var b strings.Builder
	for _, e := range entries {
		if !include(e) {
			continue
		}
		info, err := os.Stat(filepath.Join(dir, e.Name()))
		st := stampOf(info, err)
		fmt.Fprintf(&b, "%q %v %d %d %d %v %q\n", e.Name(), st.exists, st.size, st.mtime.UnixNano(), st.ino, st.mode, st.fault)
	}
	return b.String()
}

// PathError drops the operation and path from an *fs.PathError, which the
// caller names itself: "no such file or directory".
func PathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
