//go:build unix && !linux

package execprog

// awaitExit cannot wait without reaping here.
func awaitExit(int) bool { return false }

// killTree kills the program's process group while the program is not
// reaped; without /proc, children that left the group (setsid) are out of
// reach.
func (p *ownedProcess) killTree() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.reaped {
		killGroup(p.pid)
	}
}
