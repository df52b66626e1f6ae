package credentials

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/containerd/log"

	"github.com/nodecred/nodecred/internal/logs"
	"github.com/nodecred/nodecred/metrics"
)

// The most a credential file may hold. A larger file is not read: it keeps
// the last good contents, as a malformed one does. The bounds leave room
// for what the files hold in practice (a docker config with 10 000 hosts is
// 0.6 MB; a kubelet config names a few providers; a password, even a
// Google service account key, is a few KB) and bound the heap a read
// takes: see TestFileHeapBound and docs/config.md.
const (
	maxDockerConfigSize  = 1 << 20  // path, 1 MiB
	maxKubeletConfigSize = 64 << 10 // config, 64 KiB
	maxPasswordFileSize  = 64 << 10 // password_file, 64 KiB
)

// fileReadWait bounds how long a lookup waits for a changed file to be read
// and parsed. A regular file within the size bound takes milliseconds; only
// a stuck file system (a hung NFS or FUSE mount) takes longer. Then lookups
// serve the last good contents until the read returns.
const fileReadWait = 2 * time.Second

// reloadingFile keeps the parsed contents of a file and re-reads it when the
// file changes, checked by one stat per lookup. A rename over the file, a
// delete and recreate, an in-place write and a swap of the symlink the path
// goes through (a Kubernetes secret volume's ..data) all change the stat
// stamp.
//
//   - A missing file means no credentials from it, as with docker and the
//     kubelet: deleting the file revokes what it held.
//   - Only a regular file of at most limit bytes is read. A FIFO, a device,
//     a directory, a socket or a larger file keeps the last good contents,
//     as does a file that cannot be read or does not parse. Each is logged
//     once per change of the file, with the path and the reason.
//   - The read runs on its own goroutine with no lock held. The lookups that
//     see the change wait for it at most fileReadWait, and not past their
//     own context; later lookups serve the last good contents until it
//     returns. So a file never holds up a lookup for longer than that, and
//     one read at a time per file is in flight.
type reloadingFile[T any] struct {
	path   string
	limit  int64
	parse  func([]byte) (T, error)
	secret bool // warn when readable by group or others
	// wait is fileReadWait; tests change it.
	wait time.Duration
	// open opens the file for reading; tests replace it to hold a read.
	open func(path string) (*os.File, error)
	// replaced, when set, is told of each new value and the one it
	// replaced (the zero value when the file was missing), after the
	// swap; f.mu is held. Same contents are no new value.
	replaced func(old, new T)
	// dirs: the path may also be a directory, whose files readAll reads
	// (the kubelet's config directory).
	dirs    bool
	readAll func(open func(string) (*os.File, error), path string, limit int64) (fileStamp, []byte, error)

	state atomic.Pointer[fileState[T]] // nil until the first lookup

	mu      sync.Mutex // guards reading and the swap of state; never held over I/O
	reading *fileRead
}

// fileState is what a lookup serves, and the stamp it is for.
type fileState[T any] struct {
	stamp  fileStamp         // of the path when last looked at
	value  T                 // last good parse
	loaded bool              // value is set
	sum    [sha256.Size]byte // of the contents value was parsed from
}

// fileRead is a read in flight.
type fileRead struct {
	done     chan struct{}
	deadline time.Time // lookups stop waiting for it then
	late     atomic.Bool
}

type fileStamp struct {
	exists bool
	size   int64
	mtime  time.Time
	ino    uint64
	mode   fs.FileMode
	fault  string // why stat failed, other than a missing file
	dir    string // a directory's files, when dirs (see dirStamp)
}

func newReloadingFile[T any](path string, limit int64, secret bool, parse func([]byte) (T, error)) *reloadingFile[T] {
	return &reloadingFile[T]{path: path, limit: limit, parse: parse, secret: secret, wait: fileReadWait, open: openForRead, readAll: readRegular}
}

// stampOf stamps the path; a directory, when dirs, with its files.
func (f *reloadingFile[T]) stampOf(info fs.FileInfo, err error) fileStamp {
	st := stampOf(info, err)
	if f.dirs && err == nil && info.IsDir() {
		st.dir = dirStamp(f.path)
	}
	return st
}

// Load returns the last good value and whether there is one.
func (f *reloadingFile[T]) Load(ctx context.Context) (T, bool) {
	info, statErr := statFile(f.path)
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

// prime sets the contents from data, read from the file with stamp, as if
// a lookup had read them: for a file checked at startup.
func (f *reloadingFile[T]) prime(stamp fileStamp, data []byte) error {
	v, err := f.parse(data)
	if err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.state.Store(&fileState[T]{stamp: stamp, value: v, loaded: true, sum: sha256.Sum256(data)})
	return nil
}

// changed settles a stamp not seen before: what stat alone tells (missing,
// not a regular file, too large) at once, anything else by a read, which it
// starts unless one is in flight. It returns the read to wait for, if any.
func (f *reloadingFile[T]) changed(ctx context.Context, info fs.FileInfo, statErr error, stamp fileStamp) *fileRead {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.reading != nil {
		return f.reading
	}
	last := f.current()
	if f.state.Load() != nil && last.stamp == stamp {
		return nil // settled by another lookup meanwhile
	}
	logger := logs.G(ctx).WithField("path", f.path)
	if statErr != nil {
		f.settle(logger, stamp, statErr, last)
		return nil
	}
	if err := checkRegular(info, f.limit); err != nil && !(f.dirs && info.IsDir()) {
		f.settle(logger, stamp, err, last)
		return nil
	}
	if f.secret && info.Mode().Perm()&0o077 != 0 {
		logger.WithField("mode", info.Mode().Perm().String()).Warn("secret file is readable by group or others")
	}
	r := &fileRead{done: make(chan struct{}), deadline: time.Now().Add(f.wait)}
	f.reading = r
	// The read belongs to the file, not to this lookup: it goes on when
	// the lookup's context ends, and serves the lookups after it.
	go f.read(context.WithoutCancel(ctx), r, stamp)
	return r
}

// await waits for r until it is done, ctx ends or r's deadline passes.
func (f *reloadingFile[T]) await(ctx context.Context, r *fileRead) {
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
			logs.G(ctx).WithField("path", f.path).WithField("waited", f.wait.String()).
				Warn("credential file is slow to read, serving the last good contents until it is read")
		}
	}
}

// read reads and parses the file once, then publishes the result.
func (f *reloadingFile[T]) read(ctx context.Context, r *fileRead, stamp fileStamp) {
	logger := logs.G(ctx).WithField("path", f.path)
	got, data, err := f.readAll(f.open, f.path, f.limit)
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
			f.state.Store(&fileState[T]{stamp: stamp, value: last.value, loaded: true, sum: sum})
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
			stamp = fileStamp{} // removed since the stat
		}
		f.settle(logger, stamp, err, f.current())
		return
	}
	metrics.Reload(f.path, true)
	last := f.current()
	f.state.Store(&fileState[T]{stamp: stamp, value: v, loaded: true, sum: sum})
	if f.replaced != nil {
		f.replaced(last.value, v)
	}
	logger.Debug("loaded credential file")
}

// settle records a change that gave no new contents, and logs it once: a
// missing file revokes, anything else keeps the last good contents.
// f.mu is held.
func (f *reloadingFile[T]) settle(logger *log.Entry, stamp fileStamp, err error, last fileState[T]) {
	if errors.Is(err, fs.ErrNotExist) {
		f.state.Store(&fileState[T]{stamp: stamp})
		if last.loaded && f.replaced != nil {
			var zero T
			f.replaced(last.value, zero)
		}
		logger.WithField("revoked", last.loaded).Warn("credential file is missing, no credentials from it until it is back")
		return
	}
	f.state.Store(&fileState[T]{stamp: stamp, value: last.value, loaded: last.loaded, sum: last.sum})
	metrics.Reload(f.path, false)
	var pe *parseError
	var nr *notReadError
	switch {
	case errors.As(err, &pe):
		// Parse errors are built not to carry file contents.
		logger.WithError(pe.err).Warn("cannot parse credential file, keeping the last good contents")
	case errors.As(err, &nr):
		logger.WithField("reason", nr.reason).Warn("credential file not read, keeping the last good contents")
	default:
		logger.WithError(pathError(err)).Warn("cannot read credential file, keeping the last good contents")
	}
}

// current returns the state, or the zero state before the first lookup.
func (f *reloadingFile[T]) current() fileState[T] {
	if st := f.state.Load(); st != nil {
		return *st
	}
	return fileState[T]{}
}

// parseError is a file that was read but does not parse.
type parseError struct{ err error }

func (e *parseError) Error() string { return e.err.Error() }

// notReadError is a file that is not read: not a regular file, or too
// large. Its reason names what the file is, never what it holds.
type notReadError struct{ reason string }

func (e *notReadError) Error() string { return e.reason }

// checkRegular tells why a file is not read: "is a FIFO, not a regular
// file", "is 104857600 bytes, more than the limit of 1048576".
func checkRegular(info fs.FileInfo, limit int64) error {
	m := info.Mode()
	var what string
	switch {
	case m.IsRegular():
		if info.Size() > limit {
			return &notReadError{fmt.Sprintf("is %d bytes, more than the limit of %d", info.Size(), limit)}
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
		return &notReadError{"is " + what}
	}
	return &notReadError{"is " + what + ", not a regular file"}
}

// readRegular reads the regular file at path, of at most limit bytes, and
// returns its stamp. The file is opened only after stat has said it is a
// regular file (opening a device can do things), without blocking (so a
// FIFO put there since cannot hold the open), and checked again once open;
// at most limit+1 bytes are read, so a file that grows meanwhile cannot
// take more.
func readRegular(open func(string) (*os.File, error), path string, limit int64) (fileStamp, []byte, error) {
	stamp, data, err := readRegularOnce(open, path, limit)
	if errors.Is(err, fs.ErrNotExist) {
		stamp, data, err = readRegularOnce(open, path, limit) // see statFile
	}
	return stamp, data, err
}

// statFile stats path, following symlinks, and looks twice before it says
// the file is missing: a path that goes through two symlinks, as in a
// Kubernetes secret volume (auth.json -> ..data/auth.json, ..data ->
// ..2026_11_27...), can fail to resolve while the kubelet renames a new
// ..data over the old one and removes the old directory, though a file is
// there before and after.
func statFile(path string) (fs.FileInfo, error) {
	info, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		info, err = os.Stat(path)
	}
	return info, err
}

func readRegularOnce(open func(string) (*os.File, error), path string, limit int64) (fileStamp, []byte, error) {
	info, err := os.Stat(path)
	if err != nil {
		return fileStamp{}, nil, err
	}
	if err := checkRegular(info, limit); err != nil {
		return fileStamp{}, nil, err
	}
	fh, err := open(path)
	if err != nil {
		return fileStamp{}, nil, err
	}
	defer fh.Close()
	info, err = fh.Stat()
	if err != nil {
		return fileStamp{}, nil, err
	}
	if err := checkRegular(info, limit); err != nil {
		return fileStamp{}, nil, err
	}
	data, err := readAtMost(fh, info.Size(), limit)
	if err != nil {
		return fileStamp{}, nil, err
	}
	return stampOf(info, nil), data, nil
}

// checkFileAtStart checks a file named in the config when containerd
// starts: missing is fine (it may appear later, and means no credentials
// until it does); anything else must be a regular file within the size
// bound.
func checkFileAtStart(path string, limit int64) error {
	info, err := statFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("%q: %w", path, pathError(err))
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
			return nil, &notReadError{fmt.Sprintf("grew past the limit of %d bytes while it was read", limit)}
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

func stampOf(info fs.FileInfo, err error) fileStamp {
	if errors.Is(err, fs.ErrNotExist) {
		return fileStamp{}
	}
	if err != nil {
		// Told apart from missing, so that a file that goes from
		// unreadable to missing is revoked.
		return fileStamp{fault: pathError(err).Error()}
	}
	return fileStamp{exists: true, size: info.Size(), mtime: info.ModTime(), ino: inode(info), mode: info.Mode()}
}
