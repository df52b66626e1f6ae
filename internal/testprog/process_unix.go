//go:build unix

package testprog

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// WaitDead waits until pid has exited, and fails t (killing pid) if it
// has not within five seconds.
func WaitDead(t *testing.T, pid int) {
	t.Helper()
	for range 250 {
		if !Alive(pid) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	t.Fatalf("the helper's child %d outlived the run", pid)
}

// Alive reports whether pid runs and is not a zombie.
func Alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	status, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	return err == nil && !strings.Contains(string(status), ") Z ")
}
