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
	"io"
	"io/fs"
	"os"
)

// NotReadError is a file that is not read: not a regular file, too large,
// or a directory whose files cannot be read. Its Reason names what the file
// is, never what it holds.
type NotReadError struct{ Reason string }

// Error returns the reason.
func (e *NotReadError) Error() string { return e.Reason }

// checkRegular tells why a file is not read: "is a FIFO, not a regular
// file", "is 104857600 bytes, more than the limit of 1048576".
func checkRegular(info fs.FileInfo, limit int64) error {
	m := info.Mode()
	var what string
	switch {
	case m.IsRegular():
		if info.Size() > limit {
			return &NotReadError{fmt.Sprintf("is %d bytes, more than the limit of %d", info.Size(), limit)}
		}
		return nil
	case m.IsDir():
		what = "a directory"
	case m&fs.ModeNamedPipe != 0:
		what = "a FIFO"
	case m&fs.ModeCharDevice != 0:
		what = "a character device"
	case m&fs.ModeDevice != 0:
		what = "a block device"
	case m&fs.ModeSocket != 0:
		what = "a socket"
	default:
		what = "not a regular file"
		return &NotReadError{"is " + what}
	}
	return &NotReadError{"is " + what + ", not a regular file"}
}

// ReadRegular reads the regular file at path, of at most limit bytes, and
// returns its stamp. The file is opened only after stat has said it is a
// regular file (opening a device can do things), without blocking (so a
// FIFO put there since cannot hold the open), and checked again once open;
// at most limit+1 bytes are read, so a file that grows meanwhile cannot
// take more.
func ReadRegular(open func(string) (*os.File, error), path string, limit int64) (Stamp, []byte, error) {
	stamp, data, err := readOnce(open, path, limit)
	if errors.Is(err, fs.ErrNotExist) {
		stamp, data, err = readOnce(open, path, limit) // see Stat
	}
	return stamp, data, err
}

// Stat stats path, following symlinks, and looks twice before it says
// the file is missing: a path that goes through two symlinks, as in a
// Kubernetes secret volume (auth.json -> ..data/auth.json, ..data ->
// ..2026_11_27...), can fail to resolve while the kubelet renames a new
// ..data over the old one and removes the old directory, though a file is
// there before and after.
func Stat(path string) (fs.FileInfo, error) {
	info, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		info, err = os.Stat(path)
	}
	return info, err
}

func readOnce(open func(string) (*os.File, error), path string, limit int64) (Stamp, []byte, error) {
	info, err := os.Stat(path)
	if err != nil {
		return Stamp{}, nil, err
	}
	if err := checkRegular(info, limit); err != nil {
		return Stamp{}, nil, err
	}
	fh, err := open(path)
	if err != nil {
		return Stamp{}, nil, err
	}
	defer fh.Close()
	info, err = fh.Stat()
	if err != nil {
		return Stamp{}, nil, err
	}
	if err := checkRegular(info, limit); err != nil {
		return Stamp{}, nil, err
	}
	data, err := readAtMost(fh, info.Size(), limit)
	if err != nil {
		return Stamp{}, nil, err
	}
	return stampOf(info, nil), data, nil
}

// CheckAtStart checks a file named in the config when containerd
// starts: missing is fine (it may appear later, and means no credentials
// until it does); anything else must be a regular file within the size
// bound.
func CheckAtStart(path string, limit int64) error {
	info, err := Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("%q: %w", path, PathError(err))
	}
	if err := checkRegular(info, limit); err != nil {
		return fmt.Errorf("%q %w", path, err)
	}
	return nil
}

// readAtMost reads r to its end into one buffer sized by sizeHint (a
// file's size; /proc files say 0 and hold more), and fails once it holds
// more than limit bytes, so no more than limit+1 bytes are ever held.
func readAtMost(r io.Reader, sizeHint, limit int64) ([]byte, error) {
	data := make([]byte, 0, min(max(sizeHint, 512), limit)+1)
	for {
		n, err := r.Read(data[len(data):cap(data)])
		data = data[:len(data)+n]
		if int64(len(data)) > limit {
			return nil, &NotReadError{fmt.Sprintf("grew past the limit of %d bytes while it was read", limit)}
		}
		if errors.Is(err, io.EOF) {
			return data, nil
		}
		if err != nil {
			return nil, err
		}
		if len(data) == cap(data) {
			grown := make([]byte, len(data), min(2*int64(cap(data)), limit+1))
			copy(grown, data)
			data = grown
		}
	}
}
