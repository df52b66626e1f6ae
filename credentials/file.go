package credentials

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"sync"
	"time"

	"github.com/containerd/log"

	"github.com/nodecred/nodecred/metrics"
)

// reloadingFile keeps the parsed contents of a file and re-reads it when the
// file changes, checked by one stat per lookup. A rename over the file, a
// delete and recreate and an in-place write all change the stat stamp. A
// file that is missing or fails to parse keeps the last good value and is
// logged once per change, so a bad edit never takes credentials away.
type reloadingFile[T any] struct {
	path   string
	parse  func([]byte) (T, error)
	secret bool // warn when readable by group or others

	mu     sync.Mutex
	tried  bool
	stamp  fileStamp // of the last read attempt
	value  T         // last good parse
	loaded bool
}

type fileStamp struct {
	exists bool
	size   int64
	mtime  time.Time
	ino    uint64
}

func newReloadingFile[T any](path string, secret bool, parse func([]byte) (T, error)) *reloadingFile[T] {
	return &reloadingFile[T]{path: path, parse: parse, secret: secret}
}

// Load returns the last good value and whether there is one.
func (f *reloadingFile[T]) Load(ctx context.Context) (T, bool) {
	info, statErr := os.Stat(f.path)
	stamp := stampOf(info, statErr)

	f.mu.Lock()
	defer f.mu.Unlock()
	if f.tried && f.stamp == stamp {
		return f.value, f.loaded
	}
	f.tried, f.stamp = true, stamp
	logger := log.G(ctx).WithField("path", f.path)
	if statErr != nil {
		if errors.Is(statErr, fs.ErrNotExist) {
			logger.WithField("kept_last_good", f.loaded).Warn("nodecred: credential file is missing")
		} else {
			logger.WithError(statErr).Warn("nodecred: cannot stat credential file")
		}
		return f.value, f.loaded
	}
	if f.secret && info.Mode().Perm()&0o077 != 0 {
		logger.WithField("mode", info.Mode().Perm().String()).Warn("nodecred: secret file is readable by group or others")
	}
	data, err := os.ReadFile(f.path)
	if err != nil {
		metrics.Reload(f.path, false)
		logger.WithError(err).Warn("nodecred: cannot read credential file, keeping the last good contents")
		return f.value, f.loaded
	}
	v, err := f.parse(data)
	if err != nil {
		metrics.Reload(f.path, false)
		// Parse errors are built not to carry file contents.
		logger.WithError(err).Warn("nodecred: cannot parse credential file, keeping the last good contents")
		return f.value, f.loaded
	}
	metrics.Reload(f.path, true)
	f.value, f.loaded = v, true
	logger.Debug("nodecred: loaded credential file")
	return f.value, true
}

func stampOf(info fs.FileInfo, err error) fileStamp {
	if err != nil {
		return fileStamp{}
	}
	return fileStamp{exists: true, size: info.Size(), mtime: info.ModTime(), ino: inode(info)}
}
