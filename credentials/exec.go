package credentials

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"syscall"
	"time"
)

const (
	// maxStdout bounds what a helper or provider may answer.
	maxStdout = 1 << 20
	// maxStderr bounds the stderr kept for the log.
	maxStderr = 4 << 10
	// defaultExecTimeout applies when a source sets no timeout.
	defaultExecTimeout = 10 * time.Second
)

// command is one run of a credential helper or provider.
type command struct {
	Path    string
	Args    []string
	Env     []string // the whole environment: nothing is inherited
	Stdin   []byte
	Timeout time.Duration
}

// runner runs commands: the seam where exec could be replaced. nodecred's
// own tests do not replace it; they run real helper and provider programs
// (test/programs).
type runner interface {
	Run(ctx context.Context, c command) (stdout, stderr []byte, err error)
}

// execRunner runs a command directly, with no shell, in its own process
// group, so that the timeout kills it and every child it started.
type execRunner struct{}

var errOutputTooLarge = fmt.Errorf("output larger than %d bytes", maxStdout)

func (execRunner) Run(ctx context.Context, c command) ([]byte, []byte, error) {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = defaultExecTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	cmd := exec.CommandContext(ctx, c.Path, c.Args...)
	cmd.Env = c.Env
	cmd.Stdin = bytes.NewReader(c.Stdin)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	// A child that keeps the pipes open must not hold Wait past the kill.
	cmd.WaitDelay = time.Second
	stdout := &boundedBuffer{limit: maxStdout, overflow: cancel}
	stderr := &boundedBuffer{limit: maxStderr}
	cmd.Stdout, cmd.Stderr = stdout, stderr

	err := cmd.Run()
	switch {
	case stdout.overflowed:
		return nil, stderr.Bytes(), errOutputTooLarge
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return nil, stderr.Bytes(), fmt.Errorf("timed out after %s", timeout)
	case err != nil:
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			// The exit status only: never the output, which may hold a secret.
			return stdout.Bytes(), stderr.Bytes(), errors.New(exitErr.ProcessState.String())
		}
		return nil, stderr.Bytes(), err
	}
	return stdout.Bytes(), stderr.Bytes(), nil
}

// boundedBuffer keeps at most limit bytes; past that it calls overflow and
// drops the rest. It has no ReadFrom, so io.Copy must go through Write.
type boundedBuffer struct {
	buf        bytes.Buffer
	limit      int
	overflow   func()
	overflowed bool
}

func (b *boundedBuffer) Bytes() []byte { return b.buf.Bytes() }

func (b *boundedBuffer) Write(p []byte) (int, error) {
	if room := b.limit - b.buf.Len(); len(p) > room {
		b.buf.Write(p[:max(room, 0)])
		if !b.overflowed && b.overflow != nil {
			b.overflow()
		}
		b.overflowed = true
		return len(p), nil
	}
	return b.buf.Write(p)
}

// execEnv is the small explicit environment helpers and providers run with:
// extra, then PATH and HOME from containerd's own environment.
func execEnv(extra ...string) []string {
	env := append([]string(nil), extra...)
	path := os.Getenv("PATH")
	if path == "" {
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	}
	env = append(env, "PATH="+path)
	if home := os.Getenv("HOME"); home != "" {
		env = append(env, "HOME="+home)
	}
	return env
}

// tokenLike matches runs that could be a secret: long unbroken strings of
// base64, hex, JWT or URL-safe characters.
var tokenLike = regexp.MustCompile(`[A-Za-z0-9+/=_.\-]{20,}`)

var whitespace = regexp.MustCompile(`\s+`)

// redactOutput makes a helper's stderr fit for a log line: one line, at
// most 256 bytes, with anything that looks like a token replaced.
func redactOutput(b []byte) string {
	s := string(bytes.TrimSpace(b))
	s = tokenLike.ReplaceAllString(s, redacted)
	s = whitespace.ReplaceAllString(s, " ")
	if len(s) > 256 {
		s = s[:256] + "…"
	}
	return s
}
