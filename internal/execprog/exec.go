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

// Package execprog runs credential programs (docker credential helpers and
// kubelet credential providers): with no shell, bounded output and a
// timeout, killing the program's whole process tree when it runs out, and
// refusing to start more runs of a program stuck in the kernel.
package execprog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"time"
)

const (
	// maxStdout bounds what a helper or provider may answer.
	maxStdout = 1 << 20
	// maxStderr bounds the stderr kept for the log.
	maxStderr = 4 << 10
	// DefaultTimeout applies when a source sets no timeout. It is the
	// kubelet's own bound for a credential provider run: the cloud programs
	// retry inside it (the AWS SDK's retries alone take several seconds
	// against an unreachable endpoint).
	DefaultTimeout = time.Minute
	// pipeGrace is how long the output pipes are drained after the program
	// has exited and its process group is killed. Only a process that left
	// the group (setsid) or was handed the pipe (SCM_RIGHTS) can still hold
	// them open then.
	pipeGrace = 200 * time.Millisecond
)

// Command is one run of a credential helper or provider.
type Command struct {
	Path    string        // the program, an absolute path
	Args    []string      // its arguments, without the program's name
	Env     []string      // the whole environment, as Env builds it
	Stdin   []byte        // what the program reads on stdin
	Timeout time.Duration // 0: DefaultTimeout
}

// reapWait bounds the wait for a killed program to exit. SIGKILL ends any
// process that can be ended within milliseconds; one still there after
// this is stuck in the kernel, and waiting longer would hold the pull.
var reapWait = 2 * time.Second

var errOutputTooLarge = fmt.Errorf("output larger than %d bytes", maxStdout)

// Run runs a command directly, with no shell, in its own process
// group. At timeout it kills the program and every process descended from
// it (setsid or not, see killTree), then waits at most reapWait for it to
// exit: a program that cannot be killed (stuck in the kernel on a hung NFS
// or FUSE mount, or frozen) fails the run as a timeout and is reaped in the
// background whenever it exits (see stuckRuns). When the program exits, it
// kills what is left of its process group, so a child that kept stdout open
// cannot hold back an answer the program already gave. No signal reaches a
// process that is neither the program nor its descendant.
//
// The program's stdout is bounded by maxStdout and its stderr by its last
// maxStderr bytes. A program that exits non-zero returns its output with
// an error naming the exit status: the caller redacts what it logs.
func Run(ctx context.Context, c Command) ([]byte, []byte, error) {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if err := stuck.check(c.Path); err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	// Pipes of our own rather than exec's copying goroutines: after the
	// program exits, its answer is read to the end without waiting for
	// children that inherited the write ends.
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, nil, err
	}
	defer outR.Close()
	errR, errW, err := os.Pipe()
	if err != nil {
		outW.Close()
		return nil, nil, err
	}
	defer errR.Close()

	cmd := exec.Command(c.Path, c.Args...)
	cmd.Env = c.Env
	cmd.Stdin = bytes.NewReader(c.Stdin)
	cmd.Stdout, cmd.Stderr = outW, errW
	cmd.WaitDelay = time.Second // bounds the stdin copy should a child hold stdin
	ownProcessGroup(cmd)
	err = cmd.Start()
	outW.Close()
	errW.Close()
	if err != nil {
		return nil, nil, err
	}

	stdout := &boundedBuffer{limit: maxStdout, overflow: cancel}
	stderr := &tailBuffer{limit: maxStderr}
	outDone, errDone := drain(outR, stdout), drain(errR, stderr)
	p := newOwnedProcess(cmd)
	waited := make(chan error, 1)
	go func() { waited <- p.wait() }()

	timedOut, unreaped := false, false
	select {
	case err = <-waited:
	case <-ctx.Done():
		// Decided here, not after the pipes are drained: a program that
		// answered just before its timeout has answered.
		timedOut = errors.Is(ctx.Err(), context.DeadlineExceeded)
		p.killTree()
		t := time.NewTimer(reapWait)
		select {
		case err = <-waited:
		case <-t.C:
			unreaped = true
			stuck.add(c.Path, waited)
		}
		t.Stop()
	}
	deadline := time.Now().Add(pipeGrace)
	if unreaped {
		deadline = time.Now() // the stuck program holds the pipes
	}
	_ = outR.SetReadDeadline(deadline)
	_ = errR.SetReadDeadline(deadline)
	<-outDone
	<-errDone

	switch {
	case unreaped:
		return nil, stderr.Bytes(), &stuckError{timeout: timeout, timedOut: timedOut}
	case stdout.overflowed:
		return nil, stderr.Bytes(), errOutputTooLarge
	case timedOut:
		return nil, stderr.Bytes(), fmt.Errorf("timed out after %s", timeout)
	case err != nil && !errors.Is(err, exec.ErrWaitDelay):
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			// The output goes back to the caller, which redacts what it logs.
			return stdout.Bytes(), stderr.Bytes(), errors.New(exitErr.ProcessState.String())
		}
		return nil, stderr.Bytes(), err
	}
	return stdout.Bytes(), stderr.Bytes(), nil
}

// drain copies r into w until EOF or r's read deadline. A process that
// still holds the pipe's write end then, outside the program's process
// group, is left alone: nodecred closes its end, and stops waiting.
func drain(r *os.File, w io.Writer) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(w, r)
		close(done)
	}()
	return done
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

// tailBuffer keeps the last limit bytes written to it: a program's reason
// for failing comes last, after whatever it logged before.
type tailBuffer struct {
	buf   []byte
	limit int
}

func (b *tailBuffer) Bytes() []byte { return b.buf }

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.limit; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
	}
	return len(p), nil
}

// Env is the environment a helper or provider runs with:
// containerd's own, overlaid by extra ("NAME=value", later wins). The
// docker CLI runs helpers with its whole environment, and the kubelet runs
// providers with its own overlaid by the config's env (mergeEnvVars,
// kubernetes issue 102750), so cloud programs configured through the
// daemon's environment (AWS_REGION, HTTPS_PROXY, GOOGLE_APPLICATION_CREDENTIALS,
// ...) work unchanged. os/exec keeps the last value of a repeated name.
func Env(extra []string) []string {
	return append(os.Environ(), extra...)
}
