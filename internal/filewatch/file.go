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

// Package filewatch keeps the parsed contents of a credential file and
// re-reads it when it changes, checked by a stat per lookup (a directory's
// entries for a config directory): a missing
// file revokes, anything that cannot be read or parsed keeps the last good
// contents, and no read holds up a lookup for long.
package filewatch

import (
	"context"
	"crypto/sha256"
	"errors"
	"io/fs"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/containerd/log"

	"github.com/nodecred/nodecred/internal/logs"
	"github.com/nodecred/nodecred/metrics"
)

// defaultWait bounds how long a lookup waits for a changed file to be read
// and parsed. A regular file within the size bound takes milliseconds; only
// a stuck file system (a hung NFS or FUSE mount) takes longer. Then lookups
// serve the last good contents until the read returns.
const defaultWait = 2 * time.Second

// File keeps the parsed contents of a file and re-reads it when the file
// changes, checked by a stat per lookup (and, with Dir set, a read of the
// directory and a stat per entry). A rename over the file, a delete
// and recreate, an in-place write and a swap of the symlink the path goes
// through (a Kubernetes secret volume's ..data) all change the stat stamp.
//
//   - A missing file means no credentials from it, as with docker and the
//     kubelet: deleting the file revokes what it held.
//   - Only a regular file of at most limit bytes is read. A FIFO, a device,
//     a directory, a socket or a larger file keeps the last good contents,
//     as does a file that cannot be read or does not parse. Each is logged
//     once per change of the file, with the path and the reason.
//   - The read runs on its own goroutine with no lock held. The lookups that
//     see the change wait for it at most Wait, and not past their own
//     context; later lookups serve the last good contents until it returns.
//     So a file never holds up a lookup for longer than that, and one read
//     at a time per file is in flight.
//
// Set the exported fields before the first Load.
type File[T any] struct {
	path   string
	limit  int64
	parse  func([]byte) (T, error)
	secret bool // warn when readable by group or others

	// Wait bounds how long a lookup waits for a changed file to be read;
	// New sets 2s.
	Wait time.Duration
	// Open opens the file for reading; New sets OpenForRead.
	Open func(path string) (*os.File, error)
	// Replaced, when set, is told of each new value and the one it
	// replaced (the zero value when the file was missing), after the
	// swap, with no new value swapped in meanwhile. Same contents are no
	// new value.
	Replaced func(old, new T)
	// Dir, when set, lets the path be a directory, which ReadAll reads:
	// the directory's stamp covers its entries that Dir accepts.
	Dir func(fs.DirEntry) bool
	// ReadAll reads the path and returns its stamp and contents; New sets
	// ReadRegular.
	ReadAll ReadFunc

	state atomic.Pointer[state[T]] // nil until the first lookup

	mu      sync.Mutex // guards reading and the swap of state; never held over I/O
	reading *inFlight
}

// ReadFunc reads path, opened with open, of at most limit bytes, and
// returns its stamp and contents.
type ReadFunc func(open func(string) (*os.File, error), path string, limit int64) (Stamp, []byte, error)

// state is what a lookup serves, and the stamp it is for.
type state[T any] struct {
	stamp  Stamp             // of the path when last looked at
	value  T                 // last good parse
	loaded bool              // value is set
	sum    [sha256.Size]byte // of the contents value was parsed from
}

// inFlight is a read in flight.
type inFlight struct {
	done     chan struct{}
	deadline time.Time // lookups stop waiting for it then
	late     atomic.Bool
}

// New returns a File for path, read when it is at most limit bytes and
// parsed by parse. A secret file is warned about when group or others may
// read it.
func New[T any](path string, limit int64, secret bool, parse func([]byte) (T, error)) *File[T] {
	return &File[T]{path: path, limit: limit, parse: parse, secret: secret, Wait: defaultWait, Open: OpenForRead, ReadAll: ReadRegular}
}

// stampOf stamps the path; a directory, when Dir is set, with its entries.
func (f *File[T]) stampOf(info fs.FileInfo, err error) Stamp {
	if f.Dir != nil && err == nil && info.IsDir() {
		return StampDir(info, f.path, f.Dir)
	}
	return stampOf(info, err)
}

// Load returns the file's value and whether there is one: after a stat, the
// value parsed from the file as it is now, reading it again if it changed
// (waiting at most Wait for that read); the last good value while the file
// cannot be read or parsed; none once the file is gone.
func (f *File[T]) Load(ctx context.Context) (T, bool) {
	info, statErr := Stat(f.path)
	stamp := f.stampOf(info, statErr)
	if st := f.state.Load(); st != nil && st.stamp == stamp {
		return st.value, st.loaded
	}
	if r := f.changed(ctx, info, statErr, stamp); r != nil {
		f.await(ctx, r)
	}
	st := f.current() // the zero state while the first read is still going
	return st.value, st.loaded
}

// Prime sets the contents from data, read from the file with stamp, as if
// a lookup had read them: for a file checked at startup.
func (f *File[T]) Prime(stamp Stamp, data []byte) error {
	v, err := f.parse(data)
	if err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.state.Store(&state[T]{stamp: stamp, value: v, loaded: true, sum: sha256.Sum256(data)})
	return nil
}

// Current returns the value the last lookup served, and whether there is
// one, without looking at the file.
func (f *File[T]) Current() (T, bool) {
	st := f.current()
	return st.value, st.loaded
}

// Locked calls fn with the current value while no new value can be
// swapped in.
func (f *File[T]) Locked(fn func(value T)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f.current().value)
}

// changed settles a stamp not seen before: what stat alone tells (missing,
// not a regular file, too large) at once, anything else by a read, which it
// starts unless one is in flight. It returns the read to wait for, if any.
func (f *File[T]) changed(ctx context.Context, info fs.FileInfo, statErr error, stamp Stamp) *inFlight {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.reading != nil {
		return f.reading
	}
	last := f.current()
	if f.state.Load() != nil && last.stamp == stamp {
		return nil // settled by another lookup meanwhile
	}
	logger := logs.With(ctx, log.Fields{"path": f.path})
	if statErr != nil {
		f.settle(logger, stamp, statErr, last)
		return nil
	}
	if err := checkRegular(info, f.limit); err != nil && !(f.Dir != nil && info.IsDir()) {
		f.settle(logger, stamp, err, last)
		return nil
	}
	if f.secret && info.Mode().Perm()&0o077 != 0 {
		logger.WithField("mode", info.Mode().Perm().String()).Warn("secret file is readable by group or others")
	}
	r := &inFlight{done: make(chan struct{}), deadline: time.Now().Add(f.Wait)}
	f.reading = r
	// The read belongs to the file, not to this lookup: it goes on when
	// the lookup's context ends, and serves the lookups after it.
	go f.read(context.WithoutCancel(ctx), r, stamp)
	return r
}

// await waits for r until it is done, ctx ends or r's deadline passes.
func (f *File[T]) await(ctx context.Context, r *inFlight) {
	wait := time.Until(r.deadline)
	if wait <= 0 {
		return
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-r.done:
	case <-ctx.Done():
	case <-t.C:
		if !r.late.Swap(true) {
			logs.With(ctx, log.Fields{"path": f.path, "waited": f.Wait.String(), "effect": "serving the last good contents until it is read"}).
				Warn("credential file is slow to read")
		}
	}
}

// read reads and parses the file once, then publishes the result.
func (f *File[T]) read(ctx context.Context, r *inFlight, stamp Stamp) {
	logger := logs.With(ctx, log.Fields{"path": f.path})
	got, data, err := f.ReadAll(f.Open, f.path, f.limit)
	var sum [sha256.Size]byte
	if err == nil {
		stamp, sum = got, sha256.Sum256(data)
		if last := f.current(); last.loaded && last.sum == sum {
			// Rewritten with the same contents (a touch, a config tool's
			// rewrite): nothing changes, caches and renewals included.
			f.mu.Lock()
			defer f.mu.Unlock()
			defer close(r.done)
			f.reading = nil
			f.state.Store(&state[T]{stamp: stamp, value: last.value, loaded: true, sum: sum})
			return
		}
	}
	var v T
	if err == nil {
		if v, err = f.parse(data); err != nil {
			err = &parseError{err}
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	defer close(r.done)
	f.reading = nil
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			stamp = Stamp{} // removed since the stat
		}
		f.settle(logger, stamp, err, f.current())
		return
	}
	metrics.Reload(f.path, true)
	last := f.current()
	f.state.Store(&state[T]{stamp: stamp, value: v, loaded: true, sum: sum})
	if f.Replaced != nil {
		f.Replaced(last.value, v)
	}
	logger.Debug("loaded credential file")
}

// settle records a change that gave no new contents, and logs it once: a
// missing file revokes, anything else keeps the last good contents.
// f.mu is held.
func (f *File[T]) settle(logger *log.Entry, stamp Stamp, err error, last state[T]) {
	if errors.Is(err, fs.ErrNotExist) {
		f.state.Store(&state[T]{stamp: stamp})
		if last.loaded && f.Replaced != nil {
			var zero T
			f.Replaced(last.value, zero)
		}
		logger.WithField("revoked", last.loaded).Warn("credential file is missing, no credentials from it until it is back")
		return
	}
	f.state.Store(&state[T]{stamp: stamp, value: last.value, loaded: last.loaded, sum: last.sum})
	metrics.Reload(f.path, false)
	var pe *parseError
	var nr *NotReadError
	switch {
	case errors.As(err, &pe):
		// Parse errors are built not to carry file contents.
		logger.WithError(pe.err).Warn("cannot parse credential file, keeping the last good contents")
	case errors.As(err, &nr):
		logger.WithField("reason", nr.Reason).Warn("credential file not read, keeping the last good contents")
	default:
		logger.WithError(PathError(err)).Warn("cannot read credential file, keeping the last good contents")
	}
}

// current returns the state, or the zero state before the first lookup.
func (f *File[T]) current() state[T] {
	if st := f.state.Load(); st != nil {
		return *st
	}
	return state[T]{}
}

// parseError is a file that was read but does not parse.
type parseError struct{ err error }

func (e *parseError) Error() string { return e.err.Error() }
