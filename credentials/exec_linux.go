package credentials

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// killTree kills pid, its process group, and every process descended from
// it, including children that called setsid and so left the group. It
// stops the tree first, so that nothing forks or exits between the look
// and the kill, then walks parent links in /proc. A descendant whose parent
// had already exited before the timeout was reparented to init and is out
// of reach; it is still killed if it holds the program's output pipes (see
// killPipeHolders).
func killTree(pid int) {
	for _, p := range descendants(pid) {
		_ = syscall.Kill(p, syscall.SIGSTOP)
	}
	tree := descendants(pid)
	killGroup(pid)
	for _, p := range tree {
		_ = syscall.Kill(p, syscall.SIGKILL)
	}
}

// descendants returns root and every process below it, from /proc.
func descendants(root int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return []int{root}
	}
	children := map[int][]int{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid, ok := parentOf(pid); ok {
			children[ppid] = append(children[ppid], pid)
		}
	}
	tree := []int{root}
	for i := 0; i < len(tree); i++ {
		tree = append(tree, children[tree[i]]...)
	}
	return tree
}

// parentOf reads the parent pid from /proc/PID/stat: the fourth field,
// counted after the command name, which may itself hold spaces and ")".
func parentOf(pid int) (int, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, false
	}
	fields := strings.Fields(string(b[i+1:]))
	if len(fields) < 2 {
		return 0, false
	}
	ppid, err := strconv.Atoi(fields[1])
	return ppid, err == nil
}

// killPipeHolders kills every process that has one of pipes open: after
// the program exited and its group was killed, only a process that left the
// group can, and it would otherwise hold the pipe, and a process slot, for
// as long as it likes.
func killPipeHolders(pipes ...*os.File) {
	targets := map[string]bool{}
	for _, f := range pipes {
		var st syscall.Stat_t
		if syscall.Fstat(int(f.Fd()), &st) == nil {
			targets["pipe:["+strconv.FormatUint(st.Ino, 10)+"]"] = true
		}
	}
	self := os.Getpid()
	procs, _ := os.ReadDir("/proc")
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil || pid == self {
			continue
		}
		fdDir := "/proc/" + p.Name() + "/fd/"
		fds, _ := os.ReadDir(fdDir)
		for _, fd := range fds {
			if link, err := os.Readlink(fdDir + fd.Name()); err == nil && targets[link] {
				_ = syscall.Kill(pid, syscall.SIGKILL)
				break
			}
		}
	}
}
