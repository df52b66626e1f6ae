package credentials

import (
	"errors"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/nodecred/nodecred/internal/redact"
)

// programError is a failed run of a helper or provider: how it ended and
// what it said about why, redacted. It never holds the program's answer.
type programError struct {
	// kind and program name the program where anyone may read it (a
	// pull's error, see Report): "helper" and the helper's file name, or
	// "provider" and the provider's name from its config.
	kind, program string
	// status is how the run ended: "exit status 1", "timed out after 1m0s",
	// "malformed response".
	status string
	// said is the reason the program gave on stdout, as the credential
	// helper protocol has helpers do, redacted.
	said string
	// stderr is the program's stderr, redacted.
	stderr string
	// reported is set once the failure has been logged: a cached failure
	// is returned to every lookup until it expires, and logged once.
	reported atomic.Bool
}

func (e *programError) Error() string {
	var b strings.Builder
	b.WriteString(e.status)
	if e.said != "" {
		b.WriteString(": ")
		b.WriteString(e.said)
	}
	if e.stderr != "" {
		b.WriteString(" (stderr: ")
		b.WriteString(e.stderr)
		b.WriteString(")")
	}
	return b.String()
}

// unreported reports whether err should be logged: true unless every
// programError in it has been logged already. It marks them logged.
func unreported(err error) bool {
	var fresh, any bool
	var walk func(error)
	walk = func(err error) {
		switch e := err.(type) {
		case *programError:
			any = true
			if e.reported.CompareAndSwap(false, true) {
				fresh = true
			}
		case interface{ Unwrap() []error }:
			for _, inner := range e.Unwrap() {
				walk(inner)
			}
		default:
			if inner := errors.Unwrap(err); inner != nil {
				walk(inner)
			}
		}
	}
	walk(err)
	return fresh || !any
}

// changeLog remembers the last reason it was told of, so that a reason that
// repeats on every lookup is logged once, and each change of it again.
type changeLog struct {
	mu   sync.Mutex
	last string
}

// changed records reason and reports whether it differs from the last one.
func (l *changeLog) changed(reason string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if reason == l.last {
		return false
	}
	l.last = reason
	return true
}

// maxStderrShown bounds the part of a program's stderr that is redacted into
// a log line, so that the line keeps its end.
const maxStderrShown = 400

// stderrReason returns the end of a program's stderr, redacted: its last
// lines, as many as fit in maxStderrShown bytes, or the end of a longer
// last line from a word boundary. klog and logrus programs
// (ecr-credential-provider, ecr-login) log info lines before the error.
func stderrReason(b []byte) string {
	s := strings.TrimRight(string(b), "\r\n\t ")
	if len(s) > maxStderrShown {
		s = s[len(s)-maxStderrShown:]
		if i := strings.IndexByte(s, '\n'); i >= 0 && i < len(s)-1 {
			s = s[i+1:]
		} else if i := strings.IndexByte(s, ' '); i >= 0 {
			s = "…" + s[i:] // a word cut in two could be part of a token
		}
	}
	return redact.String(s)
}
