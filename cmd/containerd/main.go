// Command containerd is containerd with its usual builtins plus nodecred.
// Distributions that build their own containerd add the same one import.
package main

import (
	"context"
	"fmt"
	"os"

	_ "github.com/containerd/containerd/v2/cmd/containerd/builtins"
	_ "github.com/nodecred/nodecred"

	"github.com/nodecred/nodecred/version"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "containerd:", err)
		os.Exit(1)
	}
}

// withNodecred appends nodecred's version to containerd's, as
// `containerd --version` prints it:
//
//	containerd github.com/containerd/containerd/v2 2.4.2+unknown nodecred/0.1.0
//
// containerd's own version stays the third field, where scripts read it.
// Only the command's version string changes: what containerd reports over
// its API (the CRI runtime version, `ctr version`) is containerd's own.
func withNodecred(containerdVersion string) string {
	return containerdVersion + " nodecred/" + version.Get()
}
